"""GA4 files held for a later delivery of their events day (``lib/raw/held_deliveries.py``): never
written when that delivery replaces them, and the same raw rows, ledger and quarantine as when
every file is written at its turn."""

import gzip

import duckdb
import pytest

from cdp_pipeline.lib.raw import load as load_module
from cdp_pipeline.lib.raw import load_partitions, parse_pool
from cdp_pipeline.lib.raw.files import discover_files
from cdp_pipeline.lib.raw.held_deliveries import likely_unwritten

D1, D2, D3, D4 = "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"


def _ga4(*stamps: int, cookie: str = "c1") -> bytes:
    return b"".join(
        b'{"event_timestamp":%d,"event_name":"page_view","user_pseudo_id":"%s"}\n' % (t, cookie.encode())
        for t in stamps
    )


BAD = b'{"event_name":"no timestamp"}\n'

# (landing day, file name, bytes), in load order
DELIVERIES = [
    # 30 September: exported on D1, re-exported on D2 (replaces it), an intraday snapshot late on D3
    (D1, "events_20260930.jsonl", _ga4(1, 2) + BAD),
    # 1 October: an intraday snapshot on D1, the daily export on D2 (replaces it)
    (D1, "events_intraday_20261001.jsonl", _ga4(3)),
    (D2, "events_20260930.jsonl", _ga4(4)),
    (D2, "events_20261001.jsonl", _ga4(5, 6)),
    # 2 October: its re-export on D3 holds no readable row (does not replace it); on D4 the same
    # bytes again (a duplicate, does not replace it either)
    (D2, "events_20261002.jsonl", _ga4(7)),
    (D3, "events_20261002.jsonl", BAD),
    (D3, "events_intraday_20260930.jsonl", _ga4(8)),
    # 3 October: two shards on D3, two shards re-exported on D4 (both replace both)
    (D3, "events_20261003-000000000000.json.gz", gzip.compress(_ga4(9, 10))),
    (D3, "events_20261003-000000000001.json.gz", gzip.compress(_ga4(11))),
    (D4, "events_20261002.jsonl", _ga4(7)),
    (D4, "events_20261003-000000000000.json.gz", gzip.compress(_ga4(12))),
    (D4, "events_20261003-000000000001.json.gz", gzip.compress(_ga4(13))),
    # 29 September: exported on D1, an intraday snapshot late on D2 (the D1 export, held, outranks
    # it), re-exported on D3
    (D1, "events_20260929.jsonl", _ga4(15, 16)),
    (D2, "events_intraday_20260929.jsonl", _ga4(17)),
    (D3, "events_20260929.jsonl", _ga4(18)),
    # 4 October: a 0-byte re-export (rejected) does not replace D3's
    (D3, "events_20261004.jsonl", _ga4(14)),
    (D4, "events_20261004.jsonl", b""),
]


def _landing(tmp_path):
    landing = tmp_path / "landing"
    for day, name, data in DELIVERIES:
        p = landing / "web" / day / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return landing


def _tables(con) -> list:
    return [
        con.execute(sql).fetchall()
        for sql in (
            "SELECT * EXCLUDE (_loaded_at) FROM raw.web_events ORDER BY ALL",
            "SELECT * EXCLUDE (loaded_at) FROM audit.files ORDER BY ALL",
            "SELECT * EXCLUDE (quarantined_at) FROM audit.quarantine ORDER BY ALL",
        )
    ]


_RAW_BATCH = load_module._raw_batch


def _load(tmp_path, monkeypatch, name: str, held_bytes: int, pending_bytes: int, workers: int = 1):
    """The four days in one step, then D2 and D3 again (days loaded before) in another; the
    tables after each, and the files whose rows were inserted."""
    monkeypatch.setattr(load_module._PendingWrites, "MAX_HELD_WEB_BYTES", held_bytes)
    monkeypatch.setattr(load_module._PendingWrites, "MAX_PENDING_BYTES", pending_bytes)
    inserted = []
    monkeypatch.setattr(
        load_module, "_raw_batch", lambda lf, parsed: inserted.append(lf.rel_path) or _RAW_BATCH(lf, parsed)
    )
    landing = tmp_path / "landing" if (tmp_path / "landing").exists() else _landing(tmp_path)
    con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
    try:
        load_partitions(con, landing, "web", [D1, D2, D3, D4], workers=workers)
        first = _tables(con)
        load_partitions(con, landing, "web", [D2, D3], workers=workers)
        return first, _tables(con), inserted
    finally:
        con.close()


@pytest.mark.parametrize("pending_bytes", [64 << 20, 1])  # the files of a step written together, or one by one
def test_held_files_give_the_tables_of_files_written_at_their_turn(tmp_path, monkeypatch, pending_bytes):
    written = _load(tmp_path, monkeypatch, "written", 0, pending_bytes)
    held = _load(tmp_path, monkeypatch, "held", 256 << 20, pending_bytes)
    assert held[:2] == written[:2]
    ledger = [(r[0], r[13], r[14]) for r in held[0][1]]  # file, status, message
    assert ledger == [
        (
            "web/2026-10-01/events_20260929.jsonl",
            "superseded",
            "events day 2026-09-29 replaced by web/2026-10-03/events_20260929.jsonl",
        ),
        (
            "web/2026-10-01/events_20260930.jsonl",
            "superseded",
            "events day 2026-09-30 replaced by web/2026-10-02/events_20260930.jsonl",
        ),
        (
            "web/2026-10-01/events_intraday_20261001.jsonl",
            "superseded",
            "events day 2026-10-01 replaced by web/2026-10-02/events_20261001.jsonl",
        ),
        ("web/2026-10-02/events_20260930.jsonl", "loaded", None),
        ("web/2026-10-02/events_20261001.jsonl", "loaded", None),
        ("web/2026-10-02/events_20261002.jsonl", "loaded", None),
        (
            "web/2026-10-02/events_intraday_20260929.jsonl",
            "superseded",
            "events day 2026-09-29 replaced by web/2026-10-01/events_20260929.jsonl",
        ),
        ("web/2026-10-03/events_20260929.jsonl", "loaded", None),
        ("web/2026-10-03/events_20261002.jsonl", "loaded", "no row could be read; all rows are in audit.quarantine"),
        (
            "web/2026-10-03/events_20261003-000000000000.json.gz",
            "superseded",
            "events day 2026-10-03 replaced by web/2026-10-04/events_20261003-000000000000.json.gz",
        ),
        (
            "web/2026-10-03/events_20261003-000000000001.json.gz",
            "superseded",
            "events day 2026-10-03 replaced by web/2026-10-04/events_20261003-000000000000.json.gz",
        ),
        ("web/2026-10-03/events_20261004.jsonl", "loaded", None),
        (
            "web/2026-10-03/events_intraday_20260930.jsonl",
            "superseded",
            "events day 2026-09-30 replaced by web/2026-10-02/events_20260930.jsonl",
        ),
        (
            "web/2026-10-04/events_20261002.jsonl",
            "duplicate",
            "same bytes as web/2026-10-02/events_20261002.jsonl (landing date 2026-10-02, loaded); not loaded again",
        ),
        ("web/2026-10-04/events_20261003-000000000000.json.gz", "loaded", None),
        ("web/2026-10-04/events_20261003-000000000001.json.gz", "loaded", None),
        ("web/2026-10-04/events_20261004.jsonl", "rejected", "empty file (0 bytes)"),
    ]
    # the late intraday snapshots were never written: older than the delivery before them
    late = {"web/2026-10-03/events_intraday_20260930.jsonl", "web/2026-10-02/events_intraday_20260929.jsonl"}
    replaced = {f for f, s, _ in ledger if s == "superseded"} - late
    assert replaced & set(written[2]) == replaced  # written at their turn: inserted, then deleted
    assert not replaced & set(held[2])  # held: never inserted
    assert set(held[2]) == {f for f, s, _ in ledger if s == "loaded"} - {"web/2026-10-03/events_20261002.jsonl"}


def test_a_held_file_over_the_bound_is_written_at_its_turn(tmp_path, monkeypatch):
    written = _load(tmp_path, monkeypatch, "written", 0, 64 << 20)
    small = _load(tmp_path, monkeypatch, "small", 100, 64 << 20)  # bytes: room for one small file
    assert small[:2] == written[:2]
    # the first delivery of 30 September (3 lines) is over the bound, the intraday snapshot of
    # 1 October (1 line) is not
    assert "web/2026-10-01/events_20260930.jsonl" in small[2]
    assert "web/2026-10-01/events_intraday_20261001.jsonl" not in small[2]


def test_the_files_a_step_will_likely_not_write_are_those_replaced_or_outranked(tmp_path):
    landing = _landing(tmp_path)
    files = [lf for day in (D1, D2, D3, D4) for lf in discover_files(landing, "web", day)]
    held = {
        # replaced by a later file of the step
        "web/2026-10-01/events_20260929.jsonl",
        "web/2026-10-01/events_20260930.jsonl",
        "web/2026-10-01/events_intraday_20261001.jsonl",
        "web/2026-10-03/events_20261003-000000000000.json.gz",
        "web/2026-10-03/events_20261003-000000000001.json.gz",
        # a re-export that holds no row, a duplicate, a 0-byte file: guessed replaced, written after all
        "web/2026-10-02/events_20261002.jsonl",
        "web/2026-10-03/events_20261002.jsonl",
        "web/2026-10-03/events_20261004.jsonl",
    }
    late = {"web/2026-10-02/events_intraday_20260929.jsonl", "web/2026-10-03/events_intraday_20260930.jsonl"}
    assert likely_unwritten(files, 256 << 20) == held | late
    # a file over the bound is written at its turn: of 100 bytes, the files of one line or less fit
    small = {
        "web/2026-10-01/events_intraday_20261001.jsonl",
        "web/2026-10-02/events_20261002.jsonl",
        "web/2026-10-03/events_20261002.jsonl",
        "web/2026-10-03/events_20261004.jsonl",
    }
    assert likely_unwritten(files, 100) == late | small


@pytest.mark.parametrize("held_bytes", [256 << 20, 100])
def test_files_the_workers_only_count_give_the_tables_of_a_whole_parse(tmp_path, monkeypatch, held_bytes):
    """The workers only count the GA4 files the step will likely not write; one it writes after all
    (its replacement held no row, was a duplicate or rejected) is read and parsed again, whole."""
    serial = _load(tmp_path, monkeypatch, "serial", held_bytes, 64 << 20)
    monkeypatch.setattr(parse_pool, "MIN_POOL_BYTES", 0)
    again = []
    parse_again = parse_pool.parse_again
    monkeypatch.setattr(parse_pool, "parse_again", lambda lf, s: again.append(lf.rel_path) or parse_again(lf, s))
    pooled = _load(tmp_path, monkeypatch, "pooled", held_bytes, 64 << 20, workers=2)
    assert pooled[:2] == serial[:2]
    # 2 October's D2 export (its D3 re-export holds no row: it stays, in both steps) and 4 October's
    # D3 export (its D4 re-export is rejected); the other files counted were replaced or outranked
    assert sorted(again) == [
        "web/2026-10-02/events_20261002.jsonl",
        "web/2026-10-02/events_20261002.jsonl",
        "web/2026-10-03/events_20261004.jsonl",
    ]
