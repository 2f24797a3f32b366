"""``identity.anonymous_visitors``: web cookies never seen with a user_id, counted, never customers.

A step of its own (``defs/identity/assets.py``), not a part of the identity step: it reads
``staging.web_events`` only, and nothing of the linkage reads it. Apart, the identity step does
not wait for the web events' build (~3.5 s at 1M with its checks), which runs beside it instead
(``defs/executor.py``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import fetch_sql, quote_ident, run_sql
from cdp_pipeline.lib.common.warehouse import transaction

SQL_DIR = Path(__file__).parent / "sql"

# the web events' cookie column, by the name each web source gives it
COOKIE_COLUMNS = ("user_pseudo_id", "cookie")


def write_anonymous_visitors(con: duckdb.DuckDBPyConnection) -> int | None:
    """Replace ``identity.anonymous_visitors`` with the cookies of ``staging.web_events`` never seen
    with a user_id and their events; returns how many. None (and the table empty) when there are
    no web events with a cookie and a user_id column."""
    columns = {name for (name,) in fetch_sql(con, SQL_DIR, "select_web_events_columns")}
    cookie = next((c for c in COOKIE_COLUMNS if c in columns), None)
    with transaction(con):
        if cookie is None or "user_id" not in columns:
            run_sql(con, SQL_DIR, "create_anonymous_visitors_empty")
            return None
        run_sql(con, SQL_DIR, "create_anonymous_visitors", cookie=quote_ident(cookie))
    return fetch_sql(con, SQL_DIR, "count_anonymous_visitors")[0][0]
