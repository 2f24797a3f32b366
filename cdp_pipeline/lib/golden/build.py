"""Build the golden layer: the consent ledger ``golden.identifier_consent``, ``golden.customer_timeline``
and ``golden.customers``, as of a date.

Everything is set-based SQL (no Python per customer): the survivorship statement is
generated from the YAML rules, the rest are the ``sql/`` files beside it.

A whole build runs them over every customer. An incremental build (``incremental.py`` says
when one is possible and which rows it must redo) runs the same statements over the
``identity.customer_map`` rows of the records and customers whose inputs changed: the
timeline rows of the changed records are replaced, and the golden rows of the changed
customers are computed and merged into ``golden.customers`` (a row whose survived attributes
or identifier lists changed is replaced; otherwise only its other columns that changed are
updated), and the consent ledger's rows of the identifiers whose signals changed are settled
again and replaced. What is relative to every buyer or to the date (RFM, days since the last
order, the as-of date) is computed from every row (``create_golden_ranks``): a whole build
stores it with its rows, an incremental one then sets it where it changed
(``update_golden_ranks``), so both give the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import fetch_sql, query_sql, quote_ident, run_sql
from cdp_pipeline.lib.golden import incremental
from cdp_pipeline.lib.golden.comments import apply_golden_comments
from cdp_pipeline.lib.golden.consent import (
    LEDGER_TABLE,
    build_identifier_consent,
    consent_params,
    consent_strengths,
    identifier_hashes,
    identifier_signals,
)
from cdp_pipeline.lib.golden.inputs import missing_inputs, resolve_inputs
from cdp_pipeline.lib.golden.survivorship import (
    AttributeRules,
    drop_group_tables,
    load_survivorship_config,
    run_survivorship,
)
from cdp_pipeline.lib.golden.timeline import build_timeline
from cdp_pipeline.lib.golden.traits import as_of_cutoff, build_traits

SQL_DIR = Path(__file__).parent / "sql"

_TEMP_TABLES = (
    "_golden_records",
    "_golden_profiles",
    "_golden_junk",
    "_golden_traits",
    "_golden_affected_profiles",
    "_golden_map_profiles",
    "_golden_consent_strengths",
    "_golden_consent_vetoes",
    "_golden_fresh",
    "_golden_replaced",
    "_golden_time_keys",
    "_golden_diff",
    "_golden_timeline_keys",
    "_golden_affected",
    "_golden_map_timeline",
    "_golden_map_customers",
    "_golden_identifier_consent",
    "_golden_ledger_changes",
    "_golden_ledger_keys",
    "_golden_identifier_hashes",
    "_golden_timeline_events",
    "_golden_ranks",
    "_golden_record_sources",
    "_golden_affected_timeline",
)
# The ledger the customer rows read: tonight's, whole (built whole or merged) before they are built.
_LEDGER = LEDGER_TABLE

# Columns create_golden_ranks computes from every row (stored with a whole build's rows, set by
# update_golden_ranks after an incremental one); the rest of a row depends on the customer's own inputs.
RANK_COLUMNS = ("days_since_last_order", "rfm_recency", "rfm_frequency", "rfm_monetary", "rfm_segment", "as_of_date")
# Of a kept profile (create_customer_profiles.sql, a customer whose records did not change), what
# the rest of the row is computed from (contactability), and record_count, updated like the rest
# of the row. Its other columns (survived attributes, identifier lists) are left NULL in
# temp._golden_fresh and never copied from it: they are what makes a row replaced.
_KEPT_PROFILE_COLUMNS = ("email", "phone", "record_count")
# The columns of create_customer_identifiers.sql besides customer_id, carried by the survived view.
_IDENTIFIER_COLUMNS = (
    "emails",
    "phones",
    "loyalty_card_ids",
    "crm_customer_ids",
    "web_user_ids",
    "cookies",
    "sources",
    "record_count",
)
# What create_golden_ranks reads of a whole build's rows (temp._golden_customer_rows: profiles
# LEFT JOIN traits), without the rest of those rows: the traits have a row per customer of the map,
# as the profiles do (and a whole build's profiles are a view, computed by golden.customers' statement).
_WHOLE_BUILD_RANK_INPUTS = "(SELECT customer_id, last_order_at, orders_count, total_spend FROM temp._golden_traits)"


@dataclass(frozen=True)
class GoldenBuild:
    as_of_date: date
    cutoff: datetime
    missing_inputs: list[str] = field(default_factory=list)
    mode: str = "full"  # "full" or "incremental"
    reason: str = ""  # why that mode
    customers_rebuilt: int = 0  # golden.customers rows computed tonight (the rest are kept)
    timeline_records_rebuilt: int = 0  # records whose timeline rows were redone (a whole build: all)


def latest_event_date(con: duckdb.DuckDBPyConnection, tz: str = "UTC") -> date | None:
    """Local date of the latest event in staging: the as-of date when a run names no day."""
    tables = resolve_inputs(con)
    parts = [
        f"SELECT max(ordered_at) AS t FROM {tables['orders']}",
        f"SELECT max(event_time) FROM {tables['email_activity']}",
        f"SELECT max(sent_at) FROM {tables['sms_messages']}",
        f"SELECT max(started_at) FROM {tables['web_sessions']}",
        f"SELECT max(event_time) FROM {tables['web_events']}",
        f"SELECT max(event_time) FROM {tables['consent_events']}",
        f"SELECT max(record_time) FROM {tables['identity_records']}",
    ]
    # The local date is taken in SQL and capped at the last representable day: a hostile
    # timestamp at the very end of year 9999 must not overflow Python's date.
    return con.execute(
        f"SELECT least(CAST(timezone($tz, max(t) AT TIME ZONE 'UTC') AS DATE), DATE '9999-12-31') "
        f"FROM ({' UNION ALL '.join(parts)})",
        {"tz": tz},
    ).fetchall()[0][0]


def _profiles(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, str],
    config,
    *,
    view: bool = False,
    config_dir: Path | None = None,
) -> None:
    """``temp._golden_profiles``: survived attributes and identifiers of every customer of
    ``tables['customer_map']`` (``temp._golden_records``: their records). With ``view``, a view
    the caller drops with ``_drop_profiles_view`` once it has read it."""
    run_sql(
        con,
        SQL_DIR,
        "create_customer_records",
        customer_map=tables["customer_map"],
        identity_records=tables["identity_records"],
        ledger=_LEDGER,
    )
    # The survived attributes as a view over the group tables: the profiles statement joins them as it
    # reads them, rather than a temp table of every customer's survived row written and read once (at 1M
    # records 2.45-2.50 CPU s against 2.59-2.72 for both statements; a whole build still passes at 600MB).
    try:
        # The view is driven by the customers' identifier lists (one row per customer), which it carries:
        # no DISTINCT of the records' customers and no join of the lists after (at 1M records the profiles statement
        # 2.02-2.31 -> 1.87-1.98 CPU s, with the one-value lists of create_customer_identifiers.sql).
        run_sql(con, SQL_DIR, "create_record_sources", records="temp._golden_records")
        run_sql(con, SQL_DIR, "create_customer_identifiers", records="_golden_records")
        run_survivorship(
            con,
            config,
            records="_golden_records",
            customers="_golden_customer_identifiers",
            target="_golden_survived",
            view=True,
            carry=_IDENTIFIER_COLUMNS,
            config_dir=config_dir,
        )
        run_sql(con, SQL_DIR, "create_customer_profiles", survived="_golden_survived", kind="VIEW" if view else "TABLE")
    finally:
        if not view:
            _drop_survived(con, config)


def _drop_survived(con: duckdb.DuckDBPyConnection, config) -> None:
    con.execute("DROP VIEW IF EXISTS temp._golden_survived")
    con.execute("DROP VIEW IF EXISTS temp._golden_customer_identifiers")
    drop_group_tables(con, config, "_golden_survived")


def _drop_profiles_view(con: duckdb.DuckDBPyConnection, config) -> None:
    con.execute("DROP VIEW IF EXISTS temp._golden_profiles")
    _drop_survived(con, config)


def _customer_rows(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, str],
    as_of_date: date,
    cutoff: datetime,
    records: str,
    timeline: str,
    target: str | None = None,
    tz: str = "UTC",
    currency: str = "SEK",
) -> None:
    """The golden row (rank columns NULL) of every customer of ``tables['customer_map']``, whose
    profiles are in ``temp._golden_profiles``: ``golden.customers``, or the temp table ``target``;
    its money traits in ``currency``."""
    # A whole build's temp._golden_records holds every record of these customers with its customer; an
    # incremental build's holds only those of the customers whose profile is redone.
    customer_records = (
        "temp._golden_records"
        if target is None
        else (
            f"(SELECT m.customer_id, r.email, r.phone, r.email_is_junk, r.phone_is_junk FROM {tables['customer_map']} AS m "
            f"JOIN {tables['identity_records']} AS r ON r.source = m.source AND r.source_record_id = m.source_record_id)"
        )
    )
    run_sql(con, SQL_DIR, "create_customer_junk", records=customer_records)
    build_traits(con, tables, as_of_date, cutoff, records=records, timeline=timeline, currency=currency)
    identifier_signals(con, tables)  # the ledger's input: an implied grant's own explicit history
    run_sql(
        con,
        SQL_DIR,
        "create_customer_consent_vetoes",
        consent_params(cutoff),
        records=customer_records,
        ledger=_LEDGER,
        strengths=consent_strengths(con),
    )
    run_sql(
        con,
        SQL_DIR,
        "create_golden_customer_rows",
        profiles="_golden_profiles",
        traits="_golden_traits",
        junk="_golden_junk",
        ledger=_LEDGER,
        vetoes="_golden_consent_vetoes",
    )
    if target:
        run_sql(con, SQL_DIR, "create_golden_customers_temp", target=target)
    else:
        # A whole build: every customer's row is here, so what is relative to every buyer is
        # computed from these rows' own values and stored with them (no update of every row after).
        run_sql(
            con,
            SQL_DIR,
            "create_golden_ranks",
            {"as_of_date": as_of_date, "tz": tz},
            customers=_WHOLE_BUILD_RANK_INPUTS,
        )
        _store_whole_customers(con)


def _zstd_column(name: str) -> bool:
    """golden.customers' strings that rarely repeat: stored with ZSTD rather than DuckDB's default
    for text (a dictionary with FSST), cheaper to write for about the same size."""
    return name in ("customer_id", "email", "phone", "street") or name.endswith("_source_record_id")


def _store_whole_customers(con: duckdb.DuckDBPyConnection) -> None:
    """A whole build's ``golden.customers``: made with the columns of the view it is filled from
    (``create_golden_customers_view.sql``, so the two cannot drift apart), some stored with ZSTD
    (``_zstd_column``: a compression is declared when a table is made). Inserted sorted although
    no reader relies on the order: the rows then fill whole row groups, which the closing
    checkpoint keeps; unsorted they came in partly filled ones, which its vacuum rewrote (at 1M
    records 1.1 CPU s against ~0.6 for the sort)."""
    run_sql(con, SQL_DIR, "create_golden_customers_view")
    columns = ", ".join(
        f"{quote_ident(name)} {data_type}{' USING COMPRESSION zstd' if _zstd_column(name) else ''}"
        for name, data_type, *_ in con.execute("DESCRIBE temp._golden_customers_whole").fetchall()
    )
    con.execute(f"CREATE OR REPLACE TABLE golden.customers ({columns})")
    con.execute("INSERT INTO golden.customers SELECT * FROM temp._golden_customers_whole ORDER BY customer_id")
    con.execute("DROP VIEW temp._golden_customers_whole")


def _ranks_current(con: duckdb.DuckDBPyConnection, as_of_date: date) -> bool:
    """Every golden row's rank columns were set as of ``as_of_date``: over the same rows, computing
    them again gives what they hold (they depend on the rows and the date alone)."""
    return fetch_sql(con, SQL_DIR, "select_rows_of_other_as_of_date", {"as_of_date": as_of_date})[0][0] == 0


def _build_whole(con, tables, config, as_of_date, cutoff, tz, config_dir, currency) -> None:
    build_timeline(con, tables, cutoff)
    # The profiles as a view: golden.customers' statement computes them as it reads them, once (at 1M records
    # profiles and golden.customers together ~0.2 CPU s less than with a temp table between them; the step's peak
    # RSS ~0.2 GiB more at a 4GB limit, and a 600MB limit still passes).
    try:
        _profiles(con, tables, config, view=True, config_dir=config_dir)
        _customer_rows(
            con, tables, as_of_date, cutoff, "_golden_records", "golden.customer_timeline", tz=tz, currency=currency
        )
    finally:
        _drop_profiles_view(con, config)


def _merge_customers(con: duckdb.DuckDBPyConnection) -> None:
    """Bring ``golden.customers`` to the rows of ``temp._golden_fresh`` for the affected customers:
    delete the customers gone, replace the rows whose profile changed (and add new customers),
    update the other columns of the rest where they changed. A kept profile (customers whose
    records did not change) is never copied: in ``temp._golden_fresh`` it is incomplete."""
    columns = [r[0] for r in con.execute("DESCRIBE golden.customers").fetchall()]
    # A row whose survived attributes or identifier lists changed is replaced rather than updated
    # (DuckDB updates many text or list columns of scattered rows slowly); these are rare.
    replaced = [
        r[0]
        for r in con.execute("DESCRIBE temp._golden_profiles").fetchall()
        if r[0] not in ("customer_id", "record_count")
    ]
    updated = [c for c in columns if c not in ("customer_id", *RANK_COLUMNS, *replaced)]

    def differ(cols) -> str:
        return f"({', '.join(f'g.{c}' for c in cols)}) IS DISTINCT FROM ({', '.join(f'f.{c}' for c in cols)})"

    # (only a customer whose records changed can have other survived attributes or identifiers)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _golden_replaced AS
                    SELECT f.customer_id FROM temp._golden_fresh AS f
                    SEMI JOIN temp._golden_affected_profiles USING (customer_id)
                    LEFT JOIN golden.customers AS g USING (customer_id)
                    WHERE g.customer_id IS NULL OR {differ(replaced)}""")
    # gone (no record left) or replaced
    con.execute("""DELETE FROM golden.customers
                   WHERE customer_id IN (SELECT customer_id FROM temp._golden_affected
                                         ANTI JOIN temp._golden_fresh USING (customer_id)
                                         UNION ALL
                                         SELECT customer_id FROM temp._golden_replaced)""")
    con.execute("""INSERT INTO golden.customers
                   SELECT * FROM temp._golden_fresh SEMI JOIN temp._golden_replaced USING (customer_id)
                   ORDER BY customer_id""")
    con.execute(f"""UPDATE golden.customers AS g SET {", ".join(f"{c} = f.{c}" for c in updated)}
                    FROM temp._golden_fresh AS f
                    WHERE g.customer_id = f.customer_id AND {differ(updated)}""")


def _build_incremental(con, tables, config, as_of_date, cutoff, config_dir, currency) -> None:
    # The timeline rows of the records to redo: deleted, then the same statement over their map rows.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _golden_map_timeline AS
                    SELECT * FROM {tables["customer_map"]}
                    WHERE hash(source, source_record_id) IN (SELECT record_key FROM temp._golden_timeline_keys)""")
    con.execute("""DELETE FROM golden.customer_timeline
                   WHERE hash(source, source_record_id) IN (SELECT record_key FROM temp._golden_timeline_keys)""")
    build_timeline(con, {**tables, "customer_map": "_golden_map_timeline"}, cutoff, insert=True)
    # The profiles of the customers whose records changed. The other customers to redo keep
    # theirs: of it, the rows below need only what the other columns are computed from.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _golden_map_profiles AS
                    SELECT * FROM {tables["customer_map"]}
                    SEMI JOIN temp._golden_affected_profiles USING (customer_id)""")
    _profiles(con, {**tables, "customer_map": "_golden_map_profiles"}, config, config_dir=config_dir)
    con.execute(f"""INSERT INTO temp._golden_profiles BY NAME
                    SELECT customer_id, {", ".join(_KEPT_PROFILE_COLUMNS)} FROM golden.customers
                    SEMI JOIN temp._golden_affected USING (customer_id)
                    ANTI JOIN temp._golden_affected_profiles USING (customer_id)""")
    # The golden rows of the customers to redo, from all their records, merged into the others.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _golden_map_customers AS
                    SELECT * FROM {tables["customer_map"]} SEMI JOIN temp._golden_affected USING (customer_id)""")
    records = (
        f"(SELECT m.customer_id, r.record_time FROM temp._golden_map_customers AS m "
        f"JOIN {tables['identity_records']} AS r USING (source, source_record_id))"
    )
    # The traits read these customers' timeline rows three times (first/last seen, email and web counts, carts):
    # cut from the whole timeline once rather than by a semi join each time.
    con.execute("""CREATE OR REPLACE TEMP TABLE _golden_affected_timeline AS
                   SELECT customer_id, event_time, event_type FROM golden.customer_timeline
                   SEMI JOIN temp._golden_affected USING (customer_id)""")
    timeline = "temp._golden_affected_timeline"
    _customer_rows(
        con,
        {**tables, "customer_map": "_golden_map_customers"},
        as_of_date,
        cutoff,
        records,
        timeline,
        target="_golden_fresh",
        currency=currency,
    )
    _merge_customers(con)


def build_golden(
    con: duckdb.DuckDBPyConnection,
    as_of_date: date,
    *,
    tz: str = "UTC",
    config: tuple[AttributeRules, ...] | None = None,
    full_refresh: bool = False,
    config_dir: Path | None = None,
    currency: str = "SEK",
) -> GoldenBuild:
    """(Re)create golden.customer_timeline and golden.customers as of ``as_of_date`` (a day in ``tz``).

    Only the rows whose inputs changed since the last build are recomputed, unless
    ``full_refresh`` (or ``incremental.plan`` finds it needs a whole build); the tables are
    the same either way. ``config``: the survivorship rules (``load_survivorship_config(config_dir)``);
    the packaged rules when None. ``config_dir``: the folder of the user's ``name_variants.yaml``, merged
    with the packaged name tables for ``unswapped_name`` (the settings' ``config_dir``). ``currency``: the
    warehouse currency (``CDP_CURRENCY``), the only one the money traits count."""
    config = config or load_survivorship_config()
    cutoff = as_of_cutoff(as_of_date, tz)
    tables = resolve_inputs(con)
    code = incremental.code_version(config, tables, config_dir, currency=currency)
    try:
        run_sql(con, SQL_DIR, "create_golden_schema")
        incremental.fingerprint_records(con, tables)
        identifier_hashes(con, tables, cutoff)
        plan = incremental.plan(con, tables, cutoff, code, full_refresh=full_refresh)
        incremental.forget_state(con)
        if plan.mode == "full":
            build_identifier_consent(con, tables, cutoff, ledger=True)
        else:
            incremental.merge_ledger(con)
        rebuilt = 0
        nothing_to_redo = plan.mode == "incremental" and not (
            plan.changed_records or plan.timeline_records or plan.customers
        )
        if nothing_to_redo:
            pass  # nothing to redo (no record changed, no time crossed): its statements would write nothing
        else:
            if plan.mode == "incremental":
                _build_incremental(con, tables, config, as_of_date, cutoff, config_dir, currency)
            else:
                _build_whole(con, tables, config, as_of_date, cutoff, tz, config_dir, currency)
            # (a whole build's profiles were a view: its traits have a row per customer too)
            rows = "_golden_profiles" if plan.mode == "incremental" else "_golden_traits"
            rebuilt = con.execute(f"SELECT count(*) FROM temp.{rows}").fetchall()[0][0]
        # A whole build stored the ranks with its rows. After an incremental one they are computed from
        # every row, unless no row changed and every row's ranks are already as of tonight's date (a
        # night without new data: at 1M records 0.28 CPU s of the step's 2.5).
        if plan.mode == "incremental" and not (nothing_to_redo and _ranks_current(con, as_of_date)):
            run_sql(
                con, SQL_DIR, "create_golden_ranks", {"as_of_date": as_of_date, "tz": tz}, customers="golden.customers"
            )
            run_sql(con, SQL_DIR, "update_golden_ranks")
        apply_golden_comments(con)
        records = incremental.write_state(
            con,
            code,
            cutoff,
            incremental=plan.mode == "incremental",
            # a whole build's records: every map row with its identity record (create_customer_records)
            tables=tables,
            records="temp._golden_records" if plan.mode == "full" else None,
        )
    finally:
        for name in _TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS temp.{name}")
        con.execute("DROP VIEW IF EXISTS temp._golden_fingerprints")
        con.execute("DROP VIEW IF EXISTS temp._golden_event_hashes")
        con.execute("DROP VIEW IF EXISTS temp._golden_customer_rows")
        con.execute("DROP MACRO TABLE IF EXISTS temp._golden_timeline_rows")
        con.execute("DROP MACRO TABLE IF EXISTS temp._golden_identifier_signals")
    return GoldenBuild(
        as_of_date,
        cutoff,
        missing_inputs(tables),
        plan.mode,
        plan.reason,
        rebuilt,
        plan.timeline_records if plan.mode == "incremental" else records,
    )


@dataclass(frozen=True)
class GoldenSummary:
    """What a person wants to see of a built golden layer."""

    channels: list[tuple]  # (channel, rows) of golden.customer_timeline
    customers: dict  # select_golden_summary.sql's figures: customers, consent, contactable, buyers, spend
    preview: tuple[list[str], list[tuple]]  # column names and a few golden.customers rows
    ledger: tuple[list[str], list[tuple]]  # golden.identifier_consent by channel and reason


def golden_summary(con: duckdb.DuckDBPyConnection) -> GoldenSummary:
    names, rows = query_sql(con, SQL_DIR, "select_golden_summary")
    return GoldenSummary(
        channels=fetch_sql(con, SQL_DIR, "select_timeline_summary"),
        customers=dict(zip(names, rows[0])),
        preview=query_sql(con, SQL_DIR, "select_golden_preview"),
        ledger=query_sql(con, SQL_DIR, "select_identifier_consent_summary"),
    )
