"""sync_rows: a staging table's rows a build makes again replaced by tonight's, only the rows that
differ written; the result is tonight's rows as a multiset (duplicates and NULLs included)."""

from collections import Counter

import duckdb
import pytest

from cdp_pipeline.lib.staging.accounting import SQL_DIR
from cdp_pipeline.lib.staging.sync import sync_rows

KEPT = [("pos", "o1", 1), ("pos", "o1", 1), ("pos", "o2", None), ("pos", "o3", 3), ("esp", "m1", 1)]


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE TABLE staging.t (source VARCHAR, id VARCHAR, n INTEGER)")
    con.executemany("INSERT INTO staging.t VALUES (?, ?, ?)", KEPT)
    yield con
    con.close()


def _tonight(con, rows):
    con.execute("CREATE OR REPLACE TEMP TABLE tonight (source VARCHAR, id VARCHAR, n INTEGER)")
    if rows:
        con.executemany("INSERT INTO tonight VALUES (?, ?, ?)", rows)
    con.execute("CREATE OR REPLACE TEMP VIEW t_rows AS SELECT * FROM tonight")


def _table(con):
    return Counter(con.execute("SELECT * FROM staging.t").fetchall())


@pytest.mark.parametrize(
    "tonight",
    [
        [("pos", "o1", 1), ("pos", "o2", None), ("pos", "o3", 4), ("pos", "o4", None)],  # a duplicate gone, one changed
        [("pos", "o1", 1)] * 3 + [("pos", "o2", None), ("pos", "o3", 3)],  # a third copy
        [],  # every row gone
        [("esp", "m1", 1), ("pos", "o2", 2)],  # a row equal to one not replaced
    ],
)
def test_the_replaced_rows_become_tonights_rows(con, tonight):
    _tonight(con, tonight)
    sync_rows(con, SQL_DIR, "t", "t_rows", "source = 'pos'")
    kept = Counter(r for r in KEPT if r[0] != "pos")
    assert _table(con) == kept + Counter(tonight)


def test_rows_that_did_not_change_are_not_written(con):
    before = con.execute("SELECT rowid, * FROM staging.t ORDER BY ALL").fetchall()
    _tonight(con, [r for r in KEPT if r[0] == "pos"])
    assert sync_rows(con, SQL_DIR, "t", "t_rows", "source = 'pos'") == 0
    assert con.execute("SELECT rowid, * FROM staging.t ORDER BY ALL").fetchall() == before
    _tonight(con, KEPT[:2] + KEPT[3:4] + [("pos", "o2", 2)])  # o2's n changed: its row alone rewritten
    assert sync_rows(con, SQL_DIR, "t", "t_rows", "source = 'pos'") == 2
    after = con.execute("SELECT rowid, * FROM staging.t ORDER BY ALL").fetchall()
    assert [r for r in after if r[1:] != ("pos", "o2", 2)] == [r for r in before if r[1:] != ("pos", "o2", None)]
