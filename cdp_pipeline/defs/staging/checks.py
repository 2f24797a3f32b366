"""Checks on staging: keys are unique and nothing standardised silently lost its identity."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.lib.staging.accounting import sms_message_accounting, web_event_accounting

IDENTITY_RECORDS = dg.AssetKey(["staging", "identity_records"])


def _count(duckdb: DuckDBResource, sql: str) -> int:
    with duckdb.get_connection() as con:
        return int(con.execute(sql).fetchall()[0][0])


# Every staging table has a key that later layers join on; each gets a uniqueness check.
STAGING_KEYS: dict[str, tuple[str, ...]] = {
    "identity_records": ("source", "source_record_id"),
    "email_activity": ("activity_id",),
    "sms_messages": ("message_id",),
    "web_events": ("event_id",),
    "web_sessions": ("session_id",),
    "orders": ("order_id",),
    "order_lines": ("order_id", "line_no"),
    "consent_events": ("channel", "identifier", "event_time", "source", "reason", "source_record_id"),
}


def _key_check(table: str, key: tuple[str, ...]) -> dg.AssetChecksDefinition:
    cols = ", ".join(key)

    @dg.asset_check(
        asset=dg.AssetKey(["staging", table]),
        name="key_is_unique",
        blocking=True,
        description=f"({cols}) identifies one row: later layers join on it, duplicates would "
        "double-count events or records.",
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            rows, dupes, null_keys = con.execute(
                f"SELECT (SELECT count(*) FROM staging.{table}), "
                f"(SELECT count(*) FROM (SELECT {cols} FROM staging.{table} GROUP BY ALL HAVING count(*) > 1)), "
                f"(SELECT count(*) FROM staging.{table} WHERE {' OR '.join(f'{c} IS NULL' for c in key[:2])})"
            ).fetchall()[0]
        return dg.AssetCheckResult(
            passed=dupes == 0 and null_keys == 0,
            metadata={"rows": rows, "duplicated_keys": dupes, "null_keys": null_keys},
        )

    return _check


staging_key_checks = [_key_check(t, k) for t, k in STAGING_KEYS.items()]


@dg.asset_check(
    asset=IDENTITY_RECORDS,
    name="records_have_an_identifier",
    description="Share of records with no usable identifier or name (they cannot be linked).",
)
def records_have_an_identifier(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        total, bare = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE email IS NULL AND phone IS NULL AND loyalty_card_id IS NULL "
            "AND crm_customer_id IS NULL AND web_user_id IS NULL AND last_name_match IS NULL) "
            "FROM staging.identity_records"
        ).fetchall()[0]
        flags = con.execute(
            "SELECT flag, count(*) FROM (SELECT unnest(dq_flags) AS flag FROM staging.identity_records) "
            "GROUP BY flag ORDER BY flag"
        ).fetchall()
    share = bare / total if total else 0.0
    return dg.AssetCheckResult(
        passed=share <= 0.01,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"records": total, "without_identifier": bare, **{f"flag_{f}": n for f, n in flags}},
    )


@dg.asset_check(
    asset=dg.AssetKey(["staging", "consent_events"]),
    name="consent_states_valid",
    description="Every consent event is for a known channel with a granted/revoked state and a time.",
)
def consent_states_valid(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    bad = _count(
        duckdb,
        "SELECT count(*) FROM staging.consent_events WHERE channel NOT IN ('email', 'sms') "
        "OR state NOT IN ('granted', 'revoked') OR event_time IS NULL OR identifier IS NULL",
    )
    return dg.AssetCheckResult(passed=bad == 0, metadata={"invalid_events": bad})


@dg.asset_check(
    asset=dg.AssetKey(["staging", "sms_messages"]),
    name="every_message_accounted",
    description="Every raw SMS/WhatsApp row is a staged message (a redelivery counts once): none is "
    "lost between raw and staging, whatever its number or channel.",
)
def every_message_accounted(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        figures = sms_message_accounting(con)
    return dg.AssetCheckResult(passed=figures.get("missing", 0) == 0, metadata=figures)


@dg.asset_check(
    asset=dg.AssetKey(["staging", "web_events"]),
    name="every_event_accounted",
    description="Every raw GA4 row is a staged event (duplicates count once) or a consent-mode "
    "(cookieless) ping, counted but not attributed to anyone.",
)
def every_event_accounted(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        figures = web_event_accounting(con)
    return dg.AssetCheckResult(passed=figures.get("missing", 0) == 0, metadata=figures)
