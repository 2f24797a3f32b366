"""Golden layer: the single customer view and the cross-channel timeline."""

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.partitions import LAST_LANDING_DAY_TAG
from cdp_pipeline.defs.resources import CdpSettings
from cdp_pipeline.defs.run_mode import RunMode
from cdp_pipeline.defs.table_metadata import table_metadata
from cdp_pipeline.lib.common.previews import markdown_table
from cdp_pipeline.lib.common.warehouse import table_exists
from cdp_pipeline.lib.golden.build import build_golden, golden_summary, latest_event_date
from cdp_pipeline.lib.golden.survivorship import load_survivorship_config
from cdp_pipeline.lib.staging.build import data_as_of

CUSTOMERS = dg.AssetKey(["golden", "customers"])
TIMELINE = dg.AssetKey(["golden", "customer_timeline"])
IDENTIFIER_CONSENT = dg.AssetKey(["golden", "identifier_consent"])

# Tables other layers write and the golden layer reads (contracts in docs/architecture.md).
STAGING_EVENT_TABLES = ["orders", "email_activity", "sms_messages", "web_events", "web_sessions", "consent_events"]
CUSTOMER_MAP = dg.AssetKey(["identity", "customer_map"])
IDENTITY_RECORDS = dg.AssetKey(["staging", "identity_records"])
EVENT_KEYS = [dg.AssetKey(["staging", t]) for t in STAGING_EVENT_TABLES]


def as_of_date_for_run(
    mode: RunMode,
    latest_event_day: Callable[[], date | None],
    latest_landing_day: Callable[[], date | None] = lambda: None,
    timezone: str = "UTC",
) -> tuple[date, str]:
    """The as-of date of a run and where it came from.

    A run launched by the schedule, the sensor or `cdp run` is computed as of its
    ``cdp/last_landing_day`` (the latest landed day, also when it loads an old one). A run of a
    partition or range launched from the UI (a backfill of old days) is computed as of its last
    day, or of the latest landing day loaded when that is later: going back to the old day drops
    every later event from the customer view and dates segments and exports that day (on the
    sample, the exports' blocking consent check then failed the run). A run naming no day (the
    UI's Materialize of golden, or of a layer, after a night) uses the latest landing day loaded,
    as the night that loaded it did and as identity reads it: the latest event can be a day later
    (a day's extract holds events of the early hours after it), and a rerun as of that day would
    count events the night left out and date segments and exports a day no files landed for.
    Without a ledger, the latest event date in staging; with no data at all, today in the business
    time zone ``timezone`` (as the segments' run date is), not the machine's.
    """
    if mode.as_of is not None and mode.as_of_tag == LAST_LANDING_DAY_TAG:
        return mode.as_of, f"run tag {mode.as_of_tag}"
    landed = latest_landing_day()  # not looked up when the run names its last landing day
    if mode.as_of is not None:
        if landed is not None and landed > mode.as_of:
            # A partition (range) of old days, backfilled from the UI: loaded again, but the night
            # stays as of the latest day loaded, as `cdp run --day` and the sensor keep it.
            return landed, f"latest landing day loaded (run tag {mode.as_of_tag} is {mode.as_of})"
        return mode.as_of, f"run tag {mode.as_of_tag}"
    if landed is not None:
        return landed, "latest landing day loaded"
    latest = latest_event_day()
    if latest is not None:
        return latest, "latest event in staging"
    return datetime.now(ZoneInfo(timezone)).date(), f"today in {timezone} (no events in staging)"


@dg.multi_asset(
    name="golden_tables",
    specs=[
        dg.AssetSpec(
            TIMELINE,
            group_name="golden",
            kinds={"duckdb"},
            deps=[CUSTOMER_MAP, *EVENT_KEYS],
            description="Every interaction of every known customer on every channel (orders, receipts, email, "
            "SMS in and out, web sessions and key events, consent changes), one row per staging event.",
        ),
        dg.AssetSpec(
            IDENTIFIER_CONSENT,
            group_name="golden",
            kinds={"duckdb"},
            deps=[dg.AssetKey(["staging", "consent_events"]), dg.AssetKey(["staging", "email_activity"])],
            description="The consent ledger: per email address and phone number, the consent signal that decides "
            "it (opt-in, unsubscribe, cleaning, bounce, STOP, ...), whatever customer carries it. A "
            "blocked identifier is never contactable nor exported.",
        ),
        dg.AssetSpec(
            CUSTOMERS,
            group_name="golden",
            kinds={"duckdb"},
            deps=[CUSTOMER_MAP, IDENTITY_RECORDS, *EVENT_KEYS, TIMELINE, IDENTIFIER_CONSENT],
            description="The single customer view: one row per customer with survived attributes and their "
            "provenance, all known identifiers, traits, RFM, consent and contactability as of the "
            "run's date.",
        ),
    ],
)
def golden_tables(context: dg.AssetExecutionContext, duckdb: DuckDBResource, settings: CdpSettings):
    mode = RunMode.of_run(context.run)
    with duckdb.get_connection() as con:
        as_of, origin = as_of_date_for_run(
            mode,
            lambda: latest_event_date(con, settings.timezone),
            lambda: data_as_of(con) if table_exists(con, "audit", "files") else None,
            settings.timezone,
        )
        build = build_golden(
            con,
            as_of,
            tz=settings.timezone,
            config=load_survivorship_config(settings.config_dir),
            full_refresh=mode.full_refresh,
            config_dir=settings.config_dir,
            currency=settings.currency,
        )
        if build.missing_inputs:
            context.log.warning(f"golden built without {', '.join(build.missing_inputs)} (tables do not exist yet)")
        built = golden_summary(con)
        tables = {key: table_metadata(con, key) for key in (TIMELINE, IDENTIFIER_CONSENT, CUSTOMERS)}
    channels, summary, ledger = built.channels, built.customers, built.ledger
    preview = markdown_table(*built.preview)
    context.log.info(
        f"golden as of {as_of} ({origin}): {summary['customers']:,} customers; {build.mode} build "
        f"({build.reason}): {build.customers_rebuilt:,} customers computed"
    )
    yield dg.MaterializeResult(
        asset_key=TIMELINE,
        metadata={
            **tables[TIMELINE],
            "rows": sum(n for _, n in channels),
            "rows_per_channel": dg.MetadataValue.md(markdown_table(["channel", "rows"], channels)),
            "as_of_date": as_of.isoformat(),
            "cutoff_utc": build.cutoff.isoformat(sep=" "),
            "build": build.mode,
            "build_reason": build.reason,
            "records_rebuilt": build.timeline_records_rebuilt,
        },
    )
    yield dg.MaterializeResult(
        asset_key=IDENTIFIER_CONSENT,
        metadata={
            **tables[IDENTIFIER_CONSENT],
            "rows": sum(r[1] for r in ledger[1]),
            "blocked": sum(r[2] for r in ledger[1]),
            "by_channel_and_reason": dg.MetadataValue.md(markdown_table(*ledger)),
            "cutoff_utc": build.cutoff.isoformat(sep=" "),
        },
    )
    yield dg.MaterializeResult(
        asset_key=CUSTOMERS,
        metadata={
            **tables[CUSTOMERS],
            "rows": summary["customers"],
            "as_of_date": as_of.isoformat(),
            "as_of_from": origin,
            "build": build.mode,
            "build_reason": build.reason,
            "customers_rebuilt": build.customers_rebuilt,
            "email_consent_granted": summary["email_consent_granted"],
            "email_consent_revoked": summary["email_consent_revoked"],
            "email_consent_unknown": summary["email_consent_unknown"],
            "sms_consent_granted": summary["sms_consent_granted"],
            "sms_consent_revoked": summary["sms_consent_revoked"],
            "sms_consent_unknown": summary["sms_consent_unknown"],
            "email_contactable": summary["email_contactable"],
            "sms_contactable": summary["sms_contactable"],
            "buyers": summary["buyers"],
            "total_spend": dg.MetadataValue.float(round(float(summary["total_spend"]), 2)),
            "missing_inputs": ", ".join(build.missing_inputs) or "none",
            "preview": dg.MetadataValue.md(preview),
        },
    )
