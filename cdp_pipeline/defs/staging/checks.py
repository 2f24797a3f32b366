"""Checks on staging: keys are unique and nothing standardised silently lost its identity."""

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from cdp_pipeline.lib.common.remedies import remedy
from cdp_pipeline.lib.staging.accounting import sms_message_accounting, web_event_accounting

IDENTITY_RECORDS = dg.AssetKey(["staging", "identity_records"])

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


def key_is_unique(con: duckdb.DuckDBPyConnection, table: str) -> dg.AssetCheckResult:
    key = STAGING_KEYS[table]
    cols = ", ".join(key)
    # Equal keys have equal hashes, so a table whose key hashes are all different has no duplicated
    # key: grouping the 64-bit hashes costs less than grouping the key's strings. Only when two
    # hashes are equal (a duplicate, or a collision) are the keys themselves grouped and counted.
    rows, hash_dupes, null_keys = con.execute(
        f"SELECT (SELECT count(*) FROM staging.{table}), "
        f"(SELECT count(*) - count(DISTINCT hash({cols})) FROM staging.{table}), "
        f"(SELECT count(*) FROM staging.{table} WHERE {' OR '.join(f'{c} IS NULL' for c in key[:2])})"
    ).fetchall()[0]
    dupes = 0
    if hash_dupes:
        dupes = con.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM staging.{table} GROUP BY ALL HAVING count(*) > 1)"
        ).fetchall()[0][0]
    return dg.AssetCheckResult(
        passed=dupes == 0 and null_keys == 0,
        metadata={"rows": rows, "duplicated_keys": dupes, "null_keys": null_keys},
    )


def records_have_an_identifier(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
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


def values_read(con: duckdb.DuckDBPyConnection, table: str) -> dg.AssetCheckResult:
    """Rows of ``staging.<table>`` with a value written but not read (a total, a currency, a
    line's price or quantity, a time): kept, the value NULL, the reason in ``dq_flags``;
    counted per reason. A warning when more than 1% of the rows have one (a changed export
    format, more likely than a few mistyped values)."""
    total, flagged = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE len(dq_flags) > 0) FROM staging.{table}"
    ).fetchall()[0]
    flags = con.execute(
        f"SELECT flag, count(*) FROM (SELECT unnest(dq_flags) AS flag FROM staging.{table}) GROUP BY flag ORDER BY flag"
    ).fetchall()
    return dg.AssetCheckResult(
        passed=flagged <= 0.01 * total,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows": total, "flagged_rows": flagged, **{f"flag_{f}": n for f, n in flags}},
    )


def consent_states_valid(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    bad = con.execute(
        "SELECT count(*) FROM staging.consent_events WHERE channel NOT IN ('email', 'sms') "
        "OR state NOT IN ('granted', 'revoked') OR event_time IS NULL OR identifier IS NULL"
    ).fetchall()[0][0]
    return dg.AssetCheckResult(passed=bad == 0, metadata={"invalid_events": bad})


def every_message_accounted(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    figures = sms_message_accounting(con)
    return dg.AssetCheckResult(passed=figures.get("missing", 0) == 0, metadata=figures)


def every_event_accounted(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    figures = web_event_accounting(con)
    return dg.AssetCheckResult(passed=figures.get("missing", 0) == 0, metadata=figures)


# (table, check name) -> (what it verifies, blocking, the function that checks it on a connection)
STAGING_CHECKS = {
    **{
        (table, "key_is_unique"): (
            f"({', '.join(key)}) identifies one row: later layers join on it, duplicates would "
            "double-count events or records.",
            True,
            lambda con, table=table: key_is_unique(con, table),
        )
        for table, key in STAGING_KEYS.items()
    },
    ("identity_records", "records_have_an_identifier"): (
        "Share of records with no usable identifier or name (they cannot be linked).",
        False,
        records_have_an_identifier,
    ),
    ("orders", "order_values_read"): (
        "Orders with a total, currency, amount or time that could not be read: kept with the value "
        "NULL and the reason in dq_flags, counted per reason (warns above 1% of orders).",
        False,
        lambda con: values_read(con, "orders"),
    ),
    ("order_lines", "line_values_read"): (
        "Order lines with a quantity, unit price or discount that could not be read: kept with the "
        "value NULL and the reason in dq_flags, counted per reason (warns above 1% of lines).",
        False,
        lambda con: values_read(con, "order_lines"),
    ),
    ("consent_events", "consent_states_valid"): (
        "Every consent event is for a known channel with a granted/revoked state and a time.",
        False,
        consent_states_valid,
    ),
    ("sms_messages", "every_message_accounted"): (
        "Every raw SMS/WhatsApp row is a staged message (a redelivery counts once): none is "
        "lost between raw and staging, whatever its number or channel.",
        False,
        every_message_accounted,
    ),
    ("web_events", "every_event_accounted"): (
        "Every raw GA4 row is a staged event (duplicates count once) or a consent-mode "
        "(cookieless) ping, counted but not attributed to anyone.",
        False,
        every_event_accounted,
    ),
}


def _table_checks(table: str) -> dg.AssetChecksDefinition:
    """One step and one connection for a table's checks (a step of its own costs more in
    Dagster's bookkeeping than most of these queries); subsettable, so the UI still runs any one.
    One step per table, not one for all: a blocking check must run before the table's
    downstream, some of which are other staging tables, so Dagster would split a single
    all-table step into several ops named in an order that changes between processes (and with
    it the job's snapshot, so the UI would call every `cdp run` a different version)."""
    mine = {name: entry for (t, name), entry in STAGING_CHECKS.items() if t == table}
    asset = dg.AssetKey(["staging", table])

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec(name=name, asset=asset, description=description, blocking=blocking)
            for name, (description, blocking, _) in mine.items()
        ],
        name=f"staging_{table}_checks",
        can_subset=True,
    )
    def _checks(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource):
        selected = {key.name for key in context.selected_asset_check_keys}
        with duckdb.get_connection() as con:
            for name, (_, _, check) in mine.items():
                if name in selected:
                    r = check(con)
                    yield dg.AssetCheckResult(
                        asset_key=asset,
                        check_name=name,
                        passed=r.passed,
                        severity=r.severity,
                        metadata={**r.metadata, **remedy(name, r.passed)},
                    )

    return _checks


staging_checks = [_table_checks(table) for table in STAGING_KEYS]
