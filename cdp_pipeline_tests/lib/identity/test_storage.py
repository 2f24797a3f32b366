"""identity tables written whole: the query's columns and rows, in order, record ids stored with ZSTD."""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.identity.storage import replace_table


def _rows_query() -> str:
    return """SELECT CASE WHEN i % 2 = 0 THEN 'crm' ELSE 'pos' END AS source, 'rec-' || (5000 - i)::VARCHAR AS source_record_id,
                     'C-' || (i % 7)::VARCHAR AS customer_id, TIMESTAMP '2026-01-01' AS customer_created_at,
                     $run_id::VARCHAR AS run_id, i AS rid
              FROM range(5000) t(i)"""


def test_replace_table_holds_the_querys_columns_and_rows_in_order(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA identity")
    con.execute("CREATE TABLE identity.customer_map (old_column INTEGER)")  # replaced, not appended to
    rows = f"SELECT * EXCLUDE (rid) FROM ({_rows_query()})"
    replace_table(con, "identity.customer_map", rows, "source, source_record_id", {"run_id": "r1"})

    assert (
        con.execute("DESCRIBE identity.customer_map").fetchall()
        == con.execute(f"DESCRIBE {rows}", {"run_id": "r1"}).fetchall()
    )
    assert (
        con.execute("SELECT * FROM identity.customer_map").fetchall()
        == con.execute(f"{rows} ORDER BY source, source_record_id", {"run_id": "r1"}).fetchall()
    )


def test_record_ids_are_stored_with_zstd_and_other_strings_left_to_duckdb(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA identity")
    replace_table(con, "identity.customer_map", _rows_query(), "rid", {"run_id": "r1"})
    con.execute("CHECKPOINT")
    compression = dict(
        con.execute("""SELECT column_name, any_value(compression) FROM pragma_storage_info('identity.customer_map')
                       WHERE segment_type = 'VARCHAR' GROUP BY 1""").fetchall()
    )
    assert compression["source_record_id"] == "ZSTD"
    assert compression["customer_id"] != "ZSTD"
