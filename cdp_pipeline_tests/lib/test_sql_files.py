"""The one SQL runner (sql_files) and the one pair of quoting helpers every statement built in Python uses."""

from pathlib import Path

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


def test_each_statement_receives_the_parameters_it_names_and_identifiers_fill_names(tmp_path):
    from cdp_pipeline.lib.sql_files import fetch_sql, fetch_sql_dicts, query_sql, run_sql

    (tmp_path / "create_t.sql").write_text("-- A table.\nCREATE TABLE {table} AS SELECT $a AS a")
    (tmp_path / "select_t.sql").write_text("-- Its rows above $floor.\nSELECT a, $b AS b FROM {table} WHERE a > $floor")
    con = duckdb.connect()
    params = {"a": 5, "b": "x", "floor": 1}  # one dict for both statements
    run_sql(con, tmp_path, "create_t", params, table="t")
    assert fetch_sql(con, tmp_path, "select_t", params, table="t") == [(5, "x")]
    assert query_sql(con, tmp_path, "select_t", params, table="t") == (["a", "b"], [(5, "x")])
    assert fetch_sql_dicts(con, tmp_path, "select_t", {**params, "floor": 9}, table="t") == []


# Layers whose SQL goes through the one runner (sql_files); the others move to it in later steps.
ONE_RUNNER_LAYERS = ("segments", "activation", "golden", "privacy", "publish")
PACKAGE = Path(__file__).resolve().parents[2] / "cdp_pipeline"


def test_the_layers_on_the_one_runner_do_not_load_or_rewrite_sql_files_themselves():
    """A second way to run a .sql file (reading it, executing load_sql's text, a private helper)
    or a lib module reaching into defs/ for SQL is refused in these layers."""
    import re

    forbidden = re.compile(
        r"""\.sql"?\)?\.read_text\(|execute\(\s*load_sql\(|def (_sql|_fetch|_query|execute)\(|/ "defs" /|\.replace\(header"""
    )
    found = []
    for layer in ONE_RUNNER_LAYERS:
        for folder in (PACKAGE / "lib" / layer, PACKAGE / "defs" / layer):
            for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    if forbidden.search(line):
                        found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []
