"""Loading one source's landing days into raw: idempotent, the files' rows, quarantine rows and
ledger entries committed together (every day of a source's load in one transaction: see
``_PendingWrites`` and ``load_transaction.py``).

Rerunning a day first deletes that day's raw rows, ledger entries and quarantine rows
for the source (if the ledger holds any file of it), then loads every file again. A file whose bytes were already
delivered (same SHA-256, any name, any day) is recorded as ``duplicate`` and not
loaded again. GA4: a later delivery of ``events_<day>`` replaces the rows of earlier
deliveries of the same events day, whose ledger entries become ``superseded``; the files of one
events day in one landing folder are the shards of one delivery, and a day's complete
``events_<day>`` export replaces its ``events_intraday_<day>`` snapshots (a delivery that a later
file of the same source's load replaces is not written at all: ``held_deliveries.py``). A gzipped
file is read as the file it holds. The files may be read and parsed by worker processes while this
process writes them (``parse_pool.py``; one pool for every source of ``load_sources``): the same
outcome, file by file, in the same order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from cdp_pipeline.lib.audit.suppression import suppressed_hashes
from cdp_pipeline.lib.common.gc_pause import cyclic_gc_paused
from cdp_pipeline.lib.common.sql_files import fetch_sql, run_sql
from cdp_pipeline.lib.common.warehouse import transaction
from cdp_pipeline.lib.raw import ledger
from cdp_pipeline.lib.raw.file_kinds import SOURCE_TABLES, WEB_EVENTS, events_day_from_name, is_intraday_name
from cdp_pipeline.lib.raw.files import (
    LandingFile,
    RefusedPath,
    discover_files,
    read_landing_bytes,
    secret_files,
    with_bytes_read,
)
from cdp_pipeline.lib.raw.held_deliveries import HeldDeliveries, delivery_rank, likely_unwritten
from cdp_pipeline.lib.raw.load_transaction import LoadTransaction

# parse_file: parsed in parse.py (the workers import no DuckDB), importable from here as before
from cdp_pipeline.lib.raw.parse import parse_file as parse_file
from cdp_pipeline.lib.raw.parse import parse_or_reject
from cdp_pipeline.lib.raw.parse_pool import FileRead, FileReads, pool_size
from cdp_pipeline.lib.raw.parsed import (
    RAW_RECORD_MAX_CHARS,
    REASON_MAX_CHARS,
    FileRejected,
    ParsedFile,
    QuarantinedRow,
    as_arrow,
    cap_text,
)

_BATCH = "_cdp_ingest_batch"


@dataclass
class FileOutcome:
    """What happened to one delivered file (mirrors its ``audit.files`` row)."""

    file: LandingFile
    status: str
    file_kind: str | None = None
    table: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_suppressed: int = 0  # rows of erased people dropped at ingest (lib/audit)
    message: str | None = None
    quarantined: list[QuarantinedRow] = field(default_factory=list)


@dataclass
class PartitionOutcome:
    source: str
    landing_date: dt.date
    files: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files if f.status == "loaded")

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def clear_partition(con: duckdb.DuckDBPyConnection, source: str, landing_date: dt.date) -> None:
    """Delete a source's landing day from raw, the ledger and the quarantine (one transaction)."""
    params = {"landing_date": landing_date.isoformat()}
    with transaction(con):
        for table in SOURCE_TABLES[source]:
            run_sql(con, ledger.SQL_DIR, "delete_raw_partition", params, table=table)
        run_sql(con, ledger.SQL_DIR, "delete_files_partition", {**params, "source": source})
        run_sql(con, ledger.SQL_DIR, "delete_quarantine_partition", {**params, "source": source})


def load_partition(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    source: str,
    landing_date: dt.date | str,
    *,
    loaded_at: dt.datetime | None = None,
    suppression=None,
    settings=None,
    writes: _PendingWrites | None = None,
    reads: FileReads | None = None,
) -> PartitionOutcome:
    """Load every file of ``<landing>/<source>/<day>/`` into raw, replacing what the day held.
    Rows of erased people (``suppression``, by default the build database's list, read with the
    salt of ``settings``) are dropped; the salt in ``settings.data_dir`` is never read as a file.
    With ``writes`` (``load_partitions``) the files' rows may be written after this returns; with
    ``reads`` the day's files were handed to worker processes, which read and parse them."""
    day = dt.date.fromisoformat(landing_date) if isinstance(landing_date, str) else landing_date
    own = writes is None
    if own:
        writes = _PendingWrites(con, loaded_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    suppression = _suppression_list(con, settings, source, writes, suppression)
    # A day never loaded has nothing to clear: every raw and quarantine row of a source's day is
    # written in the transaction that writes its file's ledger entry (``_write_files``; a rejected
    # or duplicate file is an entry too), and an erasure deletes rows, never an entry. Three
    # DELETEs per source and day otherwise (0.7 s wall at 1,000,000 customers over 30 days).
    if _day_has_files(con, source, day, writes):
        if writes.pending_web_files():
            # a pending GA4 file, written later, must see this day's earlier delivery as it was
            writes.flush()
        writes.commit()  # the day is cleared in a transaction of its own
        clear_partition(con, source, day)
    secrets = secret_files(settings.data_dir) if settings is not None else frozenset()
    outcome = PartitionOutcome(source=source, landing_date=day)
    with contextlib.ExitStack() as stack:
        # with ``writes`` (``load_sources``) the caller's load settings and transaction hold: set
        # and read back for every day they were 0.3 of the writing process's ~9.5 CPU s at
        # 1,000,000 customers (150 days; load ~18)
        if own:
            stack.enter_context(_load_settings(con))
            stack.enter_context(writes.rolled_back_on_error())
        # with workers: the files as listed when they were handed out (one arriving since waits)
        files = discover_files(landing_dir, source, day) if reads is None else reads.files_of(source, day)
        for lf in files:
            read = reads.take(lf) if reads is not None else None
            outcome.files.append(load_file(con, lf, suppression=suppression, secrets=secrets, writes=writes, read=read))
        if own:
            writes.flush()
    return outcome


def _suppression_list(con: duckdb.DuckDBPyConnection, settings, source: str, writes: _PendingWrites, given=None):
    """``given``, or the build database's list of erased people (read with the salt of ``settings``),
    once the source's tables exist."""
    if source not in writes.ensured:  # once a step: 6 % of raw/pos_*' CPU time when per day
        ledger.ensure_ingest_tables(con, SOURCE_TABLES[source])
        writes.ensured.add(source)
    if given is not None:
        return given
    # before the day is cleared: without the settings it may refuse
    from cdp_pipeline.lib.audit.suppression import load_suppression_list

    return load_suppression_list(con, settings)


def _day_has_files(con: duckdb.DuckDBPyConnection, source: str, day: dt.date, writes: _PendingWrites) -> bool:
    return day in writes.ledger_days(source)


def load_partitions(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    source: str,
    landing_dates: list[dt.date | str],
    *,
    loaded_at: dt.datetime | None = None,
    settings=None,
    workers: int | None = None,
) -> list[PartitionOutcome]:
    """``load_partition`` for each day in turn, the files' rows written together (see
    ``_PendingWrites``); every file is in the ledger when this returns.

    The files of all the days are read and parsed by ``workers`` processes (by default
    ``settings.raw_parse_workers``; 1, or no settings: in this process) while this one writes
    them, in the same order and with the same result (``parse_pool.py``)."""
    ((_, outcomes),) = load_sources(
        con, landing_dir, [source], landing_dates, loaded_at=loaded_at, settings=settings, workers=workers
    )
    return outcomes


def load_sources(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    sources: list[str],
    landing_dates: list[dt.date | str],
    *,
    loaded_at: dt.datetime | None = None,
    settings=None,
    workers: int | None = None,
) -> Iterator[tuple[str, list[PartitionOutcome]]]:
    """``load_partitions`` of each source of ``sources`` in turn, yielding its outcomes once its
    files are written; one pool of parse workers reads and parses the files of every source, so
    that while a source is written (and the caller reports on the one before) the workers read on
    into the next. Each source is loaded exactly as alone: its days cleared and its files taken in
    order, its writes flushed before the next source's first file (a duplicate check of a later
    source sees them); ``loaded_at``, unless given, is when the source's load began."""
    if workers is None:
        workers = settings.raw_parse_workers if settings is not None else 1
    # a day twice would find its own pending files as first deliveries
    days = list(dict.fromkeys(dt.date.fromisoformat(d) if isinstance(d, str) else d for d in landing_dates))
    # listed before any day is loaded (the load reads the landing folders, never writes them) so that
    # the workers read on across days and sources: a GA4 day is one or two files
    files = [lf for source in sources for d in days for lf in discover_files(landing_dir, source, d)]
    pool = pool_size(files, workers)
    secrets = secret_files(settings.data_dir) if settings is not None else frozenset()
    # GA4 files the load will likely not write are only counted by the workers; not while someone
    # is erased (suppression drops rows, which takes their values)
    counted = (
        likely_unwritten(files, _PendingWrites.MAX_HELD_WEB_BYTES)
        if pool and not suppressed_hashes(con)
        else frozenset()
    )
    reading = FileReads(files, secrets, pool, counted) if pool else contextlib.nullcontext()
    with reading as reads:
        for source in sources:
            # the source's files: a GA4 file a later one of them may replace is held (held_deliveries.py)
            mine = [lf for lf in files if lf.source == source]
            writes = _PendingWrites(con, loaded_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), mine)
            # once a source, not once a day: the load writes no erasure
            suppression = _suppression_list(con, settings, source, writes)
            with _load_settings(con), writes.rolled_back_on_error():
                outcomes = [
                    load_partition(
                        con,
                        landing_dir,
                        source,
                        d,
                        suppression=suppression,
                        settings=settings,
                        writes=writes,
                        reads=reads,
                    )
                    for d in days
                ]
                writes.flush()
            yield source, outcomes


# DuckDB checkpoints when its write-ahead log passes checkpoint_threshold (16 MiB by default),
# and each checkpoint recompresses the table's last, partly filled row group. A GA4 day file
# is 9 MB at 100,000 customers: a checkpoint every other file, half of raw/web_events' CPU
# time (30 days: 12.6 s of 23.8 s; with this threshold 2.4 s plus 2.4 s at the step's closing
# checkpoint, peak RSS 1.28 GB instead of 0.86 GB). Committed rows are as durable either way
# (the log is on disk); only the rewrite into the database file waits.
_LOAD_CHECKPOINT_THRESHOLD = "1GB"


# The load writes with one DuckDB thread. Its rows come from parse workers that keep the other
# cores busy (``parse_pool.py``), and a second DuckDB thread only added its own coordination: at
# 1,000,000 customers the writing process 10.2-10.4 -> 8.2-8.4 CPU s (``raw_steps.py --one-step``,
# two pairs at load 12-16), raw/pos_* parsed in the process itself 4.7-4.8 -> 4.2-4.3; the same
# tables in the same row order.
_LOAD_THREADS = 1

# A transaction's appended rows are written to the database file (compressed) as each row group
# fills, not five row groups at a time (DuckDB's default ``write_buffer_row_group_count``): the
# rows left to write at a source's commit are at most a row group, not up to 614,400, so that work
# happens while the parse workers still parse instead of after them (raw/web_events' commit at
# 1,000,000 customers: 0.65 -> 0.08 CPU s), and the load holds at most about a row group of
# uncommitted rows in memory (``load_transaction.py``; the raw step's peak RSS at 1M 1.02-1.11 ->
# 0.79-0.81 GB). The same row groups, so the same tables and file (web_events alone: 2.2 -> 2.0
# CPU s to insert and commit its 1.18M rows in one thread, pos_receipts 1.10 -> 1.02).
_LOAD_WRITE_BUFFER_ROW_GROUPS = 1


@contextlib.contextmanager
def _load_settings(con: duckdb.DuckDBPyConnection):
    """Load with fewer automatic checkpoints, one DuckDB thread and each filled row group written
    at once; the database's own settings are back afterwards."""
    before = con.execute(
        "SELECT current_setting('checkpoint_threshold'), current_setting('threads'), "
        "current_setting('write_buffer_row_group_count')"
    ).fetchall()[0]
    con.execute(f"SET checkpoint_threshold = '{_LOAD_CHECKPOINT_THRESHOLD}'")
    con.execute(f"SET threads = {_LOAD_THREADS}")
    con.execute(f"SET write_buffer_row_group_count = {_LOAD_WRITE_BUFFER_ROW_GROUPS}")
    try:
        yield
    finally:
        con.execute(f"SET checkpoint_threshold = '{before[0]}'")
        con.execute(f"SET threads = {int(before[1])}")
        con.execute(f"SET write_buffer_row_group_count = {int(before[2])}")


def load_file(
    con: duckdb.DuckDBPyConnection,
    lf: LandingFile,
    *,
    loaded_at: dt.datetime | None = None,
    suppression=None,
    secrets: frozenset[tuple[int, int]] = frozenset(),
    writes: _PendingWrites | None = None,
    read: FileRead | None = None,
) -> FileOutcome:
    """Load one file: raw rows, quarantine rows and its ledger entry, in one transaction, or
    added to ``writes`` (stamped with its ``loaded_at``), which the caller flushes. ``read``:
    the file as a worker read and parsed it (``parse_pool``); else it is read and parsed here."""
    own = writes is None
    if own:
        writes = _PendingWrites(con, loaded_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    # A file's rows are a list or dict each: in a run the collector's passes also walk every
    # Dagster object, a third of a file's parse time for nothing.
    with cyclic_gc_paused(), writes.rolled_back_on_error() if own else contextlib.nullcontext():
        out = _load_file(con, lf, suppression=suppression, secrets=secrets, writes=writes, read=read)
        if own:
            writes.flush()
    return out


def _load_file(
    con: duckdb.DuckDBPyConnection,
    lf: LandingFile,
    *,
    suppression,
    secrets: frozenset[tuple[int, int]],
    writes: _PendingWrites,
    read: FileRead | None,
) -> FileOutcome:
    data = b""
    try:
        if read is None:
            # Read once: the SHA-256 in the ledger is of exactly the bytes parsed, even if the file
            # is rewritten while the night reads it.
            data = read_landing_bytes(lf, secrets)
        elif read.refused is not None:
            raise RefusedPath(read.refused)
    except RefusedPath as exc:
        reason = str(exc)
        out = FileOutcome(file=lf, status="rejected", message=reason, quarantined=[QuarantinedRow(None, reason, None)])  # type: ignore[arg-type]
        writes.add(lf, out, None)
        return out
    lf = with_bytes_read(lf, data) if read is None else read.lf
    if lf.bytes:
        # the first of the ledger's and the day's files not written yet
        found = (
            [tuple(r) for r in fetch_sql(con, ledger.SQL_DIR, "select_first_delivery", {"sha256": lf.sha256})]
            if writes.may_be_delivered(lf.sha256)
            else []
        )
        if pending := writes.first_delivery(lf.sha256):
            found.append(pending)
        if found:
            f_file, f_day, f_status = min(found, key=lambda f: (f[1], f[0]))
            out = FileOutcome(
                file=lf,
                status="duplicate",
                message=f"same bytes as {f_file} (landing date {f_day}, {f_status}); not loaded again",
            )
            writes.add(lf, out, None)
            return out
    parsed = parse_or_reject(lf.source, lf.name, data) if read is None else read.result(secrets)
    del data
    if isinstance(parsed, FileRejected):
        exc = parsed
        out = FileOutcome(
            file=lf,
            status="rejected",
            file_kind=exc.file_kind,
            encoding=exc.encoding,
            delimiter=exc.delimiter,
            message=exc.reason,
        )
        out.quarantined = [QuarantinedRow(None, exc.reason, exc.raw_record)]  # type: ignore[arg-type]
        writes.add(lf, out, None)
        return out

    kind = parsed.kind
    rows_read = parsed.rows_read
    suppressed = 0
    if suppression:
        from cdp_pipeline.lib.audit.suppression import drop_suppressed_rows

        if parsed.again is not None:  # counted only: the rows are dropped by their values
            parsed = parsed.again()
        suppressed = drop_suppressed_rows(parsed, suppression)
    out = FileOutcome(
        file=lf,
        status="loaded" if rows_read else "empty",
        file_kind=kind.name,
        table=kind.table,
        encoding=parsed.encoding,
        delimiter=parsed.delimiter,
        rows_read=rows_read,
        rows_loaded=parsed.rows_loaded,
        rows_quarantined=parsed.rows_quarantined,
        rows_suppressed=suppressed,
        quarantined=list(parsed.quarantined),
    )
    if out.status == "empty":
        out.message = "header only: no data rows"
    elif parsed.rows_loaded == 0 and not suppressed:
        out.message = "no row could be read; all rows are in audit.quarantine"
    if suppressed:
        out.message = f"{suppressed} row(s) of erased people suppressed (audit.suppression)"
    if parsed.notes and out.status == "loaded":
        out.message = "; ".join(([out.message] if out.message else []) + parsed.notes)
    writes.add(lf, out, parsed)
    return out


class _PendingWrites:
    """Files' outcomes, written to raw, the quarantine and the ledger together: one statement per
    table for many files (the days of a step) instead of a transaction and four statements per
    file, and the batches of a source's load in one transaction, committed by ``flush``
    (``load_transaction.py``). At 100,000 customers the per-file statements and commits were
    60 % of raw/pos_*' CPU time; and an insert of more than a row group (122,880 rows) goes
    straight to the database file, compressed, where smaller ones are written to the WAL at
    commit and again at the checkpoint: half the cost per row.

    A day is cleared (its own transaction, what was written before it committed first) before
    its files are read, and a rerun loads it again whole, so a crash before the commit loses
    nothing a per-file commit would have kept. GA4 files are written one after the other, each
    with its ledger entry: replacing an events day reads raw and the ledger as the earlier files
    left them. One GA4 file at 1,000,000
    customers is ~35,000 rows, under a row group: written in a transaction of its own (as before)
    each went through the WAL, its commit 26 % of raw/web_events' CPU time. A GA4 file a later file
    of the step may replace is held back (``held_deliveries.py``): a transaction that deletes rows
    it inserted cannot keep the row groups it wrote straight to the file."""

    # Written out once the pending files hold this many bytes: a memory bound (raw/pos_* at
    # 1,000,000 customers, 139 MB of files, peaks ~200 MB above 64 MB batches). A batch's rows go
    # to the file compressed, a row group at a time, without waiting for the commit; the batches
    # share the load's transaction, as each commit after a table's first would make the closing
    # checkpoint rewrite the row group the commit before it left partly filled
    # (``load_transaction.py``). A GA4 file is written as it comes: it is inserted on its own
    # anyway (placed in turn), and in the one transaction its rows fill row groups like a batch's.
    # Batched, its rows waited in memory (the 1M landing's web load alone peaked at ~1.1 GB with
    # 256 MB batches, ~0.77 GB without), and the last batch was written after the workers were done.
    MAX_PENDING_BYTES = 256 << 20
    # GA4 files held for a later delivery of their day (``held_deliveries.py``) at most: at
    # 1,000,000 customers a re-export lands 1-2 days (1-3 files of ~27 MB) after the file it replaces.
    MAX_HELD_WEB_BYTES = 256 << 20

    def __init__(self, con: duckdb.DuckDBPyConnection, loaded_at: dt.datetime, files: list[LandingFile] = ()):
        """``files``: the files the step will add, in order (GA4 files a later one may replace are held)."""
        self.con = con
        self.loaded_at = loaded_at
        self.items: list[tuple[LandingFile, FileOutcome, ParsedFile | None]] = []
        self.pending_bytes = 0
        self.ensured: set[str] = set()  # sources whose tables exist
        self.held = HeldDeliveries(files, self.MAX_HELD_WEB_BYTES)
        # the batches are written in one transaction, committed by ``flush`` (load_transaction.py)
        self.tx = LoadTransaction(con)
        # What the ledger held when first asked, and what was added since (``add``): a query per
        # file and per day otherwise, ~1 s of the writing process at 1,000,000 customers (435
        # files, 150 source days) for a ledger that holds none of them.
        self._delivered: set[str] | None = None
        self._days: dict[str, set[dt.date]] = {}

    def may_be_delivered(self, sha256: str) -> bool:
        """False when no file with these bytes is in the ledger (but as a duplicate) or added
        since: ``select_first_delivery.sql`` would find none."""
        if self._delivered is None:
            self._delivered = {r[0] for r in fetch_sql(self.con, ledger.SQL_DIR, "select_delivered_sha256")}
        return sha256 in self._delivered

    def ledger_days(self, source: str) -> set[dt.date]:
        """The landing days of ``source`` the ledger holds a file of, with the days added since
        (a day cleared since may still be among them: clearing it again deletes nothing)."""
        if source not in self._days:
            rows = fetch_sql(self.con, ledger.SQL_DIR, "select_days_with_files", {"source": source})
            self._days[source] = {r[0] for r in rows}
        return self._days[source]

    def add(self, lf: LandingFile, out: FileOutcome, parsed: ParsedFile | None) -> None:
        if self._delivered is not None and out.status != "duplicate":
            self._delivered.add(lf.sha256)
        if lf.source in self._days:
            self._days[lf.source].add(lf.landing_date)
        self.items.append((lf, out, parsed))
        self.pending_bytes += lf.bytes
        if self.pending_bytes >= self.MAX_PENDING_BYTES or (parsed is not None and parsed.kind is WEB_EVENTS):
            self._write(everything=False)

    def first_delivery(self, sha256: str) -> tuple[str, dt.date, str] | None:
        """The first pending or held file (``select_first_delivery``'s order) with these bytes."""
        found = [
            (lf.rel_path, lf.landing_date, out.status)
            for lf, out, _ in self.items + self.held.items()
            if lf.sha256 == sha256 and out.status != "duplicate"
        ]
        return min(found, key=lambda f: (f[1], f[0])) if found else None

    def pending_web_files(self) -> bool:
        return bool(self.held.held) or any(
            parsed is not None and parsed.kind is WEB_EVENTS for _, _, parsed in self.items
        )

    def flush(self) -> None:
        """Write every pending and held file, and commit what was written."""
        self._write(everything=True)
        self.tx.commit()

    def commit(self) -> None:
        """Commit the files written so far (pending files stay pending)."""
        self.tx.commit()

    def rolled_back_on_error(self):
        return self.tx.rolled_back_on_error()

    def _write(self, everything: bool) -> None:
        items, self.items, self.pending_bytes = self.items, [], 0
        if items or (everything and self.held.held):
            _write_files(self.con, items, self.loaded_at, self.held, everything, self.tx)


def _write_files(
    con: duckdb.DuckDBPyConnection,
    items: list[tuple[LandingFile, FileOutcome, ParsedFile | None]],
    loaded_at: dt.datetime,
    held: HeldDeliveries | None = None,
    everything: bool = True,
    tx: LoadTransaction | None = None,
) -> None:
    """Write files' raw rows, quarantine rows and ledger entries (a GA4 file's in order, each
    before the next file is placed: see ``_PendingWrites``); then the held GA4 files no later file
    can replace (``everything``: all of them). In ``tx``, left open (``load_transaction.py``), or
    in a transaction of their own."""
    held = held if held is not None else HeldDeliveries((), 0)
    own = tx is None
    tx = tx if tx is not None else LoadTransaction(con)
    raw: dict[str, list[pa.Table]] = {}
    params = {"loaded_at": loaded_at}
    with tx.rolled_back_on_error():
        tx.begin()
        rest = []
        for item in items:
            lf, out, parsed = item
            held.placed(lf.rel_path)
            if parsed is not None and parsed.kind is WEB_EVENTS:
                if parsed.rows_loaded and _replace_events_day(con, lf, out, held, params, tx):
                    if (day := events_day_from_name(lf.name)) and held.hold(item, day):
                        continue  # its rows and ledger entry wait for a later delivery of its day
                    _insert_web_rows(con, item, params, tx)
                _write_ledger(con, [item], params)
                continue
            rest.append(item)
            if parsed is not None and parsed.rows_loaded:
                raw.setdefault(parsed.kind.table, []).append(_raw_batch(lf, parsed))
        for item in held.release(everything):
            _insert_web_rows(con, item, params, tx)
            _write_ledger(con, [item], params)
        for table, batches in raw.items():
            batch = batches[0] if len(batches) == 1 else pa.concat_tables(batches, promote_options="default")
            _insert_batch(con, batch, "insert_raw_rows", params, table=table)
        if rest:
            _write_ledger(con, rest, params)
        if own:
            tx.commit()


def _insert_web_rows(con: duckdb.DuckDBPyConnection, item, params: dict, tx: LoadTransaction) -> None:
    lf, out, parsed = item
    if parsed.again is not None:  # a worker only counted it (parse_pool): its rows are wanted after all
        parsed = parsed.again()
        if (parsed.rows_loaded, parsed.quarantined) != (out.rows_loaded, out.quarantined):
            raise RuntimeError(f"{lf.rel_path} parsed whole does not give the rows it was counted with")
    _insert_batch(con, _raw_batch(lf, parsed), "insert_raw_rows", params, table=parsed.kind.table)
    if (day := events_day_from_name(lf.name)) is not None:
        tx.inserted_web_rows(day, delivery_rank(lf.name, lf.landing_date))


def _write_ledger(
    con: duckdb.DuckDBPyConnection, items: list[tuple[LandingFile, FileOutcome, ParsedFile | None]], params: dict
) -> None:
    """The quarantine rows and ledger entries of ``items``."""
    quarantined = [_quarantine_batch(lf, out) for lf, out, _ in items if out.quarantined]
    if quarantined:
        _insert_batch(con, pa.concat_tables(quarantined), "insert_quarantine_rows", params)
    _insert_batch(con, _ledger_batch(items), "insert_file_entries", params)


def _replace_events_day(
    con: duckdb.DuckDBPyConnection,
    lf: LandingFile,
    out: FileOutcome,
    held: HeldDeliveries,
    write_params: dict,
    tx: LoadTransaction,
) -> bool:
    """GA4 re-exports a day: the newest delivery of an events day wins. False if this one is stale.

    A delivery is every file of the events day in one landing folder (BigQuery writes a large
    day as shards ``events_<day>-000000000000.json.gz``, ``…-000000000001…``: they never
    replace each other). A daily export outranks any intraday snapshot of its day; between two
    deliveries of the same rank the later landing day wins. The held files (``held_deliveries.py``)
    count as in raw: a newer one makes this file stale, older ones it replaces get their ledger
    entries (superseded) here."""
    events_day = events_day_from_name(lf.name)
    if events_day is None:
        return True
    params = {
        "events_day": events_day,
        "landing_date": lf.landing_date.isoformat(),
        "intraday": is_intraday_name(lf.name),
    }
    rank = delivery_rank(lf.name, lf.landing_date)
    # A day raw holds no row of (every day of a first night) has no delivery in raw that is newer,
    # nor older ones to mark and delete: three statements per file skipped (0.35 CPU s of the
    # writing process over the 1,000,000-customer landing's GA4 files). The held files still count.
    in_raw_day = tx.raw_may_hold(events_day)
    in_raw = fetch_sql(con, ledger.SQL_DIR, "select_later_events_day_delivery", params) if in_raw_day else []
    newer = in_raw[0][0] if in_raw else held.newer_than(events_day, rank)
    if newer:
        out.status = "superseded"
        out.message = f"events day {events_day} replaced by {newer}"
        return False
    if in_raw_day:
        tx.before_replacing(events_day, rank)
        run_sql(con, ledger.SQL_DIR, "update_superseded_web_files", {**params, "file": lf.rel_path})
        run_sql(con, ledger.SQL_DIR, "delete_superseded_web_events", params)
    if replaced := held.replaced_by(lf.rel_path, events_day, rank):
        _write_ledger(con, replaced, write_params)
    return True


def _repeat(value, n: int, type: pa.DataType) -> pa.Array:
    return pa.repeat(pa.scalar(value, type), n)


def _repeated_text(value: str, n: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(_repeat(0, n, pa.int32()), pa.array([value], pa.string()))


def _raw_batch(lf: LandingFile, parsed: ParsedFile) -> pa.Table:
    arrays = {c: as_arrow(v, pa.string()) for c, v in parsed.columns.items()}
    arrays["_extra"] = as_arrow(parsed.extra, pa.string())
    arrays["_line"] = as_arrow(parsed.lines, pa.int64())
    n = parsed.rows_loaded
    # one value for every row: dictionary-encoded, so a step's pending rows do not hold the path
    # and the 64-character hash once per row
    arrays["_file"] = _repeated_text(lf.rel_path, n)
    arrays["_file_sha256"] = _repeated_text(lf.sha256, n)
    arrays["_landing_date"] = _repeat(lf.landing_date, n, pa.date32())
    return pa.table(arrays)


def _quarantine_batch(lf: LandingFile, out: FileOutcome) -> pa.Table:
    n = len(out.quarantined)
    return pa.table(
        {
            "line_number": pa.array([q.line_number for q in out.quarantined], type=pa.int64()),
            "reason": pa.array([cap_text(q.reason, REASON_MAX_CHARS) for q in out.quarantined], type=pa.string()),
            "raw_record": pa.array(
                [cap_text(q.raw_record, RAW_RECORD_MAX_CHARS) for q in out.quarantined], type=pa.string()
            ),
            "source": _repeat(lf.source, n, pa.string()),
            "file": _repeat(lf.rel_path, n, pa.string()),
            "landing_date": _repeat(lf.landing_date, n, pa.date32()),
            "file_sha256": _repeat(lf.sha256, n, pa.string()),
            "file_kind": _repeat(out.file_kind, n, pa.string()),
        }
    )


def _ledger_batch(items: list[tuple[LandingFile, FileOutcome, ParsedFile | None]]) -> pa.Table:
    """The ledger entries of ``items``, one row per file."""
    columns: dict[str, tuple[pa.DataType, list]] = {
        "file": (pa.string(), [lf.rel_path for lf, _, _ in items]),
        "source": (pa.string(), [lf.source for lf, _, _ in items]),
        "landing_date": (pa.date32(), [lf.landing_date for lf, _, _ in items]),
        "sha256": (pa.string(), [lf.sha256 for lf, _, _ in items]),
        "bytes": (pa.int64(), [lf.bytes for lf, _, _ in items]),
        "encoding": (pa.string(), [out.encoding for _, out, _ in items]),
        "delimiter": (pa.string(), [out.delimiter for _, out, _ in items]),
        "file_kind": (pa.string(), [out.file_kind for _, out, _ in items]),
        "rows_read": (pa.int64(), [out.rows_read for _, out, _ in items]),
        "rows_loaded": (pa.int64(), [out.rows_loaded for _, out, _ in items]),
        "rows_quarantined": (pa.int64(), [out.rows_quarantined for _, out, _ in items]),
        "rows_suppressed": (pa.int64(), [out.rows_suppressed for _, out, _ in items]),
        "status": (pa.string(), [out.status for _, out, _ in items]),
        "message": (pa.string(), [cap_text(out.message, REASON_MAX_CHARS) for _, out, _ in items]),
    }
    return pa.table({name: pa.array(values, type=t) for name, (t, values) in columns.items()})


def _insert_batch(con: duckdb.DuckDBPyConnection, batch: pa.Table, name: str, params: dict, **identifiers: str) -> None:
    """Run the ledger statement ``name`` over ``batch``, registered as the relation ``{batch}``:
    a stream of its record batches, each let go once read. DuckDB keeps a registered object alive
    until the transaction ends, unregistered or not: a table registered would keep every batch
    of a source's load in memory until its commit (``load_transaction.py``; at 1,000,000
    customers ~400 MB more, for GA4's files)."""
    con.register(_BATCH, _read_once(batch))
    try:
        run_sql(con, ledger.SQL_DIR, name, params, batch=_BATCH, **identifiers)
    finally:
        con.unregister(_BATCH)


def _read_once(table: pa.Table) -> pa.RecordBatchReader:
    """``table`` as a reader that holds none of its batches once they are read (nor the table)."""
    batches = table.to_batches()

    def read():
        while batches:
            yield batches.pop(0)

    return pa.RecordBatchReader.from_batches(table.schema, read())
