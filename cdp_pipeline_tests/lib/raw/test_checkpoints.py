"""A day is loaded with DuckDB's automatic checkpoints deferred, one DuckDB thread and each filled
row group written at once (lib/raw/load.py), and the database's own checkpoint threshold, threads
and write buffer are back afterwards, also when the load fails."""

import duckdb
import pytest

from cdp_pipeline.lib.raw import load as load_module
from cdp_pipeline.lib.raw import load_partition

DAY = "2026-10-01"
EVENTS = b'{"event_timestamp":1,"event_name":"page_view","user_pseudo_id":"c1"}\n'


def threshold(con) -> str:
    return con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0]


def threads(con) -> int:
    return con.execute("SELECT current_setting('threads')").fetchall()[0][0]


def write_buffer(con) -> int:
    return con.execute("SELECT current_setting('write_buffer_row_group_count')").fetchall()[0][0]


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    c.execute("SET checkpoint_threshold = '32MB'")
    c.execute("SET threads = 3")
    c.execute("SET write_buffer_row_group_count = 7")
    yield c
    c.close()


@pytest.fixture
def landing(tmp_path):
    folder = tmp_path / "landing" / "web" / DAY
    folder.mkdir(parents=True)
    (folder / "events_20261001.jsonl").write_bytes(EVENTS)
    return tmp_path / "landing"


def test_files_load_with_checkpoints_deferred_and_the_threshold_is_restored(con, landing, monkeypatch):
    own = threshold(con)
    seen = []
    load_file = load_module.load_file

    def spy(con, lf, **kw):
        seen.append((threshold(con), threads(con), write_buffer(con)))
        return load_file(con, lf, **kw)

    monkeypatch.setattr(load_module, "load_file", spy)
    out = load_partition(con, landing, "web", DAY, suppression=[])
    assert out.rows_loaded == 1
    assert seen == [(threshold(duckdb.connect(":memory:", config={"checkpoint_threshold": "1GB"})), 1, 1)]
    assert threshold(con) == own == "30.5 MiB"
    assert threads(con) == 3
    assert write_buffer(con) == 7


def test_the_threshold_is_restored_when_a_load_fails(con, landing, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(load_module, "load_file", fail)
    with pytest.raises(RuntimeError):
        load_partition(con, landing, "web", DAY, suppression=[])
    assert threshold(con) == "30.5 MiB"
    assert threads(con) == 3
    assert write_buffer(con) == 7
