"""Which golden rows a night must rebuild: the fingerprints kept between builds, and what changed.

Every golden row is a function of a few inputs, and of the as-of cutoff:

* a ``golden.customer_timeline`` row: one staging event, the customer its record maps to,
  and on which side of the cutoff its time (and an order's cancellation) falls;
* a ``golden.customers`` row: its profile (survived attributes, identifier lists,
  ``record_count``), a function of the customer's records and their identity records alone;
  and the rest, a function of those, their events, and on which side of the cutoff, or of
  the start of a 30/90-day window, each time falls; except the columns relative to every
  buyer or to the date (RFM, days since the last order, ``as_of_date``), which are computed
  from every row every night (``create_golden_ranks.sql``: stored with a whole build's rows,
  set by ``update_golden_ranks.sql`` where they changed after an incremental one).

So each build keeps, per mapped record (``golden._record_state``), its customer and hashes of
its identity record and of its events (whole staging rows), and the cutoff it was built with
(``golden._build_state``). Tonight's fingerprints differ from the kept ones only for records
that are new, gone, re-mapped or whose rows changed (staging tables rebuilt whole or in part
give the same rows for the same input, so they do not count as changed). Then:

* the timeline rows to redo are those of the records whose customer or events changed, and
  of the records with a time between the two cutoffs;
* the customers to redo are the customers (tonight's and the kept build's) of every changed
  record, and tonight's customers of the records with a time between the two cutoffs, or with
  a time a windowed trait counts (an ESP open or click, a web session, an add-to-cart) as far
  before them as its window reaches (``TRAIT_WINDOWS_DAYS``; any other time counts on one side
  of the cutoff alone, so its crossing a window's start changes no row); of them, only those
  whose records changed (customer or identity record) need their profile redone;
* and the customers whose records carry an email or phone whose row in the consent ledger
  (``golden.identifier_consent``) differs from the kept one in consent, ``event_at`` or
  ``source``: the signal may sit on another customer's record, and a customer's consent
  columns are the ledger's row of their golden address or number. When the consent itself
  changed (granted, revoked, or no row), their profile is redone too (survivorship prefers a
  granted address to one without a row, and that to a blocked one).

The consent ledger itself is kept the same way, per identifier: a ledger row is a function of
the signals about its identifier before the cutoff alone (whatever record or customer they sit
on), so each build keeps their number and a hash per identifier (``golden._identifier_state``),
and settles again, and replaces, only the rows of the identifiers whose hash changed (a signal
new, changed or gone, or one the cutoff moved over).

Every other row is what a whole build would write, so it is kept. The build is whole on a
full refresh, without kept state, when the golden code or rules, the DuckDB version (its
``hash``) or the set of missing inputs changed, when the golden tables may have been changed
since (an erasure deletes rows of them: the erasure log grew; or golden.customers no longer
has a row per kept customer), when a changed record maps to several customers (against the
contract), and when most customers would be redone anyway. The kept state holds nothing
that depends on other customers' data (no row counts): a customer's fingerprint is the same
whatever else the warehouse holds.

The kept build's state row is deleted before any table is touched and written last, so a
build that stops half way leaves no state, and the next build is whole.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import run_sql
from cdp_pipeline.lib.common.table_comments import apply_table_comments
from cdp_pipeline.lib.common.warehouse import table_exists
from cdp_pipeline.lib.golden.consent import LEDGER_TABLE, build_identifier_consent

SQL_DIR = Path(__file__).parent / "sql"

RECORD_STATE = "golden._record_state"
BUILD_STATE = "golden._build_state"
IDENTIFIER_STATE = "golden._identifier_state"

# The rows of a (channel, identifier) table ``l`` whose identifier is one of temp._golden_ledger_keys
# (the identifiers whose ledger row is settled again); a NULL channel, never written, would still match.
_KEY_OF_L = (
    "SELECT 1 FROM temp._golden_ledger_keys AS lk WHERE lk.channel IS NOT DISTINCT FROM l.channel "
    "AND lk.identifier = l.identifier"
)
_SEMI_KEYS = (
    "SEMI JOIN temp._golden_ledger_keys AS lk ON lk.channel IS NOT DISTINCT FROM l.channel "
    "AND lk.identifier = l.identifier"
)

# Above this share of customers, rebuilding everything is as cheap and simpler.
MAX_AFFECTED_SHARE = 0.5

# The windows (days before the cutoff) of create_customer_traits.sql; create_golden_time_keys.sql
# marks the records with a time that crossed the start of one (a test keeps the three in step).
TRAIT_WINDOWS_DAYS = (30, 90)

STATE_DOCS = {
    "_record_state": (
        "Internal: per mapped record, its customer and hashes of its identity record and events at the last "
        "golden build, so the next build redoes only what changed (lib/golden/incremental.py).",
        {
            "record_key": "hash(source, source_record_id) of the record",
            "customer_id": "customer the record mapped to (identity.customer_map; the smallest if several)",
            "map_rows": "identity.customer_map rows of the record (1, by the contract)",
            "map_hash": "sum of the hashes of the customer_id of those rows",
            "record_hash": "sum of the hashes of the record's staging.identity_records rows",
            "records": "staging.identity_records rows of the record",
            "events_hash": "sum of the hashes of the record's rows in the staging event tables",
            "events": "rows of the record in the staging event tables",
        },
    ),
    "_identifier_state": (
        "Internal: per identifier of the consent ledger, the number and a hash of its signals at the last golden "
        "build, so the next build settles again only the identifiers whose signals changed (lib/golden/incremental.py).",
        {
            "channel": "email or sms",
            "identifier": "standardised address or E.164 number",
            "signals": "signals about the identifier before the cutoff (golden.identifier_consent.signals)",
            "signals_hash": "sum of the hashes of those signals (create_identifier_hashes.sql)",
        },
    ),
    "_build_state": (
        "Internal: what the last golden build was made with (lib/golden/incremental.py); no row while a build "
        "runs, so one that stopped half way is followed by a whole build.",
        {
            "code_version": "hash of the golden code, survivorship rules, warehouse currency, DuckDB version and inputs",
            "cutoff": "as-of cutoff (UTC) of the build",
            "erasures": "rows of audit.erasure_log at the build",
        },
    ),
}

_EVENT_INPUTS = ("orders", "email_activity", "sms_messages", "web_sessions", "web_events", "consent_events")


@dataclass(frozen=True)
class GoldenPlan:
    mode: str  # "full" or "incremental"
    reason: str  # why this mode
    changed_records: int = 0  # records whose fingerprint changed (new and gone included)
    timeline_records: int = 0  # records whose timeline rows are redone
    customers: int = 0  # customers whose golden row is redone


def code_version(config, tables: dict[str, str], config_dir: Path | None = None, currency: str = "SEK") -> str:
    """The code, rules, warehouse currency and inputs the kept state was built with (any change: a whole
    build; another currency changes every customer's money traits)."""
    from cdp_pipeline.lib.common.code_version import source_hash
    from cdp_pipeline.lib.golden.survivorship import name_tables_fingerprint, uses_unswapped_name

    payload = json.dumps(
        {
            "source": source_hash("lib/golden"),
            "survivorship": repr(config),
            "name_tables": name_tables_fingerprint(config_dir) if uses_unswapped_name(config) else None,
            "duckdb": duckdb.__version__,
            "currency": currency,
            "inputs": sorted(tables.items()),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _erasures(con: duckdb.DuckDBPyConnection) -> int:
    if not table_exists(con, "audit", "erasure_log"):
        return 0
    return con.execute("SELECT count(*) FROM audit.erasure_log").fetchall()[0][0]


def _customers_agree(con: duckdb.DuckDBPyConnection) -> bool:
    """golden.customers has a row per customer of the kept fingerprints (nothing deleted it since)."""
    return con.execute(
        f"SELECT (SELECT count(*) FROM golden.customers) = (SELECT count(DISTINCT customer_id) FROM {RECORD_STATE})"
    ).fetchall()[0][0]


def fingerprint_records(con: duckdb.DuckDBPyConnection, tables: dict[str, str]) -> None:
    """``temp._golden_fingerprints`` (a view): tonight's fingerprint of every mapped record (its event
    hashes: the view ``temp._golden_event_hashes``)."""
    run_sql(con, SQL_DIR, "create_golden_event_hashes", **{k: tables[k] for k in _EVENT_INPUTS})
    run_sql(con, SQL_DIR, "create_golden_fingerprints", **{k: tables[k] for k in ("customer_map", "identity_records")})


def one_row_per_record(con: duckdb.DuckDBPyConnection, tables: dict[str, str], records: str) -> bool:
    """``records`` (create_customer_records over every row of the map) holds, per mapped record, its
    group of ``temp._golden_fingerprints`` as one row: no two map rows share a record key (so no two
    share a record), no map row found two identity records, and every identity record was found by
    one (so the identity records of a record key are exactly the one found by its map row)."""
    map_rows, map_keys, rows, found, identity_rows = con.execute(f"""
        SELECT (SELECT count(*) FROM {tables["customer_map"]}),
               (SELECT count(DISTINCT hash(source, source_record_id)) FROM {tables["customer_map"]}),
               (SELECT count(*) FROM {records}), (SELECT count(record_row_hash) FROM {records}),
               (SELECT count(*) FROM {tables["identity_records"]})""").fetchall()[0]
    return map_rows == map_keys == rows and found == identity_rows


_FINGERPRINT = ("customer_id", "map_rows", "map_hash", "record_hash", "records", "events_hash", "events")
_TIMELINE_FINGERPRINT = ("customer_id", "map_rows", "map_hash", "events_hash", "events")
_PROFILE_FINGERPRINT = ("customer_id", "map_rows", "map_hash", "record_hash", "records")


def _differ(cols, a: str, b: str) -> str:
    return f"({', '.join(f'{a}.{c}' for c in cols)}) IS DISTINCT FROM ({', '.join(f'{b}.{c}' for c in cols)})"


def plan(
    con: duckdb.DuckDBPyConnection, tables: dict[str, str], cutoff: datetime, code: str, *, full_refresh: bool
) -> GoldenPlan:
    """Decide how to build; for an incremental build write ``temp._golden_ledger_keys`` (the
    identifiers whose signals changed), ``temp._golden_identifier_consent`` (their ledger rows),
    ``temp._golden_diff`` (tonight's
    fingerprint of every record whose fingerprint changed, NULL for a record gone, and its kept
    customer), ``temp._golden_timeline_keys(record_key)``, ``temp._golden_affected(customer_id)``
    (the customers to redo) and ``temp._golden_affected_profiles(customer_id)`` (those of them
    whose records changed, which need their profile redone too).
    Needs ``temp._golden_fingerprints`` (``fingerprint_records``) and ``temp._golden_identifier_hashes``
    (``consent.identifier_hashes``)."""
    if full_refresh:
        return GoldenPlan("full", "full refresh")
    if not all(
        table_exists(con, "golden", t) for t in ("customers", "customer_timeline", "identifier_consent", *STATE_DOCS)
    ):
        return GoldenPlan("full", "no kept state")
    kept = con.execute(f"SELECT code_version, cutoff, erasures FROM {BUILD_STATE}").fetchall()
    if len(kept) != 1:
        return GoldenPlan("full", "no kept state")
    kept_code, kept_cutoff, kept_erasures = kept[0]
    if kept_code != code:
        return GoldenPlan("full", "golden code, rules or inputs changed")
    if kept_erasures != _erasures(con):
        return GoldenPlan("full", "an erasure ran since the last build")
    if not _customers_agree(con):
        return GoldenPlan("full", "golden tables changed since the last build")
    # The records whose fingerprint changed, tonight's side (NULL when gone) with the kept customer.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _golden_diff AS
        SELECT coalesce(n.record_key, k.record_key) AS record_key, {", ".join(f"n.{c}" for c in _FINGERPRINT)},
               k.customer_id AS kept_customer_id, k.map_rows AS kept_map_rows,
               {_differ(_TIMELINE_FINGERPRINT, "n", "k")} AS timeline_changed,
               {_differ(_PROFILE_FINGERPRINT, "n", "k")} AS profile_changed
        FROM temp._golden_fingerprints AS n
        FULL OUTER JOIN {RECORD_STATE} AS k ON k.record_key = n.record_key
        WHERE {_differ(_FINGERPRINT, "n", "k")}
    """)
    changed, several = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE map_rows > 1 OR kept_map_rows > 1) FROM temp._golden_diff"
    ).fetchall()[0]
    if several:
        # only one customer per record is kept: which customers such a record left is not known
        return GoldenPlan("full", "a changed record maps to several customers", changed)
    lo, hi = sorted((kept_cutoff, cutoff))
    run_sql(
        con,
        SQL_DIR,
        "create_golden_time_keys",
        {"lo": lo, "hi": hi},
        **{k: tables[k] for k in ("identity_records", *_EVENT_INPUTS)},
    )
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _golden_timeline_keys AS
        SELECT record_key FROM temp._golden_diff WHERE timeline_changed
        UNION
        SELECT record_key FROM temp._golden_time_keys WHERE timeline
    """)
    # The consent ledger: a row is a function of its identifier's signals alone, so only the identifiers
    # whose signals (before the cutoff) changed since the kept build are settled again.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _golden_ledger_keys AS
        SELECT coalesce(n.channel, k.channel) AS channel, coalesce(n.identifier, k.identifier) AS identifier
        FROM temp._golden_identifier_hashes AS n
        FULL OUTER JOIN {IDENTIFIER_STATE} AS k
             ON k.channel IS NOT DISTINCT FROM n.channel AND k.identifier = n.identifier
        WHERE (n.signals, n.signals_hash) IS DISTINCT FROM (k.signals, k.signals_hash)
    """)
    build_identifier_consent(con, tables, cutoff, keys="temp._golden_ledger_keys")
    # Identifiers whose ledger row a customer reads changed since the kept build (the signal may be on
    # another customer's record): every customer whose records carry one is redone, since a customer's
    # consent columns are the ledger's row of their golden address or number (consent, event_at, source).
    # consent_changed: granted, revoked or no row changed, which survivorship's prefer_contactable ranks,
    # so those customers' profiles are redone too.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _golden_ledger_changes AS
        SELECT coalesce(n.channel, k.channel) AS channel, coalesce(n.identifier, k.identifier) AS identifier,
               n.consent IS DISTINCT FROM k.consent AS consent_changed
        FROM temp._golden_identifier_consent AS n
        FULL OUTER JOIN (SELECT * FROM {LEDGER_TABLE} AS l {_SEMI_KEYS}) AS k
             ON k.channel IS NOT DISTINCT FROM n.channel AND k.identifier = n.identifier
        WHERE (n.consent, n.event_at, n.source) IS DISTINCT FROM (k.consent, k.event_at, k.source)
    """)
    # Customers whose records changed: their profile (survived attributes, identifiers) is redone too.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _golden_affected_profiles AS
        SELECT customer_id FROM temp._golden_diff WHERE profile_changed AND customer_id IS NOT NULL
        UNION
        SELECT kept_customer_id FROM temp._golden_diff WHERE profile_changed AND kept_customer_id IS NOT NULL
        UNION
        SELECT m.customer_id FROM {tables["customer_map"]} AS m
        JOIN {tables["identity_records"]} AS r USING (source, source_record_id)
        JOIN temp._golden_ledger_changes AS c ON c.channel = 'email' AND c.identifier = r.email AND c.consent_changed
        UNION
        SELECT m.customer_id FROM {tables["customer_map"]} AS m
        JOIN {tables["identity_records"]} AS r USING (source, source_record_id)
        JOIN temp._golden_ledger_changes AS c ON c.channel = 'sms' AND c.identifier = r.phone AND c.consent_changed
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _golden_affected AS
        SELECT customer_id FROM temp._golden_diff WHERE customer_id IS NOT NULL
        UNION
        SELECT customer_id FROM temp._golden_affected_profiles
        UNION
        -- the ledger row of an address or number changed in what a customer's consent columns show
        SELECT m.customer_id FROM {tables["customer_map"]} AS m
        JOIN {tables["identity_records"]} AS r USING (source, source_record_id)
        JOIN temp._golden_ledger_changes AS c ON c.channel = 'email' AND c.identifier = r.email
        UNION
        SELECT m.customer_id FROM {tables["customer_map"]} AS m
        JOIN {tables["identity_records"]} AS r USING (source, source_record_id)
        JOIN temp._golden_ledger_changes AS c ON c.channel = 'sms' AND c.identifier = r.phone
        UNION
        SELECT customer_id FROM {tables["customer_map"]}
        WHERE hash(source, source_record_id) IN (SELECT record_key FROM temp._golden_time_keys)
    """)
    timeline, affected, customers = con.execute(f"""
        SELECT (SELECT count(*) FROM temp._golden_timeline_keys),
               (SELECT count(*) FROM temp._golden_affected SEMI JOIN {tables["customer_map"]} USING (customer_id)),
               (SELECT count(DISTINCT customer_id) FROM {tables["customer_map"]})""").fetchall()[0]
    what = f"{affected:,} of {customers:,} customers to redo"
    if affected > MAX_AFFECTED_SHARE * customers:
        return GoldenPlan("full", what, changed, timeline, affected)
    return GoldenPlan("incremental", what, changed, timeline, affected)


def forget_state(con: duckdb.DuckDBPyConnection) -> None:
    """Before the golden tables are touched: a build that stops half way leaves no state."""
    if table_exists(con, "golden", "_build_state"):
        con.execute(f"DELETE FROM {BUILD_STATE}")


def write_state(
    con: duckdb.DuckDBPyConnection,
    code: str,
    cutoff: datetime,
    *,
    incremental: bool,
    tables: dict[str, str] | None = None,
    records: str | None = None,
) -> int:
    """Keep tonight's fingerprints and cutoff for the next build (after the golden tables are
    written); return the number of mapped records. A whole build may pass ``records``, its
    create_customer_records table of every map row, and ``tables``: the fingerprints are then
    written from it when it holds one row per record (``one_row_per_record``)."""
    if incremental:
        con.execute(f"DELETE FROM {IDENTIFIER_STATE} AS l WHERE EXISTS ({_KEY_OF_L})")
        con.execute(f"INSERT INTO {IDENTIFIER_STATE} SELECT * FROM temp._golden_identifier_hashes AS l {_SEMI_KEYS}")
        con.execute(f"DELETE FROM {RECORD_STATE} WHERE record_key IN (SELECT record_key FROM temp._golden_diff)")
        con.execute(f"""INSERT INTO {RECORD_STATE}
                        SELECT record_key, {", ".join(_FINGERPRINT)} FROM temp._golden_diff
                        WHERE customer_id IS NOT NULL""")
    else:
        con.execute(f"CREATE OR REPLACE TABLE {IDENTIFIER_STATE} AS SELECT * FROM temp._golden_identifier_hashes")
        if records and tables and one_row_per_record(con, tables, records):
            # the same rows without the view's two aggregates of 1M groups and their join: at 1M records
            # 1.69-1.77 CPU s + 0.13-0.15 for the check (+0.03-0.23 for the row hash in the records)
            # against 2.44-2.72 from the view
            run_sql(con, SQL_DIR, "create_record_state_from_records", records=records)
        else:
            con.execute(f"CREATE OR REPLACE TABLE {RECORD_STATE} AS SELECT * FROM temp._golden_fingerprints")
    con.execute(f"CREATE TABLE IF NOT EXISTS {BUILD_STATE} (code_version VARCHAR, cutoff TIMESTAMP, erasures BIGINT)")
    for table, (comment, columns) in STATE_DOCS.items():
        apply_table_comments(con, "golden", table, comment, columns)
    con.execute(f"DELETE FROM {BUILD_STATE}")
    con.execute(f"INSERT INTO {BUILD_STATE} VALUES (?, ?, ?)", [code, cutoff, _erasures(con)])
    return con.execute(f"SELECT count(*) FROM {RECORD_STATE}").fetchall()[0][0]


def merge_ledger(con: duckdb.DuckDBPyConnection) -> None:
    """Bring golden.identifier_consent to tonight's ledger: replace the rows of the identifiers settled
    again (``temp._golden_ledger_keys``) by their rows in ``temp._golden_identifier_consent``."""
    con.execute(f"DELETE FROM {LEDGER_TABLE} AS l WHERE EXISTS ({_KEY_OF_L})")
    con.execute(f"INSERT INTO {LEDGER_TABLE} SELECT * FROM temp._golden_identifier_consent")
