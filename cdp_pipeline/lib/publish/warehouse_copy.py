"""The publish layer's copy: what analysts open, replaced atomically.

Analysts open the published file, which ``publish_warehouse`` replaces: a complete new file is
written beside it and renamed over it, so a reader holding the old file keeps a complete old
warehouse (POSIX keeps the old inode alive) and never blocks the night. The file replaced is kept
as ``previous_path(published)`` (``lib/common/warehouse.py``) for ``cdp restore-previous``.

Analysts must open the published file read-only. One opened read-write by mistake is the one
thing a publish cannot step around: the session's writes go to its write-ahead log
``<published>.wal``, named by path, which DuckDB would replay onto the new file (it refuses: "the
WAL checkpoint iteration does not match the database file", and nobody can open the warehouse).
So the swap holds the shared lock DuckDB's read-only opens take: it is refused while a session
has the file open read-write (``PublishedWarehouseInUse``, naming the process), and a
read-write open tried during the swap fails at once. A WAL left by such a session that ended
without folding it in (killed) is moved to the previous copy, the same file it belongs to.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.run_summary import table_row_counts
from cdp_pipeline.lib.common.sql_files import quote_literal
from cdp_pipeline.lib.common.warehouse import (
    PUBLISHED_STORAGE_VERSION,
    erasures_executed,
    fsync_path,
    logical_copy,
    pid_alive,
    previous_path,
)


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: int
    rows: int
    bytes: int
    copy: str = "bytes"  # "bytes" or "logical"
    # (schema, table, rows) of every table of the layer schemas, sorted, as read from the published file
    table_rows: tuple[tuple[str, str, int], ...] = ()
    # what became of a write-ahead log a read-write session left beside the replaced file ("" if none)
    stale_wal: str = ""


class PublishedWarehouseInUse(RuntimeError):
    """The published warehouse is open read-write: it cannot be replaced without breaking it."""


def publish_warehouse(
    build_db: Path,
    published: Path,
    *,
    exclude_schemas: tuple[str, ...] = (),
    keep_previous: bool = True,
    live_rows_only: bool = False,
    verify: Callable[[Path], None] | None = None,
) -> PublishResult:
    """Copy the build database into a new file and atomically rename it over ``published``.

    A byte copy when the build file is in the published storage format with an empty WAL (disk
    speed: 0.09 CPU s on the 10k sample); else, and always with ``live_rows_only``, a logical
    copy (``COPY FROM DATABASE`` into a fresh file, 1.2 CPU s), which leaves behind the rows
    deleted into the build file's free blocks. ``verify(path)`` is called on the finished new file
    before it replaces anything; raising stops the publish and leaves the published file as it was.

    The file replaced is kept as ``previous_path(published)`` when ``keep_previous``; else
    any previous copy is deleted (it would hold people erased since).

    The build file must not be open read-write elsewhere in this process' other
    connections with uncommitted work; we attach it read-only.
    """
    published = Path(published)
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    for leftover in (tmp, Path(str(tmp) + ".wal"), *_stale_temporary_files(published)):
        leftover.unlink(missing_ok=True)
    copy = "logical"
    try:
        if not (live_rows_only or exclude_schemas) and _in_published_format(build_db):
            shutil.copyfile(build_db, tmp)
            copy = "bytes"
        else:
            logical_copy(build_db, tmp, exclude_schemas)
        tables, rows, table_rows = _count_rows(tmp)
        os.chmod(tmp, 0o600)
        if verify is not None:
            verify(tmp)
    except BaseException:
        for leftover in (tmp, Path(str(tmp) + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    fsync_path(tmp)
    try:
        with no_writer(published):
            if keep_previous:
                _keep_previous(published)
            else:
                discard_previous(published)
            stale_wal = _set_aside_wal(published, keep_previous)
            os.replace(tmp, published)
    except BaseException:
        for leftover in (tmp, Path(str(tmp) + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    if stale_wal:
        stale_wal = _check_moved_wal(previous_path(published), stale_wal)
    fsync_path(published.parent)
    return PublishResult(
        path=published,
        tables=tables,
        rows=rows,
        bytes=published.stat().st_size,
        copy=copy,
        table_rows=tuple(table_rows),
        stale_wal=stale_wal,
    )


def erasures_in_published(published: Path) -> int | None:
    """Erasures the published warehouse records (0 if there is none yet); None if it cannot be
    opened, e.g. with a write-ahead log of another file beside it, which the publish sets aside."""
    try:
        return erasures_executed(Path(published))
    except duckdb.Error:
        return None


def wal_path(path: Path) -> Path:
    """DuckDB's write-ahead log of a database file: named by path, not tied to the file's inode."""
    return Path(str(path) + ".wal")


@contextmanager
def no_writer(published: Path) -> Iterator[None]:
    """Hold the shared lock DuckDB's read-only opens take on ``published`` (readers are not
    disturbed). Refused while a session has the file open read-write: ``PublishedWarehouseInUse``.

    A POSIX record lock, which the process loses when it closes any descriptor of the file:
    nothing in this process may open the published file while it is held."""
    try:
        fd = os.open(published, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        yield
        return
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            raise PublishedWarehouseInUse(
                f"{published} is open read-write by {_writer(fd)}: replacing it now would break what that "
                "session writes and leave its write-ahead log beside the new file. Analysts open the "
                "warehouse read-only (`duckdb -readonly`, `duckdb.connect(path, read_only=True)`). Tonight's "
                "tables are complete in the build database: close that session and run again (`cdp run`, or "
                "re-execute publish/warehouse in the UI); until then analysts keep the last published night."
            ) from exc
        yield
    finally:
        os.close(fd)


def _writer(fd: int) -> str:
    """The process holding the file's write lock, as `process 4242 (duckdb)`, from F_GETLK (Linux)."""
    try:
        probe = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        pid = struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, probe))[4]
    except (OSError, struct.error):
        return "another process"
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return f"process {pid}"
    return f"process {pid} ({name})"


def _set_aside_wal(published: Path, keep_previous: bool) -> str:
    """Move a write-ahead log left beside ``published`` out of the new file's way: to the previous
    copy, which is the same file (a hard link), else delete it. Returns what was done ("" if none)."""
    wal = wal_path(published)
    if not wal.exists():
        return ""
    previous = previous_path(published)
    if keep_previous and previous.exists():
        os.replace(wal, wal_path(previous))
        return f"moved to {wal_path(previous)}"
    wal.unlink()
    return "deleted (no previous copy is kept)"


def _check_moved_wal(previous: Path, note: str) -> str:
    """A log moved to the previous copy must open with it; one that does not (it was already stale,
    left beside an older file) is deleted so that the previous copy opens. Outside ``no_writer``:
    the previous copy is the replaced file, and opening it would drop that lock."""
    wal = wal_path(previous)
    if not wal.exists():
        return note
    try:
        duckdb.connect(str(previous), read_only=True).close()
    except duckdb.Error:
        wal.unlink(missing_ok=True)
        return "deleted (it matched no published file)"
    return note


def _in_published_format(build_db: Path) -> bool:
    """True when the build file can be published by copying its bytes."""
    wal = Path(str(build_db) + ".wal")
    if wal.exists() and wal.stat().st_size > 0:
        return False
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH {quote_literal(str(build_db))} AS build (READ_ONLY)")
        tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 'build'").fetchall()[0][0]
    finally:
        con.close()
    return str((tags or {}).get("storage_version", "")).startswith(PUBLISHED_STORAGE_VERSION)


def _count_rows(path: Path) -> tuple[int, int, list[tuple[str, str, int]]]:
    """(tables, rows) of a database file, and the rows of each table of the layer schemas
    (``table_row_counts``: the publish step reports them without opening the build file again);
    reading it back also proves it opens."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
        rows = sum(con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchall()[0][0] for s, t in tables)
        per_table = table_row_counts(con)
    finally:
        con.close()
    return len(tables), rows, per_table


def _keep_previous(published: Path) -> None:
    # A hard link to the file about to be replaced: no copy, and atomic like the publish.
    if not published.exists():
        return
    previous = previous_path(published)
    link = published.with_name(f".{previous.name}.{os.getpid()}.tmp")
    link.unlink(missing_ok=True)
    os.link(published, link)
    # a log beside the previous copy belonged to the copy being replaced
    wal_path(previous).unlink(missing_ok=True)
    os.replace(link, previous)


def restore_previous(published: Path) -> bool:
    """Put the previously published warehouse back in front of analysts (atomic); False if none.

    Only the published file changes: the build database, and so the next run, are untouched.
    """
    previous = previous_path(published)
    if not previous.exists():
        return False
    with no_writer(Path(published)):
        # each file's write-ahead log (left by a read-write session) goes with its file
        wal_path(published).unlink(missing_ok=True)
        os.replace(previous, published)
        if wal_path(previous).exists():
            os.replace(wal_path(previous), wal_path(published))
    fsync_path(Path(published).parent)
    return True


def discard_previous(published: Path) -> bool:
    """Delete the previous copy (it still holds people erased since it was published)."""
    previous = previous_path(published)
    existed = previous.exists()
    previous.unlink(missing_ok=True)
    wal_path(previous).unlink(missing_ok=True)
    return existed


def _stale_temporary_files(published: Path) -> list[Path]:
    """Temporary copies (and their WAL), and temporary links to the previous warehouse, left
    beside ``published`` by a publish that was killed: their process id names no living
    process. A live publisher's file is left alone."""
    stale = []
    for prefix in (f".{published.name}.", f".{previous_path(published).name}."):
        for p in published.parent.glob(f"{glob.escape(prefix)}*.tmp*"):
            pid = p.name[len(prefix) :].split(".", 1)[0]
            if not pid.isdigit() or not p.name.endswith((".tmp", ".tmp.wal")):
                continue
            if int(pid) != os.getpid() and not pid_alive(int(pid)):
                stale.append(p)
    return stale
