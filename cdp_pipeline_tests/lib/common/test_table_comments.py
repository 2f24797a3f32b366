"""apply_table_comments writes a table's comments only when they are not already in place."""

import duckdb
import pytest

from cdp_pipeline.lib.common.table_comments import apply_table_comments

DOCS = ("customers of the test", {"customer_id": "the id", "name": "the name"})


class Recording:
    """A connection that records the statements run through it."""

    def __init__(self, con):
        self.con, self.statements = con, []

    def execute(self, sql, *args):
        self.statements.append(sql)
        return self.con.execute(sql, *args)


def _comments(con) -> dict:
    table = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'customers'").fetchall()[0][0]
    columns = dict(
        con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'customers'").fetchall()
    )
    return {"table": table, **columns}


def _comment_statements(rec: Recording) -> list[str]:
    return [s for s in rec.statements if s.startswith("COMMENT")]


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("CREATE SCHEMA t")
    c.execute("CREATE TABLE t.customers (customer_id VARCHAR, name VARCHAR, spend DOUBLE)")
    yield c
    c.close()


def test_comments_a_new_table_and_names_the_columns_left_uncommented(con):
    rec = Recording(con)
    assert apply_table_comments(rec, "t", "customers", *DOCS) == ["spend"]
    assert len(_comment_statements(rec)) == 3
    assert _comments(con) == {
        "table": "customers of the test",
        "customer_id": "the id",
        "name": "the name",
        "spend": None,
    }


def test_a_table_whose_comments_are_in_place_is_not_written(con):
    apply_table_comments(con, "t", "customers", *DOCS)
    rec = Recording(con)
    assert apply_table_comments(rec, "t", "customers", *DOCS) == ["spend"]
    assert _comment_statements(rec) == []


def test_a_changed_comment_or_a_recreated_table_is_written_again(con):
    apply_table_comments(con, "t", "customers", *DOCS)
    rec = Recording(con)
    apply_table_comments(rec, "t", "customers", DOCS[0], {**DOCS[1], "name": "the full name"})
    assert _comment_statements(rec)
    assert _comments(con)["name"] == "the full name"
    con.execute("CREATE OR REPLACE TABLE t.customers AS SELECT * FROM t.customers")  # comments are lost
    apply_table_comments(con, "t", "customers", *DOCS)
    assert _comments(con)["table"] == "customers of the test" and _comments(con)["name"] == "the name"


def test_a_comment_on_a_column_the_table_lacks_is_refused_also_when_the_rest_is_in_place(con):
    apply_table_comments(con, "t", "customers", *DOCS)
    with pytest.raises(ValueError, match="no column"):
        apply_table_comments(con, "t", "customers", DOCS[0], {**DOCS[1], "gone": "a stale comment"})
