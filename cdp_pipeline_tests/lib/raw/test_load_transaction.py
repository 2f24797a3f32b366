"""A source's load writes its batches of files in one transaction (lib/raw/load_transaction.py):
committed once, rolled back whole when the load fails, committed early only before a GA4
delivery deletes rows the transaction inserted."""

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from cdp_pipeline.lib.raw import load as load_module
from cdp_pipeline.lib.raw import load_partitions
from cdp_pipeline.lib.raw.load_transaction import LoadTransaction

DAY1, DAY2, DAY3 = "2026-10-01", "2026-10-02", "2026-10-03"
CRM = b"customer_id,first_name,email\n1,Anna,a@b.se\n2,Bo,b@c.se\n"


def drop(landing: Path, source: str, day: str, name: str, data: bytes) -> None:
    p = landing / source / day / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def q(con, sql):
    return con.execute(sql).fetchall()


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    yield c
    c.close()


def test_a_load_that_fails_after_writing_batches_leaves_none_of_its_files(con, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    for day in (DAY1, DAY2, DAY3):
        drop(landing, "crm", day, f"customers_{day}.csv", CRM.replace(b"a@b.se", day.encode() + b"@b.se"))
    monkeypatch.setattr(load_module._PendingWrites, "MAX_PENDING_BYTES", 1)  # each file a batch of its own
    load_file = load_module._load_file
    written = []

    def fail_on_the_third(con, lf, **kw):
        if lf.landing_date == dt.date.fromisoformat(DAY3):
            assert q(con, "SELECT count(*) FROM audit.files") == [(2,)]  # two batches written, in the transaction
            raise OSError("disk full")
        written.append(lf.name)
        return load_file(con, lf, **kw)

    monkeypatch.setattr(load_module, "_load_file", fail_on_the_third)
    with pytest.raises(OSError, match="disk full"):
        load_partitions(con, landing, "crm", [DAY1, DAY2, DAY3])
    assert len(written) == 2
    assert q(con, "SELECT count(*) FROM audit.files") == [(0,)]
    assert q(con, "SELECT count(*) FROM raw.crm_customers") == [(0,)]
    # nothing left open: the rerun loads every day
    monkeypatch.setattr(load_module, "_load_file", load_file)
    out = load_partitions(con, landing, "crm", [DAY1, DAY2, DAY3])
    assert [f.status for o in out for f in o.files] == ["loaded"] * 3
    assert q(con, "SELECT count(*) FROM raw.crm_customers") == [(6,)]


def test_other_connections_see_a_source_once_its_load_is_done(con, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    drop(landing, "crm", DAY1, "a.csv", CRM)
    drop(landing, "crm", DAY2, "b.csv", CRM.replace(b"a@b.se", b"x@y.se"))
    monkeypatch.setattr(load_module._PendingWrites, "MAX_PENDING_BYTES", 1)
    other = con.cursor()
    load_file = load_module._load_file
    seen = []

    def look(con_, lf, **kw):
        if lf.name == "b.csv":  # a.csv's batch is written
            seen.append(q(other, "SELECT count(*) FROM audit.files WHERE file LIKE '%a.csv'"))
        return load_file(con_, lf, **kw)

    monkeypatch.setattr(load_module, "_load_file", look)
    load_partitions(con, landing, "crm", [DAY1, DAY2])
    assert seen == [[(0,)]]
    assert q(other, "SELECT count(*) FROM audit.files") == [(2,)]


def test_a_delivery_replacing_rows_of_the_transaction_commits_them_first(con):
    con.execute("CREATE TABLE t (events_day VARCHAR)")
    other = con.cursor()
    tx = LoadTransaction(con)
    tx.begin()
    con.execute("INSERT INTO t VALUES ('20261001')")
    tx.inserted_web_rows("20261001", (1, dt.date(2026, 10, 2)))
    tx.before_replacing("20261001", (1, dt.date(2026, 10, 2)))  # another shard of the same delivery
    tx.before_replacing("20261002", (1, dt.date(2026, 10, 3)))  # another events day
    assert q(other, "SELECT count(*) FROM t") == [(0,)]
    tx.before_replacing("20261001", (1, dt.date(2026, 10, 3)))  # a later delivery of the day
    assert q(other, "SELECT count(*) FROM t") == [(1,)]
    assert tx.open
    con.execute("INSERT INTO t VALUES ('20261002')")
    tx.before_replacing("20261001", (1, dt.date(2026, 10, 4)))  # its rows are committed: nothing to do
    assert q(other, "SELECT count(*) FROM t") == [(1,)]
    tx.rollback()
    assert q(con, "SELECT count(*) FROM t") == [(1,)]


def test_batches_inserted_in_the_open_transaction_are_not_kept_in_memory(con):
    # DuckDB keeps an object registered in a transaction alive until it ends, unregistered or not
    import pyarrow as pa

    from cdp_pipeline.lib.raw.load import _insert_batch

    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.t (v VARCHAR, _loaded_at TIMESTAMP)")
    before = pa.total_allocated_bytes()
    con.execute("BEGIN")
    for i in range(3):
        batch = pa.table({"v": pa.array([f"{i}-{j:>100}" for j in range(10_000)])})  # ~1 MB
        _insert_batch(con, batch, "insert_raw_rows", {"loaded_at": dt.datetime(2026, 10, 1)}, table="t")
        del batch
    assert pa.total_allocated_bytes() - before < 1 << 20
    con.execute("COMMIT")
    assert q(con, "SELECT count(*) FROM raw.t") == [(30_000,)]
