"""Building the staging tables: raw rows through the standardisation functions, in SQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.warehouse import ensure_schemas, transaction
from cdp_pipeline.lib.raw.ledger import ensure_ingest_tables
from cdp_pipeline.lib.staging.phone_lookup import ensure_lookup
from cdp_pipeline.lib.staging.udfs import register_udfs
from cdp_pipeline.settings import Settings


def data_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest landing day loaded: the date the data describes (bounds birth dates, etc.).

    Using the data's own date rather than the wall clock keeps a rerun deterministic.
    """
    row = con.execute("SELECT max(landing_date) FROM audit.files WHERE status = 'loaded'").fetchall()
    value = row[0][0] if row else None
    return date.fromisoformat(str(value)[:10]) if value else None


def build_staging_table(
    con: duckdb.DuckDBPyConnection, sql_dir: Path, table: str, settings: Settings, *, full_refresh: bool = False
) -> int:
    """(Re)build ``staging.<table>`` from its ``create_<table>.sql`` (the view of its rows,
    ``staging_incremental.write_rows``); returns its row count."""
    return build_staging(con, sql_dir, table, settings, full_refresh=full_refresh)[0]


def build_staging(
    con: duckdb.DuckDBPyConnection, sql_dir: Path, table: str, settings: Settings, *, full_refresh: bool = False
):
    """``build_staging_table``, also returning how it was built (a ``StagingPlan``).
    ``identity_records`` is rebuilt only for the records the night's files touch unless
    ``full_refresh`` (``staging_incremental.KEYED_TABLES``: also ``orders``, ``order_lines``,
    ``sms_messages``, ``web_events``, ``email_activity`` and ``consent_events``);
    ``web_sessions``, made of every staged event, is made again and only its rows that differ
    written (``staging_incremental.derived_plan``; its plan's ``affected_records`` are those rows)."""
    from cdp_pipeline.lib.staging import incremental as staging_incremental

    ensure_schemas(con)
    ensure_ingest_tables(con)  # a source that has never delivered still has (empty) raw tables
    registered = []

    def functions() -> None:
        # registered when first needed: a night that finds nothing to do for the table skips
        # it (0.06-0.1 CPU s a step, mostly creating the macros)
        if not registered:
            register_udfs(
                con,
                settings.default_region,
                settings.timezone,
                as_of=data_as_of(con),
                default_currency=settings.currency,
            )
            registered.append(True)

    # the phones read on earlier nights (emptied when the code reading them changed)
    ensure_lookup(con, settings.default_region)
    keyed = table in staging_incremental.KEYED_TABLES
    normalising = staging_incremental.normaliser_settings(settings.default_region, settings.timezone, settings.currency)
    if keyed:
        plan = staging_incremental.plan(
            con, table, full_refresh=full_refresh, settings=normalising, functions=functions
        )
    else:
        plan = staging_incremental.derived_plan(con, table, full_refresh=full_refresh, settings=normalising)
    if staging_incremental.needs_functions(table, plan):
        functions()
    with transaction(con):
        if plan.mode == "incremental" and keyed:
            staging_incremental.build_incremental(con, sql_dir, table)
        elif plan.mode == "incremental":
            plan.affected_records = staging_incremental.build_synced(con, sql_dir, table)
        else:
            staging_incremental.build_whole(con, sql_dir, table)
            if keyed:
                staging_incremental.rebuild_index(con, table, normalising)
            else:
                staging_incremental.record_code(con, table, normalising)
    return int(con.execute(f"SELECT count(*) FROM staging.{table}").fetchall()[0][0]), plan
