"""The one SQL runner (sql_files) and the one pair of quoting helpers every statement built in Python uses."""

import ast
import re
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import quote_ident, quote_literal


def test_quoted_names_and_strings_survive_duckdb_unchanged():
    con = duckdb.connect()
    name, text = 'odd "name"; DROP', "it's a 'quote'"
    con.execute(f"CREATE TABLE t ({quote_ident(name)} VARCHAR)")
    con.execute(f"INSERT INTO t VALUES ({quote_literal(text)})")
    columns = con.sql("SELECT column_name FROM duckdb_columns() WHERE table_name = 't'").fetchall()
    assert columns == [(name,)]
    assert con.execute(f"SELECT {quote_ident(name)} FROM t").fetchall() == [(text,)]


def test_each_statement_receives_the_parameters_it_names_and_identifiers_fill_names(tmp_path):
    from cdp_pipeline.lib.common.sql_files import fetch_sql, fetch_sql_dicts, query_sql, run_sql

    (tmp_path / "create_t.sql").write_text("-- A table.\nCREATE TABLE {table} AS SELECT $a AS a")
    (tmp_path / "select_t.sql").write_text("-- Its rows above $floor.\nSELECT a, $b AS b FROM {table} WHERE a > $floor")
    con = duckdb.connect()
    params = {"a": 5, "b": "x", "floor": 1}  # one dict for both statements
    run_sql(con, tmp_path, "create_t", params, table="t")
    assert fetch_sql(con, tmp_path, "select_t", params, table="t") == [(5, "x")]
    assert query_sql(con, tmp_path, "select_t", params, table="t") == (["a", "b"], [(5, "x")])
    assert fetch_sql_dicts(con, tmp_path, "select_t", {**params, "floor": 9}, table="t") == []


def test_arrow_sql_gives_the_rows_as_an_arrow_table_with_the_same_convention(tmp_path):
    from cdp_pipeline.lib.common.sql_files import arrow_sql

    (tmp_path / "select_t.sql").write_text(
        "-- Rows.\nSELECT range AS n, $tag AS tag FROM range({count}) WHERE range >= $min"
    )
    con = duckdb.connect()
    table = arrow_sql(con, tmp_path, "select_t", {"tag": "x", "min": 1, "unused": 0}, count="3")
    assert table.column_names == ["n", "tag"]
    assert table.to_pylist() == [{"n": 1, "tag": "x"}, {"n": 2, "tag": "x"}]
    (tmp_path / "select_s.sql").write_text("SELECT 1 AS one")
    assert arrow_sql(con, tmp_path, "select_s").to_pylist() == [{"one": 1}]


PACKAGE = Path(__file__).resolve().parents[3] / "cdp_pipeline"
# The one runner.
READ_SQL_FILES = {PACKAGE / "lib" / "common" / "sql_files.py"}
# Reading a .sql file, loading its text to execute it, a private runner, rewriting a statement.
SECOND_RUNNER = re.compile(
    # (Dagster's Executor interface, ``execute(self, plan_context, ...)`` in defs/executor.py, runs steps, not SQL)
    r"""\.sql"?\)?\.read_text\(|open\([^)]*\.sql|\bload_sql\(|def (_sql|_fetch|_query|execute)\((?!self, plan_context)"""
    r"""|\.replace\(header|re\.sub\([^)]*raw\\\."""
)
# Layers whose SQL sits beside their lib/ code: none of their modules reaches into defs/ by path.
SQL_BESIDE_CODE_LAYERS = ("segments", "activation", "golden", "audit", "publish", "identity")


def _lines(paths):
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            yield f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}", line


def test_sql_files_are_read_and_run_only_by_the_one_runner():
    """Anywhere in the package, a second way to run a .sql file is refused: reading one, loading
    its text (``load_sql``) to execute it, a private runner (``_sql``, ``_fetch``, ``_query``), or
    rewriting a statement's text (its opening, a ``raw.`` table name)."""
    modules = [p for p in sorted(PACKAGE.rglob("*.py")) if p not in READ_SQL_FILES]
    assert [where for where, line in _lines(modules) if SECOND_RUNNER.search(line)] == []


def test_the_one_runner_check_finds_each_second_runner():
    """The check above is not blind: it finds each way of running SQL it refuses."""
    samples = [
        'cur = con.execute(load_sql(SQL_DIR, "select_x"))',
        "return load_sql(SQL_DIR, name, **identifiers)",
        'text = (SQL_DIR / "select_x.sql").read_text()',
        'with open(SQL_DIR / "x.sql") as f:',
        "def _fetch(con, name):",
        "sql = sql.replace(header, 'INSERT INTO t')",
        r"sql = re.sub(rf'\braw\.{t}\b', 'temp.x', sql)",
    ]
    assert [s for s in samples if not SECOND_RUNNER.search(s)] == []
    assert not SECOND_RUNNER.search('rows = fetch_sql(con, SQL_DIR, "select_x", params)')


# A text substitution (str.replace, re.sub, a compiled pattern's sub) is a rewrite of SQL when the
# text it changes is named as SQL (a variable, attribute or function called sql, statement, query,
# macro: load_sql, MACROS) or read from a file (read_text), or when what it replaces is a placeholder (@@NAME@@) or a piece of a statement.
_SUBSTITUTIONS = {"replace", "sub", "subn"}
_SQL_TEXT = re.compile(r"sql|statement|query|macro|read_text", re.IGNORECASE)
_SQL_PIECE = re.compile(r"@@|\b(CREATE|SELECT|INSERT|DELETE|UPDATE|FROM|WHERE|AS)\b|\braw\\?\.")


def _sql_rewrites(source: str) -> list[int]:
    """Line numbers of the substitutions applied to SQL text in ``source`` (see above)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in _SUBSTITUTIONS:
            continue
        receiver = node.func.value
        if isinstance(receiver, ast.Name) and receiver.id == "re":  # re.sub(pattern, replacement, text)
            pattern, text = node.args[:1], node.args[2:3]
        elif node.func.attr == "replace":  # text.replace(old, new)
            pattern, text = node.args[:1], [receiver]
        else:  # pattern.sub(replacement, text)
            pattern, text = [receiver], node.args[1:2]
        names = [
            n.id if isinstance(n, ast.Name) else n.attr
            for t in text
            for n in ast.walk(t)
            if isinstance(n, (ast.Name, ast.Attribute))
        ]
        named_sql = any(_SQL_TEXT.search(name) for name in names)
        constants = [c.value for p in pattern for c in ast.walk(p) if isinstance(c, ast.Constant)]
        sql_piece = any(isinstance(c, str) and _SQL_PIECE.search(c) for c in constants)
        if named_sql or sql_piece:
            found.append(node.lineno)
    return found


def test_no_sql_text_is_rewritten():
    """A statement or macro runs as its file says (values as parameters or DuckDB variables,
    identifiers through the runner's placeholders), never after a text substitution."""
    modules = sorted(PACKAGE.rglob("*.py"))
    found = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in modules
        for line in _sql_rewrites(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_rewrite_check_finds_each_rewrite():
    """The check above is not blind: each way SQL text was (or could be) rewritten is found, and
    the substitutions the package makes on other text are not."""
    rewrites = [
        'text = MACROS.read_text().replace("@@JUNK_LOCAL_PARTS@@", parts)',
        'sql = load_sql(SQL_DIR, "create_x").replace("CREATE OR REPLACE TABLE", "INSERT INTO")',
        "statement = statement.replace(header, 'INSERT INTO t')",
        r"sql = re.sub(rf'\braw\.{t}\b', 'temp.x', sql)",
        r"query = _RAW_TABLE.sub('temp.x', query)",
        'cond = cond.replace("@@COLUMN@@", column)',
        'text = text.replace("SELECT *", "SELECT a")',
    ]
    assert [s for s in rewrites if not _sql_rewrites(s)] == []
    other_text = [
        "os.replace(tmp, path)",
        "moment = now.replace(tzinfo=None)",
        'literal = "\'" + text.replace("\'", "\'\'") + "\'"',
        r'digits = re.sub(r"\D", "", phone)',
        'key = name.lower().replace("-", "_")',
        'label = str(level.get("sql_condition", "")).replace("|", "\\\\|")',
    ]
    assert [s for s in other_text if _sql_rewrites(s)] == []


def test_lib_does_not_reach_into_defs_for_sql():
    folders = [PACKAGE / side / layer for layer in SQL_BESIDE_CODE_LAYERS for side in ("lib", "defs")]
    modules = [p for folder in folders if folder.is_dir() for p in sorted(folder.rglob("*.py"))]
    assert [where for where, line in _lines(modules) if '"defs"' in line] == []
