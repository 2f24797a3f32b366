"""``staging.identity_records`` rebuilt only for the records a night's files touch.

Every row of ``staging.identity_records`` is one source record, computed from the raw rows
that share its key and from nothing else (the latest CRM version of a customer_id, the
latest ESP version of a member, every message to a number, every event of a web user_id,
every line of an order or a receipt). So when a night loads new files, only the records
whose keys occur in them can change. This module finds those keys and runs the table's
own ``create_identity_records.sql`` over just their raw rows: the same statement, with each
``raw.<table>`` swapped for the rows of the affected keys, its rows replacing theirs.

What a night changed is read from the raw layer itself: ``staging.identity_record_files``
keeps the keys found in each raw file (by path and checksum). A file that is new or has
other bytes, and a file whose rows are gone (a replaced partition, a superseded GA4
export), mark their keys. Records flagged ``impossible_birth_date`` are redone too: that
check is relative to the data's date, which moves every night.

Everything is rebuilt when there is no previous table or index, or on a full refresh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cdp_pipeline.lib.sql_files import load_sql

TABLE = "staging.identity_records"
INDEX = "staging.identity_record_files"
AFFECTED = "temp._stg_affected_records"

# raw table -> (source, the record key of a raw row, exactly as create_identity_records.sql
# groups the rows into records; NULL for rows that make no record)
RECORD_KEYS: dict[str, tuple[str, str]] = {
    "crm_customers": ("crm", "nullif(trim(customer_id), '')"),
    "esp_members": ("esp", "coalesce(nullif(trim(leid), ''), std_email(email_address))"),
    "sms_messages": ("sms", "std_phone(CASE WHEN lower(trim(direction)) LIKE 'inbound%' "
                            "THEN \"from\" ELSE \"to\" END, NULL)"),
    "web_events": ("web", "nullif(trim(user_id), '')"),
    "pos_orders": ("pos", "'order:' || nullif(trim(name), '')"),
    "pos_receipts": ("pos", "'receipt:' || nullif(trim(store_id), '') || ':' || nullif(trim(receipt_id), '')"),
}

_HEADER = "CREATE OR REPLACE TABLE staging.identity_records AS"


@dataclass
class StagingPlan:
    mode: str                 # "full" or "incremental"
    affected_records: int = 0
    files_read: int = 0       # new or changed raw files whose keys were read
    files_gone: int = 0


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
                            "AND NOT temporary", [schema, table]).fetchall()[0][0])


def _current_files(con: duckdb.DuckDBPyConnection) -> None:
    parts = [f"SELECT DISTINCT '{t}' AS raw_table, _file AS file, _file_sha256 AS sha256 FROM raw.{t}"
             for t in RECORD_KEYS]
    con.execute("CREATE OR REPLACE TEMP TABLE _stg_files AS " + " UNION ALL ".join(parts))


def _keys_of_files(con: duckdb.DuckDBPyConnection, files: str, out: str) -> None:
    """``out(raw_table, file, sha256, source, source_record_id)``: the record keys in ``files``."""
    parts = [f"""SELECT DISTINCT '{t}' AS raw_table, r._file AS file, r._file_sha256 AS sha256,
                        '{source}' AS source, {key} AS source_record_id
                 FROM raw.{t} r SEMI JOIN {files} f
                   ON f.raw_table = '{t}' AND f.file = r._file AND f.sha256 = r._file_sha256"""
             for t, (source, key) in RECORD_KEYS.items()]
    # a file whose rows make no record keeps one NULL-key row: it is known, not new every night
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT * FROM (" + " UNION ALL ".join(parts) + ")")


def rebuild_index(con: duckdb.DuckDBPyConnection) -> None:
    """The keys of every raw file (after a full build)."""
    _current_files(con)
    _keys_of_files(con, "temp._stg_files", "_stg_all_keys")
    con.execute(f"CREATE OR REPLACE TABLE {INDEX} AS SELECT * FROM temp._stg_all_keys ORDER BY ALL")
    con.execute(f"COMMENT ON TABLE {INDEX} IS 'Internal: the record keys found in each raw file, so a night "
                f"rebuilds only the staging.identity_records rows its files touch.'")


def plan(con: duckdb.DuckDBPyConnection, *, full_refresh: bool) -> StagingPlan:
    """Write ``temp._stg_affected_records(source, source_record_id)`` and say how to build."""
    if full_refresh or not _exists(con, "staging", "identity_records") or not _exists(con, "staging",
                                                                                     "identity_record_files"):
        return StagingPlan("full")
    _current_files(con)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _stg_new_files AS
                    SELECT * FROM temp._stg_files
                    EXCEPT SELECT DISTINCT raw_table, file, sha256 FROM {INDEX}""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _stg_gone_files AS
                    SELECT DISTINCT raw_table, file, sha256 FROM {INDEX}
                    EXCEPT SELECT * FROM temp._stg_files""")
    _keys_of_files(con, "temp._stg_new_files", "_stg_new_keys")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {AFFECTED.split('.')[-1]} AS
        SELECT * FROM (
            SELECT source, source_record_id FROM temp._stg_new_keys
            UNION
            SELECT i.source, i.source_record_id FROM {INDEX} i
            SEMI JOIN temp._stg_gone_files g USING (raw_table, file, sha256)
            UNION
            SELECT source, source_record_id FROM {TABLE} WHERE list_contains(dq_flags, 'impossible_birth_date')
        ) WHERE source_record_id IS NOT NULL
    """)
    count, new, gone = con.execute(f"""SELECT (SELECT count(*) FROM {AFFECTED}),
                                              (SELECT count(*) FROM temp._stg_new_files),
                                              (SELECT count(*) FROM temp._stg_gone_files)""").fetchall()[0]
    return StagingPlan("incremental", count, new, gone)


def incremental_sql(sql_dir: Path) -> str:
    """The table's statement as an INSERT over the affected records' raw rows only."""
    sql = load_sql(sql_dir, "create_identity_records")
    if _HEADER not in sql:
        raise ValueError(f"create_identity_records.sql no longer starts with {_HEADER!r}")
    sql = sql.replace(_HEADER, f"INSERT INTO {TABLE}")
    for t in RECORD_KEYS:
        sql = re.sub(rf"\braw\.{t}\b", f"temp._stg_raw_{t}", sql)
    return sql


def build_incremental(con: duckdb.DuckDBPyConnection, sql_dir: Path) -> None:
    """Replace the affected records' rows (inside the caller's transaction) and update the index."""
    for t, (source, key) in RECORD_KEYS.items():
        # files first: the key (a Python function for ESP and SMS) is then read only in files
        # that hold an affected record
        con.execute(f"""
            CREATE OR REPLACE TEMP VIEW _stg_raw_{t} AS
            SELECT r.* FROM raw.{t} r
            WHERE r._file IN (SELECT file FROM (SELECT file, source, source_record_id FROM {INDEX}
                                                WHERE raw_table = '{t}'
                                                UNION ALL
                                                SELECT file, source, source_record_id FROM temp._stg_new_keys
                                                WHERE raw_table = '{t}')
                              SEMI JOIN {AFFECTED} USING (source, source_record_id))
              AND ({key}) IN (SELECT source_record_id FROM {AFFECTED} WHERE source = '{source}')
        """)
    con.execute(f"DELETE FROM {TABLE} WHERE (source, source_record_id) IN "
                f"(SELECT source, source_record_id FROM {AFFECTED})")
    con.execute(incremental_sql(sql_dir))
    con.execute(f"DELETE FROM {INDEX} WHERE (raw_table, file, sha256) IN (SELECT * FROM temp._stg_gone_files)")
    con.execute(f"INSERT INTO {INDEX} SELECT * FROM temp._stg_new_keys ORDER BY ALL")
    for t in RECORD_KEYS:
        con.execute(f"DROP VIEW IF EXISTS temp._stg_raw_{t}")
