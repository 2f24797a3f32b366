"""The publish layer's copy: what analysts open, replaced atomically.

Analysts open the published file, which ``publish_warehouse`` replaces: a complete new file is
written beside it and renamed over it, so a reader holding the old file keeps a complete old
warehouse (POSIX keeps the old inode alive) and never blocks the night. The file replaced is kept
as ``previous_path(published)`` (``lib/common/warehouse.py``) for ``cdp restore-previous``.
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.run_summary import table_row_counts
from cdp_pipeline.lib.common.sql_files import quote_literal
from cdp_pipeline.lib.common.warehouse import (
    PUBLISHED_STORAGE_VERSION,
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
    if keep_previous:
        _keep_previous(published)
    else:
        discard_previous(published)
    os.replace(tmp, published)
    fsync_path(published.parent)
    return PublishResult(
        path=published,
        tables=tables,
        rows=rows,
        bytes=published.stat().st_size,
        copy=copy,
        table_rows=tuple(table_rows),
    )


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
    os.replace(link, previous)


def restore_previous(published: Path) -> bool:
    """Put the previously published warehouse back in front of analysts (atomic); False if none.

    Only the published file changes: the build database, and so the next run, are untouched.
    """
    previous = previous_path(published)
    if not previous.exists():
        return False
    os.replace(previous, published)
    fsync_path(Path(published).parent)
    return True


def discard_previous(published: Path) -> bool:
    """Delete the previous copy (it still holds people erased since it was published)."""
    previous = previous_path(published)
    existed = previous.exists()
    previous.unlink(missing_ok=True)
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
