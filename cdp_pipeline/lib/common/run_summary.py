"""Row counts per layer: what a night built, for the terminal summary and audit.runs."""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.common.warehouse import LAYER_SCHEMAS


def table_row_counts(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every base table of the layer schemas, sorted."""
    where = "schema_name IN (SELECT unnest($schemas))"
    params: dict = {"schemas": list(LAYER_SCHEMAS)}
    if catalog:
        where += " AND database_name = $catalog"
        params["catalog"] = catalog
    else:
        where += " AND database_name = current_database()"
    tables = con.execute(
        f"SELECT database_name, schema_name, table_name FROM duckdb_tables() WHERE {where} "
        "ORDER BY schema_name, table_name",
        params,
    ).fetchall()
    out = []
    for db, schema, table in tables:
        n = con.execute(f'SELECT count(*) FROM "{db}"."{schema}"."{table}"').fetchall()[0][0]
        out.append((schema, table, int(n)))
    return out


def layer_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    totals: dict[str, int] = {s: 0 for s in LAYER_SCHEMAS}
    for schema, _, n in table_row_counts(con):
        totals[schema] += n
    return totals


def scalar_or_none(con: duckdb.DuckDBPyConnection, sql: str) -> int | None:
    """A count from a table that may not exist yet (a layer not built on this install)."""
    try:
        return int(con.execute(sql).fetchall()[0][0])
    except duckdb.CatalogException:
        return None


def night_warnings(con: duckdb.DuckDBPyConnection, first_day: str, last_day: str) -> list[str]:
    """Lines for the run summary: the landing days' files rejected or with rows quarantined, and per
    file that could not be read, the destinations it holds back on the run date and how to release it."""
    from cdp_pipeline.lib.activation.holds import SQL_DIR
    from cdp_pipeline.lib.common.sql_files import fetch_sql
    from cdp_pipeline.lib.raw import ledger

    lines: list[str] = []
    try:
        files = fetch_sql(con, ledger.SQL_DIR, "select_unread_files", {"first_day": first_day, "last_day": last_day})
    except duckdb.CatalogException:
        files = []
    for file, _, status, _, quarantined, message in files:
        lines.append(
            f"file rejected: {file}: {message}"
            if status == "rejected"
            else f"{quarantined:,} row(s) quarantined: {file}"
        )
    try:
        holds = fetch_sql(con, SQL_DIR, "select_export_holds_summary")
    except duckdb.CatalogException:
        holds = []
    for file, destinations, release in holds:
        lines.append(
            f"destinations held (files not refreshed): {', '.join(destinations)}, by {file}; to release: {release}"
        )
    return lines
