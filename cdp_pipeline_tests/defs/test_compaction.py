"""The build database is compacted on a full refresh and every CDP_COMPACT_DAYS days; other runs'
connections let DuckDB merge no row groups (lib/common/compaction.py)."""

import datetime as dt

import dagster as dg
import duckdb
import pytest

from cdp_pipeline.defs.resources import BuildDatabase
from cdp_pipeline.defs.run_mode import FULL_REFRESH_TAG
from cdp_pipeline.lib.common.compaction import (
    COMPACTIONS,
    compact_on_close,
    compaction_due,
    no_compaction,
    record_compaction,
)

DAY = dt.date(2026, 10, 1)


@dg.asset
def appended(duckdb: BuildDatabase) -> dg.MaterializeResult:
    """Appends 100 rows and reports the vacuum setting its connection ran with."""
    with duckdb.get_connection() as con:
        con.execute("CREATE TABLE IF NOT EXISTS events (i INTEGER)")
        con.execute("INSERT INTO events SELECT i FROM range(100) r(i)")
        tasks = con.execute("SELECT current_setting('max_vacuum_tasks')").fetchall()[0][0]
    return dg.MaterializeResult(metadata={"max_vacuum_tasks": tasks})


def _run(path, compact_days=7, tags=None) -> int:
    result = dg.materialize(
        [appended], resources={"duckdb": BuildDatabase(database=str(path), compact_days=compact_days)}, tags=tags or {}
    )
    assert result.success
    return result.asset_materializations_for_node("appended")[0].metadata["max_vacuum_tasks"].value


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _row_groups(path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('events')").fetchall()[0][0]


def test_the_first_run_compacts_the_next_ones_append(tmp_path):
    path = tmp_path / "b.duckdb"
    assert _run(path) > 0  # nothing on record: compacts, and records today
    assert _run(path) == _run(path) == 0  # the same day: appended without merging
    assert _row_groups(path) == 3
    assert _run(path, tags={FULL_REFRESH_TAG: "true"}) > 0
    assert _row_groups(path) == 1  # merged (the run's first checkpoint)
    before = _utc_today()
    assert _run(path, compact_days=1) > 0
    run_days = {before, _utc_today()}  # one day unless midnight passed during the run
    with duckdb.connect(str(path), read_only=True) as con:
        [(compacted_on,)] = con.execute(f"SELECT * FROM {COMPACTIONS}").fetchall()
        assert compacted_on in run_days
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(500,)]


@pytest.mark.parametrize(
    ("last", "today", "due"),
    [
        (None, DAY, True),
        (DAY, DAY, False),
        (DAY, DAY + dt.timedelta(days=6), False),
        (DAY, DAY + dt.timedelta(days=7), True),
    ],
)
def test_compaction_is_due_every_seven_days(last, today, due):
    with duckdb.connect(":memory:") as con:
        if last:
            record_compaction(con, last)
        assert compaction_due(con, today, every_days=7, full_refresh=False) is due
        assert compaction_due(con, today, every_days=7, full_refresh=True)
        assert compaction_due(con, today, every_days=1, full_refresh=False)


def test_a_connection_without_compaction_leaves_row_groups_as_they_are(tmp_path):
    """What the setting does: the checkpoint that closes the connection merges nothing, in any table."""
    path = tmp_path / "b.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE events (i INTEGER)")
        con.execute("CREATE TABLE other (i INTEGER)")
    for n in range(3):
        with duckdb.connect(str(path)) as con:
            no_compaction(con)
            con.execute(f"INSERT INTO events SELECT i FROM range({n * 100}, {n * 100 + 100}) r(i)")
    assert _row_groups(path) == 3
    with duckdb.connect(str(path)) as con:  # a default checkpoint writing another table
        con.execute("INSERT INTO other VALUES (1)")
    assert _row_groups(path) == 1


def test_an_erasure_compacts_whatever_the_run_decided(tmp_path):
    """An erasure night ends with a compacting checkpoint, as every night did before."""
    path = tmp_path / "b.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE events (i INTEGER)")
    for n in range(3):
        with duckdb.connect(str(path)) as con:
            no_compaction(con)
            con.execute(f"INSERT INTO events SELECT i FROM range({n * 100}, {n * 100 + 100}) r(i)")
    with duckdb.connect(str(path)) as con:
        no_compaction(con)
        con.execute("DELETE FROM events WHERE i = 7")
        compact_on_close(con, DAY)
    assert _row_groups(path) == 1
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute(f"SELECT * FROM {COMPACTIONS}").fetchall() == [(DAY,)]
