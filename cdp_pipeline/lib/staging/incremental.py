"""Staging tables rebuilt only for the records a night's files touch.

Some staging tables are made of rows that each depend only on the raw rows sharing one key:
``staging.identity_records`` (the latest CRM version of a customer_id, the latest ESP version
of a member, every message to a number, every event of a web user_id, every line of an order
or a receipt), ``staging.orders`` and ``staging.order_lines`` (every line of an order or a
receipt), ``staging.sms_messages`` (every delivery of a message), ``staging.web_events``
(every event of a cookie: a cookie's events are attached to its last logged-in user),
``staging.consent_events`` (every version of an ESP member, every version of a CRM customer)
and ``staging.email_activity`` (every row of an address's opens, clicks or bounces of one
campaign and URL). When a night loads new files, only the keys that occur in them can
change. This module finds those keys, copies their raw rows once into temp tables
(``temp._stg_raw_<table>``: the statement reads a raw table in several places) and runs the
table's own ``create_<table>.sql`` over them, its rows replacing theirs. That statement is
written once, as the view ``temp.<table>_rows`` over ``temp.raw_<table>``, a view of each raw
table it reads: of the whole raw table for a whole build, of the affected keys' rows here
(``write_rows``); ``insert_staging_rows.sql`` writes the view's rows, into the empty table of
``create_staging_table.sql`` for a whole build (its columns stored as ``storage.py`` declares).
The result is the whole rebuild's; tests compare the two. A night that touches no key of a
table does not run its statement at all.

Two of them also read other staging tables, which are read whole in both builds. The SMS and
Shopify rows of ``consent_events`` come from ``staging.sms_messages`` and ``staging.orders``
without a standardisation function: they are made again every night (``whole_sources``) and
only those that differ from the kept ones are written (``sync.sync_rows``).
``email_activity`` attaches an address's activity to its ESP member
(``staging.identity_records``): after its keys' rows are replaced, one set-based statement
re-attaches every row whose member changed (``after_sql``).

What a night changed is read from the raw layer itself: ``staging.record_files`` lists, per
staging table, the raw files (by path and checksum) it was last built from, and
``staging.record_keys_by_file`` keeps the keys found in each raw file; the keys are read in
place, never copied whole. A file that is new or has other bytes, and a file whose rows are
gone (a replaced partition, a superseded GA4 export), mark their keys. Records flagged
``impossible_birth_date`` are redone too: that check is relative to the data's date, which
moves every night.

Tables that key a raw table alike share its keys (``key_owner``): the POS tables are keyed by
orders, order_lines and identity_records alike, members and customers by consent_events and
identity_records; their keys are kept once, under the name of the first of ``KEYED_TABLES``
keying them so (``identity_records``), not once per table (1.7M of 4.5M rows at 1M records were
such copies, each written at ~0.6 µs). Whichever of them builds first after a file arrives
writes its keys; the others find them there. A file's keys are kept while a table sharing them
lists the file (a table that has not yet seen a file go still needs its keys to find what to
redo), and dropped with the last such table's listing. The keys are valid for the code and
settings they were computed with (a row of ``staging.incremental_code`` per raw table and
owner, ``keys:<owner>.<raw table>``): other code computes them again.

A table is built whole when it or its index is missing, when its SQL or the normalisers
changed since it was built (``staging.incremental_code``), and on a full refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import fetch_sql, quote_ident, run_sql
from cdp_pipeline.lib.common.warehouse import table_exists
from cdp_pipeline.lib.staging.storage import column_definitions
from cdp_pipeline.lib.staging.sync import sync_rows

INDEX = "staging.record_keys_by_file"
FILES = "staging.record_files"
AFFECTED = "temp._stg_affected"

_ORDER_KEY = "'order:' || nullif(trim(name), '')"
_RECEIPT_KEY = "'receipt:' || nullif(trim(store_id), '') || ':' || nullif(trim(receipt_id), '')"
# a Square transaction: its item rows, sales and refunds (create_orders.sql)
_SQUARE_KEY = "'square:' || nullif(trim(transaction_id), '')"
# a CRM customer: its id without a spreadsheet's leading apostrophe, else (a legacy Shopify
# customers export has no id) its address (as create_identity_records.sql keys it)
_CRM_KEY = "coalesce(nullif(trim(ltrim(trim(customer_id), '''')), ''), 'email:' || std_email(email))"
# a member: its LEID (Mailchimp) or profile id (Klaviyo), or its address when it has neither
# (as create_identity_records.sql keys it)
_ESP_MEMBER_KEY = "coalesce(nullif(trim(leid), ''), nullif(trim(klaviyo_id), ''), std_email(email_address))"


@dataclass(frozen=True)
class LookupKey:
    """A key that is a standardisation function (``fn``, with ``{}`` or ``{0}`` for its
    argument) of one raw expression (``arg``). The index keeps each file's distinct arguments
    with their keys, so the function runs once per distinct argument of a new file, and an
    affected key's older rows are found by their arguments without calling it (an SMS
    number's history is spread over every file; a campaign's activity over several days).

    ``part`` and ``part_fn``: a standardisation function (``part_fn``, ``{}`` for its argument)
    of one part of the argument (``part``, ``{0}`` for the argument) that repeats across many
    arguments (an address is in many activities); it runs once per distinct part, and ``fn``
    reads its result as ``{part}``.

    ``columns``, ``row_part`` and ``row_fn``: when ``arg`` is a list of raw columns (as JSON,
    so one argument is one set of their values), the index is written from each file's distinct
    values of ``columns``, the part (``row_part``) and the key (``row_fn``, ``{part}`` for the
    part's result) read from the columns themselves rather than out of ``arg`` again; they give
    what ``part`` and ``fn`` give over ``arg``."""

    arg: str
    fn: str
    part: str | None = None
    part_fn: str | None = None
    columns: tuple[str, ...] = ()
    row_part: str | None = None
    row_fn: str | None = None

    def key_of(self, arg: str, part: str | None = None) -> str:
        """The key over the argument ``arg`` (SQL), with the part's result ``part`` (SQL; by
        default the function over the part of ``arg``)."""
        if self.part is None:
            return self.fn.format(arg)
        return self.fn.format(arg, part=part or self.part_fn.format(self.part.format(arg)))

    def __str__(self) -> str:  # the key over a raw row, as SQL
        return self.key_of(self.arg)


# the customer's number of a message: the sender of an inbound one, else the recipient, without
# a channel prefix (`whatsapp:+27…`; as create_sms_messages.sql and create_identity_records.sql),
# as std_phone(number, NULL) reads it: its reading in staging.phone_lookup (lib/staging/
# phone_lookup.py; add_sms_phones.sql adds it before a build indexes its files), else std_phone
# (a new file planned before its build: the lookup's key and the function read alike). The
# number's text is made once (the derived table ``x``), not again inside its key's country (a
# macro's argument is computed at each use): the same keys, about 0.1 CPU s less for the
# 82,210 distinct numbers of a first night at 1M records.
_SMS_NUMBER_KEY = LookupKey(
    'CASE WHEN lower(trim(direction)) LIKE \'inbound%\' THEN "from" ELSE "to" END',
    "{part}",
    part="regexp_replace({0}, '^\\s*[A-Za-z]+:', '')",
    part_fn="coalesce((SELECT [l.phone] FROM staging.phone_lookup l, (SELECT std_phone_text({0}) AS t) x "
    "WHERE l.phone_text = x.t AND l.country IS NOT DISTINCT FROM std_phone_country(x.t, NULL)), "
    "[std_phone({0}, NULL)])[1]",
)


# An activity: create_email_activity.sql's activity_id hashes address|action|time|campaign|url.
# This is the same without the time: it is the same for all rows of an activity, as the
# address has one '@' and no '|' after it, the action is a word and a time has no '|'. A row of
# the table has the same key, from its standardised columns (the output key below). The index
# keeps each file's activities in their raw form too (the four raw fields, as a JSON list):
# an activity's older rows, in files of earlier days (a campaign's opens and clicks go on for
# days), are found by that form, without standardising every address of those files again.
# The address is standardised once per distinct address (``part``), not once per activity; a
# file's keys are read from its four columns (``row_fn``), not parsed back out of the list.
_ACTIVITY_KEY = LookupKey(
    "to_json([email_address, action, campaign_id, url])::VARCHAR",
    "md5(concat_ws('|', {part}, lower(trim(json_extract_string({0}, '$[1]'))), "
    "nullif(trim(json_extract_string({0}, '$[2]')), ''), nullif(trim(json_extract_string({0}, '$[3]')), '')))",
    part="json_extract_string({0}, '$[0]')",
    part_fn="std_email({})",
    columns=("email_address", "action", "campaign_id", "url"),
    row_part="email_address",
    row_fn="md5(concat_ws('|', {part}, lower(trim(action)), nullif(trim(campaign_id), ''), nullif(trim(url), '')))",
)
# Activity is attached to the ESP member with its address (``members`` in
# create_email_activity.sql; keep the two alike) or else to the address itself. The keyed
# rebuild attaches tonight's rows; this re-attaches every other row whose member changed (a
# member's address changed, a member came or went), without reading raw rows.
_REATTACH_EMAIL_ACTIVITY = """
UPDATE staging.email_activity AS a SET source_record_id = changed.source_record_id
FROM (
    SELECT attached.email, coalesce(m.source_record_id, attached.email) AS source_record_id
    FROM (SELECT DISTINCT email, source_record_id FROM staging.email_activity) attached
    LEFT JOIN (SELECT email, arg_min(source_record_id, source_record_id) AS source_record_id
               FROM staging.identity_records
               WHERE source = 'esp' AND email IS NOT NULL
               GROUP BY email) m USING (email)
    WHERE attached.source_record_id IS DISTINCT FROM coalesce(m.source_record_id, attached.email)
) changed
WHERE a.email = changed.email
"""


@dataclass(frozen=True)
class KeyedTable:
    """A staging table whose rows each come from the raw rows of one key.

    ``inputs``: raw table -> (source, the key of a raw row exactly as the table's SQL groups
    rows; NULL for rows that make no row). ``output_key``: (source, key) of a row of the table.
    ``recheck``: SQL listing (source, key) of rows to redo every night anyway.
    ``whole_sources``: sources of the rows the SQL makes from other staging tables, not from
    ``inputs`` (read whole by the keyed build too): made again every night, only the rows
    that differ written.
    ``after_sql``: run after the affected keys' rows are replaced, for a column that depends
    on another staging table; set-based, so it may call no standardisation function.
    ``columns``: raw table -> the only columns of it the table's statements read, where that
    is not every column: a keyed build copies only these of the affected keys' raw rows, and
    both builds read ``temp.raw_<t>`` as these columns alone (so a statement reading another
    one fails in both, never in the keyed build only). For ``identity_records`` a web event's
    four columns leave out its JSON, most of its bytes: at 155,000 customers x 90 days a quiet
    night copied 112,759 whole events (~1 CPU s) to read a user's cookies and times.
    ``steps``: temp tables ``create_<step>.sql`` each makes, in order, before
    ``create_<name>.sql`` reads them; dropped after the write. A statement too big for the
    memory limit in one piece runs as steps: DuckDB writes a temp table out to disk when memory
    runs short, not a MATERIALIZED CTE, nor a sort next to the hash tables of the joins feeding
    it. A step named ``add_<what>`` is the statement ``add_<what>.sql`` instead, which adds rows
    to a table kept between nights (``staging.phone_lookup``: lib/staging/phone_lookup.py) and
    makes no temp table."""

    name: str
    inputs: dict[str, tuple[str, "str | LookupKey"]]
    output_key: tuple[str, str]
    recheck: str | None = None
    whole_sources: tuple[str, ...] = ()
    after_sql: str | None = None
    steps: tuple[str, ...] = ()
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def relation(self, t: str, relation: str) -> str:
        """What the statements read as ``temp.raw_<t>``: ``relation``, cut to ``columns[t]`` when given."""
        if t not in self.columns:
            return relation
        return f"(SELECT {', '.join(quote_ident(c) for c in self.columns[t])} FROM {relation})"


KEYED_TABLES: dict[str, KeyedTable] = {
    "identity_records": KeyedTable(
        "identity_records",
        {
            "crm_customers": ("crm", _CRM_KEY),
            "esp_members": ("esp", _ESP_MEMBER_KEY),
            "sms_messages": ("sms", _SMS_NUMBER_KEY),
            "web_events": ("web", "nullif(trim(user_id), '')"),
            "pos_orders": ("pos", _ORDER_KEY),
            "pos_receipts": ("pos", _RECEIPT_KEY),
            "pos_square_items": ("pos", _SQUARE_KEY),
        },
        ("source", "source_record_id"),
        # the birth-date check is relative to the data's date, which moves every night
        "SELECT source, source_record_id FROM staging.identity_records "
        "WHERE list_contains(dq_flags, 'impossible_birth_date')",
        # at 10M records one statement needed 12 GB (docs/performance.md); as steps it spills
        # (the add_* steps read new phone numbers into staging.phone_lookup, which the next joins)
        steps=(
            "add_sms_phones",
            "pos_month_first_files",  # the POS files whose dates are month-first (as orders)
            "identity_records_located",
            "identity_records_named",
            "identity_records_phone_texts",
            "add_identity_phones",
        ),
        # a web user's record is its cookies and times (web_cookies in create_identity_records_located.sql)
        columns={"web_events": ("user_id", "user_pseudo_id", "event_timestamp", "_landing_date")},
    ),
    # an order's, a receipt's or a Square transaction's lines; both read the receipt lines' amounts from one
    # step, the orders (and the POS identity records) the files whose dates are month-first from another
    "orders": KeyedTable(
        "orders",
        {
            "pos_orders": ("pos", _ORDER_KEY),
            "pos_receipts": ("pos", _RECEIPT_KEY),
            "pos_square_items": ("pos", _SQUARE_KEY),
        },
        ("'pos'", "order_id"),
        steps=("receipt_amounts", "pos_month_first_files"),
    ),
    "order_lines": KeyedTable(
        "order_lines",
        {
            "pos_orders": ("pos", _ORDER_KEY),
            "pos_receipts": ("pos", _RECEIPT_KEY),
            "pos_square_items": ("pos", _SQUARE_KEY),
        },
        ("'pos'", "order_id"),
        steps=("receipt_amounts",),
    ),
    # a message: its deliveries (the latest wins)
    "sms_messages": KeyedTable(
        "sms_messages",
        {
            "sms_messages": (
                "sms",
                "coalesce(nullif(trim(sid), ''), md5(concat_ws('|', \"from\", \"to\", body, sent_date, direction)))",
            )
        },
        ("'sms'", "message_id"),
        steps=("add_sms_phones",),
    ),
    # a cookie: its events, deduplicated, and the user it was last seen logged in as
    "web_events": KeyedTable(
        "web_events",
        {"web_events": ("web", "CASE WHEN nullif(trim(user_pseudo_id), '') IS NOT NULL THEN user_pseudo_id END")},
        ("'web'", "cookie"),
    ),
    # an ESP member's or a CRM customer's signals, from every version of it; the SMS STOP/START
    # and Shopify rows come from staging.sms_messages and staging.orders
    "consent_events": KeyedTable(
        "consent_events",
        {"esp_members": ("esp", _ESP_MEMBER_KEY), "crm_customers": ("crm", _CRM_KEY)},
        ("source", "source_record_id"),
        whole_sources=("sms", "pos"),
        steps=("add_consent_phones",),
    ),
    # an address's opens, clicks or bounces of one campaign and URL: their rows, deduplicated
    "email_activity": KeyedTable(
        "email_activity",
        {"esp_activity": ("esp", _ACTIVITY_KEY)},
        ("source", "md5(concat_ws('|', email, action, campaign_id, url))"),
        after_sql=_REATTACH_EMAIL_ACTIVITY,
    ),
}


@dataclass
class StagingPlan:
    mode: str  # "full" or "incremental"
    affected_records: int = 0
    files_read: int = 0  # new or changed raw files whose keys were read
    files_gone: int = 0


CODE = "staging.incremental_code"


def code_hash(table: str, settings: str = "") -> str:
    """What a staging table's rows come from: its SQL, the standardisation functions, and the
    settings they run with (``settings``: default region, time zone and currency, ``normaliser_settings``)."""
    from cdp_pipeline.lib.common.code_version import source_hash

    sql = "lib/staging/sql"
    code = source_hash(
        f"{sql}/create_{table}.sql",
        f"{sql}/create_raw_input_view.sql",
        f"{sql}/insert_staging_rows.sql",
        "lib/staging",
        "lib/staging/incremental.py",
    )
    return code + (f"|{settings}" if settings else "")


def keys_code_hash(settings: str = "") -> str:
    """What the record keys of a raw file come from: the key expressions (this file) and the
    standardisation functions they call (lib/staging), with the settings they run with; unlike
    ``code_hash``, the same for every table reading them."""
    from cdp_pipeline.lib.common.code_version import source_hash

    return source_hash("lib/staging") + (f"|{settings}" if settings else "")


def normaliser_settings(default_region: str, timezone: str, currency: str = "SEK") -> str:
    """The settings a phone without a country code, a time without a zone and an amount without a
    currency (or a store receipt's) are read with: a change of any rebuilds the tables whole."""
    return f"region={default_region};tz={timezone};currency={currency}"


def _ensure_index(con: duckdb.DuckDBPyConnection) -> None:
    if not table_exists(con, "staging", FILES.split(".")[1]):
        # an index from before the list of files kept a copy of shared keys per table, and its
        # keys in DuckDB's own compression: the tables are built whole once anyway (this code
        # changed), and every key is computed again (no key set has this code's hash yet)
        con.execute(f"DROP TABLE IF EXISTS {INDEX}")
    # ``key`` and ``arg`` (the raw argument of a LookupKey, NULL for other keys) in zstd: the
    # 1.59M keys of identity_records' index written in 0.75 CPU s against 0.95 with DuckDB's
    # choice (dictionary and FSST, analysed per segment), in 28 % fewer blocks; a scan of them
    # costs 8 % more (0.068 against 0.063 s)
    con.execute(f"""CREATE TABLE IF NOT EXISTS {INDEX} (staging_table VARCHAR, raw_table VARCHAR, file VARCHAR,
                    sha256 VARCHAR, source VARCHAR, "key" VARCHAR USING COMPRESSION zstd,
                    arg VARCHAR USING COMPRESSION zstd)""")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {FILES} (staging_table VARCHAR, raw_table VARCHAR, file VARCHAR, sha256 VARCHAR)"
    )
    _ensure_code_table(con)
    con.execute(
        f"COMMENT ON TABLE {INDEX} IS 'Internal: the record keys found in each raw file, under the "
        f"first staging table keying it so (the others keying it alike read them), so a night "
        f"rebuilds only the rows its files touch (lib/staging/incremental.py).'"
    )
    con.execute(
        f"COMMENT ON TABLE {FILES} IS 'Internal: per staging table, the raw files it was last built "
        f"from (lib/staging/incremental.py).'"
    )


def _ensure_code_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {CODE} (staging_table VARCHAR, code_hash VARCHAR)")
    con.execute(
        f"COMMENT ON TABLE {CODE} IS 'Internal: the code each incrementally built staging table was "
        f"built with (and each raw table''s keys, keys:<owner>.<raw table>); other code rebuilds it whole.'"
    )


def key_owner(table: str, t: str) -> str:
    """The staging table under whose name the keys of raw table ``t`` that ``table`` reads are kept:
    the first of ``KEYED_TABLES`` keying ``t`` alike (the same source and key)."""
    key = KEYED_TABLES[table].inputs[t]
    return next(other.name for other in KEYED_TABLES.values() if other.inputs.get(t) == key)


def _sharing(owner: str, t: str) -> list[str]:
    """The tables reading the keys of raw table ``t`` kept under ``owner``."""
    return [spec.name for spec in KEYED_TABLES.values() if t in spec.inputs and key_owner(spec.name, t) == owner]


def _keys_code(owner: str, t: str) -> str:
    """The row of ``staging.incremental_code`` saying which code computed these keys."""
    return f"keys:{owner}.{t}"


def _current_files(con: duckdb.DuckDBPyConnection, spec: KeyedTable) -> None:
    parts = [
        f"SELECT DISTINCT '{t}' AS raw_table, _file AS file, _file_sha256 AS sha256 FROM raw.{t}" for t in spec.inputs
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE _stg_files AS " + " UNION ALL ".join(parts))


def _keys_of_files(con: duckdb.DuckDBPyConnection, spec: KeyedTable, files: str, out: str) -> None:
    """``out(staging_table, raw_table, file, sha256, source, key, arg)``: the keys in ``files``
    (with their raw arguments for a LookupKey), ``staging_table`` naming their owner
    (``key_owner``). A file whose rows make no key keeps one NULL-key row: its keys are known."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS "
        + " UNION ALL ".join(
            _keys_of_raw_table(key_owner(spec.name, t), t, source, key, files)
            for t, (source, key) in spec.inputs.items()
        )
    )


def _keys_of_raw_table(name: str, t: str, source: str, key: "str | LookupKey", files: str) -> str:
    # Each file by its number (``n``) while the rows are grouped: grouping on a number and the
    # key costs about half of grouping on the path, the checksum and the key (1M receipt lines:
    # 0.15 against 0.26 CPU s); the path and checksum are joined back to the grouped rows.
    numbered = f"""numbered AS MATERIALIZED (
                       SELECT row_number() OVER (ORDER BY file, sha256) AS n, file, sha256
                       FROM {files} WHERE raw_table = '{t}')"""
    rows = "FROM raw.{t} r JOIN numbered f ON f.file = r._file AND f.sha256 = r._file_sha256".format(t=t)
    named = f"""SELECT '{name}' AS staging_table, '{t}' AS raw_table, f.file, f.sha256, '{source}' AS source"""
    if not isinstance(key, LookupKey):
        return f"""(WITH {numbered}
                    {named}, k."key", NULL::VARCHAR AS arg
                    FROM (SELECT DISTINCT f.n, {key} AS "key" {rows}) k JOIN numbered f USING (n))"""
    # MATERIALIZED: the function runs once per distinct argument (or part), not again per file
    if key.columns:
        return f"""(WITH {numbered},
                    values_of_files AS MATERIALIZED (SELECT DISTINCT f.n, {", ".join(key.columns)} {rows}),
                    parts AS MATERIALIZED (
                        SELECT part, {key.part_fn.format("part")} AS value
                        FROM (SELECT DISTINCT {key.row_part} AS part FROM values_of_files))
                    {named}, {key.row_fn.format(part="p.value")} AS "key", ({key.arg}) AS arg
                    FROM values_of_files v JOIN numbered f USING (n)
                    LEFT JOIN parts p ON p.part IS NOT DISTINCT FROM v.{key.row_part})"""
    if key.part is None:
        keys = f"""SELECT arg, {key.key_of("arg")} AS "key" FROM (SELECT DISTINCT arg FROM args)"""
    else:
        keys = f"""SELECT a.arg, {key.key_of("a.arg", "p.value")} AS "key"
                   FROM (SELECT DISTINCT arg FROM args) a
                   LEFT JOIN parts p ON p.part IS NOT DISTINCT FROM {key.part.format("a.arg")}"""
    parts = (
        ""
        if key.part is None
        else f"""parts AS MATERIALIZED (
                    SELECT part, {key.part_fn.format("part")} AS value
                    FROM (SELECT DISTINCT {key.part.format("arg")} AS part FROM args)),"""
    )
    return f"""(WITH {numbered},
                args AS MATERIALIZED (SELECT DISTINCT f.n, ({key.arg}) AS arg {rows}),
                {parts}
                keys AS MATERIALIZED ({keys})
                {named}, k."key", a.arg
                FROM args a JOIN numbered f USING (n) LEFT JOIN keys k ON k.arg IS NOT DISTINCT FROM a.arg)"""


def rebuild_index(con: duckdb.DuckDBPyConnection, table: str, settings: str = "") -> None:
    """After a whole build of ``table``: it lists every current raw file, and the keys of each are
    kept. Keys another table sharing them (``key_owner``) computed with this code are kept as
    they are; only the files without them have theirs computed."""
    spec = KEYED_TABLES[table]
    _ensure_index(con)
    _current_files(con, spec)
    keys = keys_code_hash(settings)
    for t in spec.inputs:
        owner = key_owner(table, t)
        if con.execute(f"SELECT code_hash FROM {CODE} WHERE staging_table = ?", [_keys_code(owner, t)]).fetchall() != [
            (keys,)
        ]:
            con.execute(f"DELETE FROM {INDEX} WHERE staging_table = ? AND raw_table = ?", [owner, t])
            con.execute(f"DELETE FROM {CODE} WHERE staging_table = ?", [_keys_code(owner, t)])
            con.execute(f"INSERT INTO {CODE} VALUES (?, ?)", [_keys_code(owner, t), keys])
    owners = ", ".join(f"('{t}', '{key_owner(table, t)}')" for t in spec.inputs)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _stg_unkeyed_files AS
                    SELECT f.* FROM temp._stg_files f JOIN (VALUES {owners}) o(raw_table, owner) USING (raw_table)
                    ANTI JOIN {INDEX} i ON i.staging_table = o.owner AND i.raw_table = f.raw_table
                                       AND i.file = f.file AND i.sha256 = f.sha256""")
    unkeyed = {t for (t,) in con.execute("SELECT DISTINCT raw_table FROM temp._stg_unkeyed_files").fetchall()}
    parts = [
        _keys_of_raw_table(key_owner(table, t), t, source, key, "temp._stg_unkeyed_files")
        for t, (source, key) in spec.inputs.items()
        if t in unkeyed
    ]
    if parts:
        # straight into the index, no temp table of the keys; unsorted: a raw table's rows sit
        # together anyway (one insert), and sorting every key cost seconds
        con.execute(f"INSERT INTO {INDEX} " + " UNION ALL ".join(parts))
    # the raw tables of files this table listed that are gone: their keys are dropped if no
    # other table lists them
    listed_gone = con.execute(
        f"""SELECT DISTINCT raw_table FROM (SELECT raw_table, file, sha256 FROM {FILES} WHERE staging_table = ?
                                            EXCEPT SELECT * FROM temp._stg_files)""",
        [table],
    ).fetchall()
    con.execute(f"DELETE FROM {FILES} WHERE staging_table = ?", [table])
    con.execute(f"INSERT INTO {FILES} SELECT ?, raw_table, file, sha256 FROM temp._stg_files", [table])
    _forget_unlisted_keys(con, table, [t for (t,) in listed_gone])
    con.execute(f"DELETE FROM {CODE} WHERE staging_table = ?", [table])
    con.execute(f"INSERT INTO {CODE} VALUES (?, ?)", [table, code_hash(table, settings)])


def _forget_unlisted_keys(con: duckdb.DuckDBPyConnection, table: str, raw_tables: list[str]) -> None:
    """Drop the keys of raw tables ``raw_tables`` that ``table`` reads, of files no table sharing
    them lists any more (each a scan of those keys: only for raw tables a file of which went)."""
    for t in raw_tables:
        owner = key_owner(table, t)
        con.execute(
            f"""DELETE FROM {INDEX} i WHERE i.staging_table = $owner AND i.raw_table = $t
                AND NOT EXISTS (SELECT 1 FROM {FILES} f WHERE list_contains($sharing, f.staging_table) AND f.raw_table = $t
                                AND f.file = i.file AND f.sha256 = i.sha256)""",
            {"owner": owner, "t": t, "sharing": _sharing(owner, t)},
        )


def plan(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    full_refresh: bool,
    settings: str = "",
    functions: Callable[[], None] = lambda: None,
) -> StagingPlan:
    """Write ``temp._stg_affected(source, key)`` and say how to build ``table``. ``functions``
    is called before the standardisation functions are (the keys of new files): a night with
    no new file for the table does without them (``needs_functions``)."""
    spec = KEYED_TABLES[table]
    if full_refresh or not (
        table_exists(con, "staging", table) and table_exists(con, "staging", "record_keys_by_file")
    ):
        return StagingPlan("full")
    if not table_exists(con, "staging", FILES.split(".")[1]) or not table_exists(con, "staging", "incremental_code"):
        return StagingPlan("full")
    if not con.execute(f"SELECT count(*) FROM {FILES} WHERE staging_table = ?", [table]).fetchall()[0][0]:
        return StagingPlan("full")
    code, keys = code_hash(table, settings), keys_code_hash(settings)
    built = con.execute(
        f"SELECT staging_table, code_hash FROM {CODE} WHERE list_contains($names, staging_table)",
        {"names": [table, *(_keys_code(key_owner(table, t), t) for t in spec.inputs)]},
    ).fetchall()
    if sorted(built) != sorted([(table, code), *((_keys_code(key_owner(table, t), t), keys) for t in spec.inputs)]):
        return StagingPlan("full")  # other SQL, normalisers or settings: yesterday's rows are not today's
    _current_files(con, spec)
    # The index is read in place: only this table's list of files is read whole, so a night
    # does not copy every key of the history.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _stg_indexed_files AS
            SELECT raw_table, file, sha256 FROM {FILES} WHERE staging_table = $t""",
        {"t": table},
    )
    con.execute("""CREATE OR REPLACE TEMP TABLE _stg_new_files AS
                   SELECT * FROM temp._stg_files EXCEPT SELECT * FROM temp._stg_indexed_files""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _stg_gone_files AS
                   SELECT * FROM temp._stg_indexed_files EXCEPT SELECT * FROM temp._stg_files""")
    if con.execute("SELECT count(*) FROM temp._stg_new_files").fetchall()[0][0]:
        functions()
        _keys_of_files(con, spec, "temp._stg_new_files", "_stg_new_keys")
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _stg_new_keys AS SELECT * FROM {INDEX} LIMIT 0")
    recheck = f"UNION {spec.recheck}" if spec.recheck else ""
    owners = ", ".join(f"('{t}', '{key_owner(table, t)}')" for t in spec.inputs)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {AFFECTED.split(".")[-1]} AS
        SELECT * FROM (
            SELECT source, "key" FROM temp._stg_new_keys
            UNION
            SELECT i.source, i."key" FROM {INDEX} i
            SEMI JOIN (SELECT g.*, o.owner FROM temp._stg_gone_files g
                       JOIN (VALUES {owners}) o(raw_table, owner) USING (raw_table)) g
                ON i.staging_table = g.owner AND i.raw_table = g.raw_table AND i.file = g.file AND i.sha256 = g.sha256
            {recheck}
        ) WHERE "key" IS NOT NULL
    """
    )
    count, new, gone = con.execute(f"""SELECT (SELECT count(*) FROM {AFFECTED}),
                                              (SELECT count(*) FROM temp._stg_new_files),
                                              (SELECT count(*) FROM temp._stg_gone_files)""").fetchall()[0]
    return StagingPlan("incremental", count, new, gone)


def derived_plan(con: duckdb.DuckDBPyConnection, table: str, *, full_refresh: bool, settings: str = "") -> StagingPlan:
    """How to build a table made of other staging tables alone (not keyed: ``web_sessions``):
    whole when it is missing, when its SQL or the normalisers changed since it was built
    (``staging.incremental_code``) and on a full refresh; else ``build_synced``."""
    if full_refresh or not (table_exists(con, "staging", table) and table_exists(con, "staging", CODE.split(".")[1])):
        return StagingPlan("full")
    built = con.execute(f"SELECT code_hash FROM {CODE} WHERE staging_table = ?", [table]).fetchall()
    return StagingPlan("incremental") if built == [(code_hash(table, settings),)] else StagingPlan("full")


def build_synced(con: duckdb.DuckDBPyConnection, sql_dir: Path, table: str) -> int:
    """A table of ``derived_plan`` made again from every row, only the rows that differ written
    (inside the caller's transaction); returns those rows (deleted and inserted)."""
    return write_rows(con, sql_dir, table, {}, whole=False, replaced="true")


def record_code(con: duckdb.DuckDBPyConnection, table: str, settings: str = "") -> None:
    """After a whole build of a table of ``derived_plan``: the code it was built with."""
    _ensure_code_table(con)
    con.execute(f"DELETE FROM {CODE} WHERE staging_table = ?", [table])
    con.execute(f"INSERT INTO {CODE} VALUES (?, ?)", [table, code_hash(table, settings)])


def needs_functions(table: str, planned: StagingPlan) -> bool:
    """Whether building ``table`` as ``planned`` calls a standardisation function: not a keyed
    table's incremental build with no key affected and no rows made from whole staging tables
    (``build_incremental`` then writes no row), nor ``web_sessions`` (plain SQL over the staged events)."""
    spec = KEYED_TABLES.get(table)
    if spec is None:
        return table != "web_sessions"
    return planned.mode != "incremental" or planned.affected_records > 0 or bool(spec.whole_sources)


def raw_tables(table: str) -> tuple[str, ...]:
    """The raw tables ``create_<table>.sql`` reads (as ``temp.raw_<t>``): a keyed table's inputs;
    a table made of other staging tables reads none."""
    spec = KEYED_TABLES.get(table)
    return tuple(spec.inputs) if spec else ()


def write_rows(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path,
    table: str,
    raw: Mapping[str, str],
    *,
    whole: bool,
    replaced: str | None = None,
) -> int:
    """Run ``create_<table>.sql`` (the view ``temp.<table>_rows``) over ``temp.raw_<t>``, a view of
    ``raw[t]`` for each raw table it reads, and write its rows: the whole table (``whole``),
    added to it, or (``replaced``: SQL over the table's columns) replacing its rows matching
    ``replaced``, only those that differ written (``sync.sync_rows``). Returns the rows written."""
    for t, relation in raw.items():
        run_sql(con, sql_dir, "create_raw_input_view", table=t, relation=relation)
    steps = KEYED_TABLES[table].steps if table in KEYED_TABLES else ()
    for step in steps:
        run_sql(con, sql_dir, step_file(step))
    run_sql(con, sql_dir, f"create_{table}")
    if whole:
        columns = column_definitions(con, table, f"temp.{table}_rows")
        run_sql(con, sql_dir, "create_staging_table", table=table, columns=columns)
    if replaced is not None:
        written = sync_rows(con, sql_dir, table, f"{table}_rows", replaced)
    else:
        written = fetch_sql(con, sql_dir, "insert_staging_rows", table=table, rows=f"{table}_rows")[0][0]
    con.execute(f"DROP VIEW temp.{table}_rows")
    for step in steps:
        if not adds_rows(step):
            con.execute(f"DROP TABLE temp.{step}")
    for t in raw:
        con.execute(f"DROP VIEW temp.raw_{t}")
    return int(written)


def adds_rows(step: str) -> bool:
    """A step that adds rows to a kept table (``add_<what>.sql``) rather than making a temp table."""
    return step.startswith("add_")


def step_file(step: str) -> str:
    """The name of the ``.sql`` file of a step."""
    return step if adds_rows(step) else f"create_{step}"


def build_whole(con: duckdb.DuckDBPyConnection, sql_dir: Path, table: str) -> None:
    """``staging.<table>`` from every raw row (inside the caller's transaction)."""
    spec = KEYED_TABLES.get(table)
    write_rows(
        con,
        sql_dir,
        table,
        {t: spec.relation(t, f"raw.{t}") if spec else f"raw.{t}" for t in raw_tables(table)},
        whole=True,
    )


def build_incremental(con: duckdb.DuckDBPyConnection, sql_dir: Path, table: str) -> None:
    """Replace the affected keys' rows (inside the caller's transaction) and update the index."""
    spec = KEYED_TABLES[table]
    nothing_affected = not con.execute(f"SELECT count(*) FROM {AFFECTED}").fetchall()[0][0]
    if not (nothing_affected and not spec.whole_sources):
        _affected_raw_rows(con, spec)
        source_col, key_col = spec.output_key
        con.execute(
            f'DELETE FROM staging.{table} WHERE ({source_col}, {key_col}) IN (SELECT source, "key" FROM {AFFECTED})'
        )
        # the whole sources' rows are made again from whole staging tables: only those that
        # differ are written (most nights few; a night with no new files none)
        whole = " OR ".join(f"{source_col} = '{s}'" for s in spec.whole_sources)
        write_rows(
            con,
            sql_dir,
            table,
            {t: spec.relation(t, f"temp._stg_raw_{t}") for t in spec.inputs},
            whole=False,
            replaced=whole or None,
        )
        for t in spec.inputs:
            con.execute(f"DROP TABLE IF EXISTS temp._stg_raw_{t}")
    # else no row changes: the statement would read the raw tables for nothing
    if spec.after_sql:
        con.execute(spec.after_sql)
    con.execute(
        f"DELETE FROM {FILES} WHERE staging_table = $t AND (raw_table, file, sha256) IN "
        "(SELECT * FROM temp._stg_gone_files)",
        {"t": table},
    )
    con.execute(f"INSERT INTO {FILES} SELECT $t, * FROM temp._stg_new_files", {"t": table})
    # a new file's keys, unless a table sharing them has kept them already
    con.execute(f"""INSERT INTO {INDEX} SELECT * FROM temp._stg_new_keys n
                    WHERE NOT EXISTS (SELECT 1 FROM {INDEX} i WHERE i.staging_table = n.staging_table
                                      AND i.raw_table = n.raw_table AND i.file = n.file AND i.sha256 = n.sha256)""")
    gone = con.execute("SELECT DISTINCT raw_table FROM temp._stg_gone_files").fetchall()
    _forget_unlisted_keys(con, table, [t for (t,) in gone])


def _affected_raw_rows(con: duckdb.DuckDBPyConnection, spec: KeyedTable) -> None:
    """``temp._stg_raw_<t>``: the raw rows of the affected keys, read once (a statement reads
    a raw table in several places; a view would find the rows again in each)."""
    for t, (source, key) in spec.inputs.items():
        # files first: the key (Python functions for ESP, SMS and activity rows) is then read
        # only in files that hold an affected key
        indexed = f"""(SELECT file, source, "key", arg FROM {INDEX}
                       WHERE staging_table = '{key_owner(spec.name, t)}' AND raw_table = '{t}'
                       UNION ALL
                       SELECT file, source, "key", arg FROM temp._stg_new_keys WHERE raw_table = '{t}')"""
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _stg_affected_index AS
                        SELECT file, arg FROM {indexed} SEMI JOIN {AFFECTED} USING (source, "key")""")
        if isinstance(key, LookupKey):
            key_filter = f"({key.arg}) IN (SELECT arg FROM temp._stg_affected_index)"
        else:
            key_filter = f"""({key}) IN (SELECT "key" FROM {AFFECTED} WHERE source = '{source}')"""
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _stg_raw_{t} AS
            SELECT {", ".join(f"r.{quote_ident(c)}" for c in spec.columns[t]) if t in spec.columns else "r.*"}
            FROM raw.{t} r
            WHERE r._file IN (SELECT file FROM temp._stg_affected_index) AND {key_filter}
        """)
