"""The build database (the pipeline's private working file) and the published copy analysts read.

One writer: only the pipeline opens the build file read-write. Analysts open the
published file, which ``publish_warehouse`` replaces atomically: a complete new file is
written beside it and renamed over it, so a reader holding the old file keeps a
complete old warehouse (POSIX keeps the old inode alive) and never blocks the night.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

LAYER_SCHEMAS = ("raw", "staging", "identity", "golden", "segments", "activation", "audit")

# DuckDB 2.x writes a storage format the 1.x CLI and drivers cannot open; analysts'
# tools are 1.x for a while yet, so the published copy is written in the 1.5 format.
PUBLISHED_STORAGE_VERSION = "v1.5.0"


def connect_build(path: Path, memory_limit: str = "4GB", threads: int = 2) -> duckdb.DuckDBPyConnection:
    """Read-write connection to the build database, with every layer's schema present."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config={"memory_limit": memory_limit, "threads": threads})
    ensure_schemas(con)
    return con


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    for schema in LAYER_SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: int
    rows: int
    bytes: int


def publish_warehouse(build_db: Path, published: Path, *, exclude_schemas: tuple[str, ...] = ()) -> PublishResult:
    """Copy the build database into a new file and atomically rename it over ``published``.

    The build file must not be open read-write elsewhere in this process' other
    connections with uncommitted work; we attach it read-only.
    """
    published = Path(published)
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{_sql_str(build_db)}' AS build (READ_ONLY)")
        con.execute(f"ATTACH '{_sql_str(tmp)}' AS pub (STORAGE_VERSION '{PUBLISHED_STORAGE_VERSION}')")
        con.execute("COPY FROM DATABASE build TO pub")
        for schema in exclude_schemas:
            con.execute(f"DROP SCHEMA IF EXISTS pub.{schema} CASCADE")
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'pub'"
        ).fetchall()
        rows = 0
        for schema, table in tables:
            rows += con.execute(f'SELECT count(*) FROM pub."{schema}"."{table}"').fetchall()[0][0]
        con.execute("CHECKPOINT pub")
        con.execute("DETACH pub")
        con.execute("DETACH build")
    except BaseException:
        con.close()
        for leftover in (tmp, Path(str(tmp) + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    con.close()
    os.chmod(tmp, 0o600)
    _fsync(tmp)
    os.replace(tmp, published)
    _fsync_dir(published.parent)
    return PublishResult(path=published, tables=len(tables), rows=rows, bytes=published.stat().st_size)


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
