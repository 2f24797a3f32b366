"""The vendor-export tests' shared set-up: files dropped in one landing day, loaded and staged as
a night does, in a DuckDB file of the test's own."""

import shutil
from pathlib import Path

import duckdb

from cdp_pipeline.defs.staging.assets import SQL_DIR, STAGING_TABLES
from cdp_pipeline.lib.raw import load_partition
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.settings import get_settings


def staged_landing_day(tmp: Path, day: str, drops: dict[tuple[str, str], Path | str]) -> duckdb.DuckDBPyConnection:
    """``drops``: (source folder, file name) -> a file to copy there, or its text (UTF-8). The
    sources are loaded in the order they first appear, then every staging table is built."""
    landing = tmp / "landing"
    for (source, name), content in drops.items():
        folder = landing / source / day
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copy(content, folder / name)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    con = duckdb.connect(str(tmp / "b.duckdb"))
    for source in dict.fromkeys(source for source, _ in drops):
        load_partition(con, landing, source, day, suppression=set())
    build_staging(con)
    return con


def build_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Every staging table, from the raw tables as they are."""
    for table in STAGING_TABLES:
        build_staging_table(con, SQL_DIR, table, get_settings())


def q(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()
