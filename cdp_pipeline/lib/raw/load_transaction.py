"""The one transaction a source's load writes its batches of files in, committed once at its end.

Every commit that appends rows to a raw table leaves the table's last row group partly filled;
the next commit's rows fill it, and the closing checkpoint then rewrites that row group whole
(every column, compressed again). The load writes its pending files in batches of 256 MB (a
memory bound, ``load._PendingWrites``): committed one by one, the 1,000,000-customer landing's
five GA4 batches cost 0.7 CPU s in the closing checkpoint (and 1.4-2 s of the step's wall time,
the parse workers done) and left 17 MB of freed blocks in the file; in one transaction the
checkpoint has nothing to rewrite. DuckDB writes the transaction's rows to the database file,
compressed, whether or not the transaction has committed, as each row group fills (the load sets
``write_buffer_row_group_count`` to 1, ``load._load_settings``; by default DuckDB waits for five):
its uncommitted rows in memory stay at about a row group, so the transaction holds no more memory
for being long, nor for larger files, and its commit has at most a row group left to write.
Measured on the 1,000,000-customer landing's GA4 files before that setting (a web-only load,
``duckdb_memory()`` after each insert): the uncommitted rows peaked at ~0.33 GB with two threads
and ~0.43 GB with one (three and four row groups); with the same lines joined into files five
times larger, ~0.39 GB. With it, the whole raw step's peak RSS at 1M is 0.79-0.81 GB (1.02-1.11
before).

What is committed together is still a file's rows, quarantine rows and ledger entry (and a whole
source's files now, not 256 MB of them): a crash loses the load's uncommitted files, which the
ledger then does not hold, so a rerun loads them again (as before, for a batch).

One exception: a GA4 delivery that replaces rows this transaction inserted (a file too large to
be held back for it, ``held_deliveries.py``) commits first. DuckDB cannot keep row groups it
wrote straight to the file in a transaction that then deletes some of their rows: it appends
them again.

It also knows which GA4 events days raw holds rows of (``raw_events_days``): asked once a load,
then kept up to date by the load's inserts. A delivery of a day raw holds no rows of has nothing
to be replaced by or to replace, and the three statements that would find that out are skipped.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from cdp_pipeline.lib.common.sql_files import fetch_sql
from cdp_pipeline.lib.common.warehouse import OpenTransaction
from cdp_pipeline.lib.raw import ledger


class LoadTransaction(OpenTransaction):
    """The load's open transaction (``OpenTransaction``), which also knows the GA4 rows it inserted."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        super().__init__(con)
        # events day -> the delivery ranks (held_deliveries.delivery_rank) of the GA4 rows inserted
        self._web_ranks: dict[str, set[tuple[int, dt.date]]] = {}
        # events days raw.web_events may hold rows of, committed or not: read once, then every day
        # this load inserts rows of. Never fewer than raw holds (the load inserts GA4 rows only
        # through ``inserted_web_rows``); more after a delete (a day cleared, an older delivery
        # replaced), which only costs the statements it would have run anyway. Not cleared by a
        # commit or a rollback: a rollback leaves raw with fewer days, never more.
        self._raw_days: set[str] | None = None

    def commit(self) -> None:
        super().commit()
        self._web_ranks.clear()

    def rollback(self) -> None:
        super().rollback()
        self._web_ranks.clear()

    def inserted_web_rows(self, events_day: str, rank: tuple[int, dt.date]) -> None:
        self._web_ranks.setdefault(events_day, set()).add(rank)
        if self._raw_days is not None:
            self._raw_days.add(events_day)

    def raw_may_hold(self, events_day: str) -> bool:
        """False when raw.web_events holds no row of ``events_day`` (so no delivery of it to
        replace or be replaced by); one query for the load, at its first GA4 file."""
        if self._raw_days is None:
            self._raw_days = {r[0] for r in fetch_sql(self.con, ledger.SQL_DIR, "select_web_events_days")}
        return events_day in self._raw_days

    def before_replacing(self, events_day: str, rank: tuple[int, dt.date]) -> None:
        """Commit (and begin again) if a delivery of ``rank`` would delete rows of its events day
        that this transaction inserted (those of a lower rank)."""
        if any(r < rank for r in self._web_ranks.get(events_day, ())):
            self.commit()
            self.begin()
