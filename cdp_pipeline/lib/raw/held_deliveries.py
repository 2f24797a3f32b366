"""GA4 files whose rows wait for a later delivery of their events day in the same step.

A step knows its files before it writes any (``load_partitions`` lists every day first). A GA4
file that a later file of the step may replace (same events day, a higher rank: a daily export
over an intraday snapshot, else a later landing day) is held instead of written: if that later
file replaces the day, the held file's ledger entry is written as ``superseded``, exactly as
the update of ``update_superseded_web_files.sql`` leaves it, and its rows are never inserted
and deleted again; otherwise (the later file is rejected, a duplicate, or holds no row) its rows
and entry are written once nothing later can replace it, with the outcome they had written at
once. At 1,000,000 customers a quarter of the GA4 lines of a 30-day rebuild are such re-exports.

While a file is held, raw does not hold its rows: the check for a newer delivery
(``select_later_events_day_delivery.sql``) looks among the held files too, after raw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace

from cdp_pipeline.lib.raw.file_kinds import events_day_from_name, is_intraday_name


def delivery_rank(name: str, landing_date: dt.date) -> tuple[int, dt.date]:
    """The order ``select_later_events_day_delivery.sql`` ranks deliveries of one events day by:
    a daily export above an intraday snapshot, then the later landing day. ``name``: a file's
    name for the file being placed, its path for a file already placed (as the SQL reads ``_file``)."""
    return (0 if is_intraday_name(name) else 1, landing_date)


@dataclass(eq=False)
class Held:
    item: tuple  # (LandingFile, FileOutcome, ParsedFile) as _PendingWrites holds it
    events_day: str
    rank: tuple[int, dt.date]


class HeldDeliveries:
    """The step's GA4 files not written yet (``upcoming``) and the files held for them."""

    def __init__(self, files, max_bytes: int):
        # rel_path -> (events day, rank) of each GA4 file of the step, until it is placed
        self.upcoming: dict[str, tuple[str, tuple[int, dt.date]]] = {}
        for lf in files:
            day = events_day_from_name(lf.name) if lf.source == "web" else None
            if day is not None:
                self.upcoming[lf.rel_path] = (day, delivery_rank(lf.name, lf.landing_date))
        self.held: list[Held] = []
        self.max_bytes = max_bytes

    def placed(self, rel_path: str) -> None:
        """A file's turn has come (whatever became of it): it no longer replaces a held file later."""
        self.upcoming.pop(rel_path, None)

    def _awaited(self, events_day: str, rank: tuple) -> bool:
        return any(d == events_day and r > rank for d, r in self.upcoming.values())

    def hold(self, item, events_day: str) -> bool:
        """Hold a GA4 file about to be written if a later file of the step may replace it."""
        lf = item[0]
        rank = delivery_rank(lf.rel_path, lf.landing_date)
        if not self._awaited(events_day, rank):
            return False
        if sum(h.item[0].bytes for h in self.held) + lf.bytes > self.max_bytes:
            return False  # a memory bound: written now, replaced in raw as before
        self.held.append(Held(item, events_day, rank))
        return True

    def newer_than(self, events_day: str, rank: tuple) -> str | None:
        """A held file that outranks a delivery of ``events_day`` (its path), if any."""
        for h in self.held:
            if h.events_day == events_day and h.rank > rank:
                return h.item[0].rel_path
        return None

    def replaced_by(self, rel_path: str, events_day: str, rank: tuple) -> list:
        """The held files a delivery of ``rank`` replaces, marked superseded and no longer held."""
        replaced = [h for h in self.held if h.events_day == events_day and h.rank < rank]
        self.held = [h for h in self.held if not any(h is r for r in replaced)]
        for h in replaced:
            out = h.item[1]
            out.status = "superseded"
            out.message = f"events day {events_day} replaced by {rel_path}"
        return [h.item for h in replaced]

    def release(self, everything: bool) -> list:
        """The held files to write now, in the order they were held: those no later file of the
        step can replace any more, or all of them."""
        out = [h for h in self.held if everything or not self._awaited(h.events_day, h.rank)]
        self.held = [h for h in self.held if not any(h is o for o in out)]
        return [h.item for h in out]

    def items(self) -> list:
        return [h.item for h in self.held]


def likely_unwritten(files, max_bytes: int) -> frozenset[str]:
    """The paths of the GA4 files among ``files`` (a load's, in order) whose rows the load will
    not write if every file of it is loaded: those held and then replaced by a later file of the
    load (``HeldDeliveries``, with the same ``max_bytes``), and those an earlier file of the load
    outranks (superseded at once). Their lines need only be counted (``parse_pool``). A guess: a
    file rejected, a duplicate, one without rows, or a delivery in raw from an earlier night makes
    the load decide otherwise, and a file counted whose rows it then wants is parsed again."""
    held = HeldDeliveries(files, max_bytes)
    best: dict[str, tuple[int, dt.date]] = {}  # events day -> the highest rank placed (written or held)
    unwritten: set[str] = set()
    for lf in files:
        held.placed(lf.rel_path)
        day = events_day_from_name(lf.name) if lf.source == "web" else None
        if day is None:
            continue
        rank = delivery_rank(lf.rel_path, lf.landing_date)
        if day in best and best[day] > rank:
            unwritten.add(lf.rel_path)  # stale: superseded at once
            continue
        best[day] = rank
        unwritten.update(item[0].rel_path for item in held.replaced_by(lf.rel_path, day, rank))
        held.hold((lf, SimpleNamespace(), None), day)
        held.release(everything=False)  # (written: not counted)
    return frozenset(unwritten)
