"""The one pair of quoting helpers every statement built in Python uses."""

import duckdb

from cdp_pipeline.lib.sql_files import quote_ident, quote_literal


def test_quoted_names_and_strings_survive_duckdb_unchanged():
    con = duckdb.connect()
    name, text = 'odd "name"; DROP', "it's a 'quote'"
    con.execute(f"CREATE TABLE t ({quote_ident(name)} VARCHAR)")
    con.execute(f"INSERT INTO t VALUES ({quote_literal(text)})")
    columns = con.sql("SELECT column_name FROM duckdb_columns() WHERE table_name = 't'").fetchall()
    assert columns == [(name,)]
    assert con.execute(f"SELECT {quote_ident(name)} FROM t").fetchall() == [(text,)]
