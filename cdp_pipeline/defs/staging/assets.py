"""Staging: typed, standardised rows every later layer can trust.

Each asset runs one ``.sql`` file over the raw tables with the standardisation
functions of ``lib/staging`` registered as DuckDB functions.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.defs.run_mode import RunMode
from cdp_pipeline.defs.table_metadata import table_metadata
from cdp_pipeline.lib.common.previews import table_preview
from cdp_pipeline.lib.staging.accounting import SQL_DIR
from cdp_pipeline.lib.staging.build import build_staging


def _raw(*tables: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(["raw", t]) for t in tables]


def _staging(*tables: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(["staging", t]) for t in tables]


# table -> (description, upstream asset keys)
STAGING_TABLES: dict[str, tuple[str, list[dg.AssetKey]]] = {
    "identity_records": (
        "One row per identity-bearing source record (latest version), with standardised names, "
        "email, E.164 phone, address, birth date, identifiers and data-quality flags.",
        _raw(
            "crm_customers",
            "esp_members",
            "sms_messages",
            "web_events",
            "pos_orders",
            "pos_receipts",
            "pos_square_items",
        ),
    ),
    "email_activity": (
        "ESP campaign opens, clicks and bounces, deduplicated, attached to the member record.",
        _raw("esp_activity") + _staging("identity_records"),
    ),
    "sms_messages": (
        "SMS messages in and out with the customer's E.164 number and STOP/START keyword.",
        _raw("sms_messages"),
    ),
    "web_events": ("GA4 events, deduplicated, attached to the user_id their cookie is seen with.", _raw("web_events")),
    "web_sessions": (
        "Web sessions (cookie + ga_session_id) with page views, carts and purchases.",
        _staging("web_events"),
    ),
    "orders": (
        "Online (Shopify) orders and store receipts (Square's too), one row per order, money as DECIMAL.",
        _raw("pos_orders", "pos_receipts", "pos_square_items") + _staging("identity_records"),
    ),
    "order_lines": (
        "Line items of online orders and store receipts.",
        _raw("pos_orders", "pos_receipts", "pos_square_items"),
    ),
    "consent_events": (
        "Every consent signal per channel: ESP status, SMS STOP/START, CRM flags, Shopify Accepts Marketing.",
        _raw("esp_members", "crm_customers") + _staging("sms_messages", "orders"),
    ),
}


def _make_asset(table: str, description: str, deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=["staging", table],
        group_name="staging",
        kinds={"duckdb"},
        deps=deps,
        description=description,
    )
    def _asset(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CdpSettings
    ) -> dg.MaterializeResult:
        with duckdb.get_connection() as con:
            rows, plan = build_staging(
                con, SQL_DIR, table, settings, full_refresh=RunMode.of_run(context.run).full_refresh
            )
            preview = table_preview(con, f"staging.{table}")
            standard = table_metadata(con, context.asset_key)
        built = {}
        if plan is not None:
            built = {
                "build": plan.mode,
                "records_rebuilt": plan.affected_records if plan.mode == "incremental" else rows,
            }
            context.log.info(f"staging.{table}: {plan.mode} build, {built['records_rebuilt']:,} records rebuilt")
        context.log.info(f"staging.{table}: {rows:,} rows")
        return dg.MaterializeResult(
            metadata={**standard, "rows": rows, **built, "preview": dg.MetadataValue.md(preview)}
        )

    return _asset


staging_assets = [_make_asset(t, d, deps) for t, (d, deps) in STAGING_TABLES.items()]
