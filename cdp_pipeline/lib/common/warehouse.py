"""The build database (the pipeline's private working file), as every layer uses it.

One writer: only the pipeline opens the build file read-write (``connect_build``); every layer
writes through ``transaction`` (or, for writes that span calls, ``OpenTransaction``) and checks
tables with ``table_exists``. What the build file and
the published copy share (the storage format, a logical copy of the live rows, ``previous_path``)
is here too; the publish itself (the atomic swap analysts see) is ``lib/publish/warehouse_copy.py``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import quote_literal

LAYER_SCHEMAS = ("raw", "staging", "identity", "golden", "segments", "activation", "audit")

# DuckDB 2.x writes a storage format the 1.x CLI and drivers cannot open; analysts'
# tools are 1.x for a while yet, so the published copy is written in the 1.5 format. The
# build database is created in that format too (BUILD_DB_CONFIG), so publish can copy its
# bytes. Its free blocks hold rows deleted since it was last rewritten; after an erasure the
# file is rewritten before publish (lib/audit/erase.rewrite_build_database), and a caller
# that cannot vouch for the free blocks asks for a logical copy (``live_rows_only``).
PUBLISHED_STORAGE_VERSION = "v1.5.0"
BUILD_DB_CONFIG = {"storage_compatibility_version": PUBLISHED_STORAGE_VERSION}


def connect_build(path: Path, memory_limit: str = "4GB", threads: int = 2) -> duckdb.DuckDBPyConnection:
    """Read-write connection to the build database, with every layer's schema present."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config={"memory_limit": memory_limit, "threads": threads, **BUILD_DB_CONFIG})
    ensure_schemas(con)
    return con


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    for schema in LAYER_SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All of the block's writes or none of them: ``with transaction(con): ...``.

    BEGIN on entry, COMMIT when the block ends; when the block (or the COMMIT) raises, also on
    KeyboardInterrupt, ROLLBACK and re-raise, so a reader never sees half a step.
    """
    con.execute("BEGIN")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


class OpenTransaction:
    """A transaction begun on the first write and kept open across calls until ``commit``: for a
    writer whose writes come from several places and must commit together (the raw load's
    batches, ``lib/raw/load_transaction.py``). ``rolled_back_on_error`` rolls it back when a block
    raises, KeyboardInterrupt too, as ``transaction`` does."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.open = False

    def begin(self) -> None:
        if not self.open:
            self.con.execute("BEGIN")
            self.open = True

    def commit(self) -> None:
        if self.open:
            self.con.execute("COMMIT")
            self.open = False

    def rollback(self) -> None:
        if self.open:
            self.open = False
            self.con.execute("ROLLBACK")

    @contextmanager
    def rolled_back_on_error(self):
        """Roll the open transaction back when the block raises (KeyboardInterrupt too)."""
        try:
            yield self
        except BaseException:
            self.rollback()
            raise


def rewrite_database(path: Path) -> int:
    """Rewrite a closed database file with its live rows only, in place and atomically; returns
    its new size in bytes.

    DuckDB's checkpoint (even a compacting one) leaves deleted rows' bytes in free blocks,
    which it reuses but does not clear: after an erasure the build file would still hold the
    person. A logical copy into a new file, renamed over the old one, leaves nothing behind.
    No connection may have the file open; its WAL must be empty (a clean close leaves none).
    """
    path = Path(path)
    wal = Path(str(path) + ".wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise RuntimeError(f"{path} has un-checkpointed changes in its WAL; open and close it first")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.rewrite.tmp")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        logical_copy(path, tmp, ())
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        fsync_path(tmp)
    except BaseException:
        for leftover in (tmp, Path(str(tmp) + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    wal.unlink(missing_ok=True)
    os.replace(tmp, path)
    fsync_path(path.parent)
    return path.stat().st_size


def logical_copy(source: Path, target: Path, exclude_schemas: tuple[str, ...]) -> None:
    """Copy the live rows of every table of ``source`` into the new file ``target`` (published format)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH {quote_literal(str(source))} AS build (READ_ONLY)")
        con.execute(f"ATTACH {quote_literal(str(target))} AS pub (STORAGE_VERSION '{PUBLISHED_STORAGE_VERSION}')")
        con.execute("COPY FROM DATABASE build TO pub")
        for schema in exclude_schemas:
            con.execute(f"DROP SCHEMA IF EXISTS pub.{schema} CASCADE")
        con.execute("CHECKPOINT pub")
    finally:
        con.close()


def previous_path(published: Path) -> Path:
    """Where the warehouse published before the current one is kept (``cdp.previous.duckdb``)."""
    published = Path(published)
    return published.with_name(f"{published.stem}.previous{published.suffix}")


def pid_alive(pid: int) -> bool:
    """True while a process with this id exists (also one owned by another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """A persistent table or view ``schema.table`` exists in the connection's database."""
    return bool(
        con.execute(
            """SELECT (SELECT count(*) FROM duckdb_tables() WHERE schema_name = $s AND table_name = $t AND NOT temporary
                                AND database_name = current_database())
                + (SELECT count(*) FROM duckdb_views() WHERE schema_name = $s AND view_name = $t AND NOT temporary
                                AND database_name = current_database())""",
            {"s": schema, "t": table},
        ).fetchall()[0][0]
    )


def row_hash_sql(columns: list[str], *, as_text: bool = True) -> str:
    """SQL for a 128-bit hash of ``columns`` (as VARCHAR): two of DuckDB's 64-bit ``hash()`` over
    the columns in opposite orders. Vectorised and an order of magnitude cheaper than
    ``md5(CAST(struct AS VARCHAR))``; state tables compare tonight's values with kept ones, so
    a DuckDB version that hashes differently only makes one night see everything as changed.
    ``as_text``: as VARCHAR (the type of the kept hash columns), else UHUGEINT."""
    cols = ", ".join(columns)
    back = ", ".join(reversed(columns))
    first, second = f"hash({cols})", f"hash({back}, 'cdp')"
    if as_text:  # hex, not a cast of the 128-bit number: DuckDB's UHUGEINT to text is ~100x slower
        return f"(hex({first}) || '-' || hex({second}))"
    return f"(({first})::UHUGEINT << 64 | {second})"


def erasures_executed(db: duckdb.DuckDBPyConnection | Path) -> int:
    """Rows of ``audit.erasure_log`` in a connection or a database file (0 if none or no file)."""
    if isinstance(db, duckdb.DuckDBPyConnection):
        con, close = db, False
    else:
        if not Path(db).exists():
            return 0
        con, close = duckdb.connect(str(db), read_only=True), True
    try:
        return int(con.execute("SELECT count(*) FROM audit.erasure_log").fetchall()[0][0])
    except duckdb.CatalogException:
        return 0
    finally:
        if close:
            con.close()


def fsync_path(path: Path) -> None:
    """Flush a file, or a directory's entries (so a rename survives a power cut), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
