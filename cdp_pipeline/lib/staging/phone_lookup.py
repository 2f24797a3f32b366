"""``staging.phone_lookup``: every phone text a night has read, with its reading, kept between nights.

Reading phones is the slowest thing staging runs (at 1M records, 15 of identity_records' 35 CPU
seconds before ``phone._parse`` ran only the library's steps that act on digits; less since), and the same numbers come back in several steps (identity_records, sms_messages,
consent_events) and every night. An in-process cache held them within a night until it
overflowed (at 10M records, consent_events read 1.5M numbers a second time). The lookup holds
one row per reading phone.py makes of a number (one call of phonenumbers; or the same reading
made in SQL, ``std_phone_key_checked_junk`` of macros.sql, for a valid mobile or fixed-line number after a "+"
and any country code, or of the default region's national forms), keyed by the macros
of macros.sql: ``std_phone_text`` (every way of writing one number with digits, spaces and
hyphens is one text; 0046…, +0046… and +46… are one) and ``std_phone_country`` (the country
it is read in; NULL for the default region, and for a number after its country code, which
reads alike in every country). A key per (text, country) made several rows, in several steps,
of one reading, and its calls overflowed the in-process cache of readings: the first night
parsed more numbers than that cache alone had. Each staging step that reads phones first adds
the keys it has not seen (``add_*.sql``: the Python runs once per new key), then joins the
lookup; a quiet night parses only numbers never seen.

A row is what ``check_phone_junk`` gives: it depends on phone.py and the modules it reads, on
the SQL gate of macros.sql and on the default region. When any of those changes
(``lookup_version``) the lookup is emptied and filled again by the next build.

Personal data: the texts are the raw numbers of people. An erasure deletes the rows holding
the person's numbers (the generic scan of every table finds them), and ``prune`` deletes every
row whose text no raw row holds any more (an unreadable number of the person's).
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.common.warehouse import table_exists, transaction

LOOKUP = "staging.phone_lookup"
_CODE = "staging.incremental_code"
_VERSION_KEY = "phone_lookup"
# What a row of the lookup is computed by (relative to the package).
_SOURCES = (
    "lib/staging/phone.py",
    "lib/staging/phone_sql.py",
    "lib/staging/junk.py",
    "lib/staging/address.py",
    "lib/staging/_common.py",
    "lib/staging/udfs.py",
    "lib/staging/macros.sql",
)
# The raw columns staging reads phone numbers from (an SMS number may carry a channel prefix,
# ``whatsapp:+27…``: both its forms count). ``prune`` keeps the rows of their texts.
RAW_PHONE_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_customers": ("phone", "address_phone"),
    "esp_members": ("phone",),
    "sms_messages": ("from", "to"),
    "pos_orders": ("billing_phone", "phone", "shipping_phone"),
}


def lookup_version(default_region: str) -> str:
    """The code and settings a row of the lookup was computed with."""
    import phonenumbers

    from cdp_pipeline.lib.common.code_version import source_hash

    return f"{source_hash(*_SOURCES)}|phonenumbers={phonenumbers.__version__}|region={default_region}"


def ensure_lookup(con: duckdb.DuckDBPyConnection, default_region: str) -> None:
    """Create the lookup, or empty it when it was filled by other code or another default region."""
    con.execute(f"""CREATE TABLE IF NOT EXISTS {LOOKUP} (
                        phone_text VARCHAR NOT NULL, country VARCHAR,
                        phone VARCHAR, flags VARCHAR[], is_junk BOOLEAN)""")
    con.execute(
        f"COMMENT ON TABLE {LOOKUP} IS 'Internal: each phone text staging has read, with the country it was "
        f"read in, its E.164 value, flags and junk test (lib/staging/phone_lookup.py); kept between nights.'"
    )
    con.execute(f"CREATE TABLE IF NOT EXISTS {_CODE} (staging_table VARCHAR, code_hash VARCHAR)")
    version = lookup_version(default_region)
    built = con.execute(f"SELECT code_hash FROM {_CODE} WHERE staging_table = ?", [_VERSION_KEY]).fetchall()
    if built != [(version,)]:
        with transaction(con):  # emptied and stamped together
            con.execute(f"DELETE FROM {LOOKUP}")
            con.execute(f"DELETE FROM {_CODE} WHERE staging_table = ?", [_VERSION_KEY])
            con.execute(f"INSERT INTO {_CODE} VALUES (?, ?)", [_VERSION_KEY, version])


def prune(con: duckdb.DuckDBPyConnection) -> int:
    """Delete the rows whose text no raw row holds any more; return how many.

    Run after an erasure deleted a person's raw rows. Rows of E.164 values read from SMS numbers
    (identity_records reads an SMS number's value again in no country) go too: a night adds back
    those it needs. Needs the macros of ``udfs.register_udfs`` on ``con``."""
    if not table_exists(con, "staging", "phone_lookup"):
        return 0
    texts = []
    for table, columns in RAW_PHONE_COLUMNS.items():
        if not table_exists(con, "raw", table):
            continue
        present = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name = 'raw' AND table_name = ?",
                [table],
            ).fetchall()
        }
        for column in columns:
            if column in present:
                value = f'raw.{table}."{column}"'
                texts.append(f"SELECT std_phone_text({value}) AS t FROM raw.{table} WHERE {value} IS NOT NULL")
                texts.append(
                    f"SELECT std_phone_text(regexp_replace({value}, '^\\s*[A-Za-z]+:', '')) FROM raw.{table} "
                    f"WHERE {value} IS NOT NULL"
                )
    kept = " UNION ".join(texts) if texts else "SELECT NULL::VARCHAR AS t WHERE false"
    return int(
        con.execute(
            f"DELETE FROM {LOOKUP} WHERE phone_text NOT IN (SELECT t FROM ({kept}) WHERE t IS NOT NULL)"
        ).fetchall()[0][0]
    )
