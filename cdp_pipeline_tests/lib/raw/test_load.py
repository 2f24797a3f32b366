"""Loading landing days into a temporary DuckDB: ledger, quarantine, duplicates, reruns, GA4 re-exports."""

from pathlib import Path

import duckdb
import pytest

from cdp_pipeline.lib.raw import load_partition, load_partitions
from cdp_pipeline.lib.raw.ledger import ledger_balance, raw_table_columns

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest"
DAY1, DAY2 = "2026-10-01", "2026-10-02"


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    yield c
    c.close()


@pytest.fixture
def landing(tmp_path):
    return tmp_path / "landing"


def drop(landing: Path, source: str, day: str, name: str, data: bytes) -> Path:
    p = landing / source / day / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def q(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


CRM = b"customer_id,first_name,email\n1,Anna,a@b.se\n2,Bo,b@c.se\n"


def test_load_writes_raw_ledger_and_metadata_columns(con, landing):
    drop(landing, "crm", DAY1, "customers_20261001.csv", CRM)
    drop(landing, "crm", DAY1, ".hidden.csv", CRM)
    drop(landing, "crm", DAY1, "upload.csv.part", CRM)
    out = load_partition(con, landing, "crm", DAY1)
    assert [f.status for f in out.files] == ["loaded"]
    assert q(
        con, "SELECT customer_id, _file, _line, CAST(_landing_date AS VARCHAR) FROM raw.crm_customers ORDER BY _line"
    ) == [
        ("1", "crm/2026-10-01/customers_20261001.csv", 2, DAY1),
        ("2", "crm/2026-10-01/customers_20261001.csv", 3, DAY1),
    ]
    cols = [
        r[0]
        for r in q(
            con, "SELECT column_name FROM duckdb_columns() WHERE schema_name='raw' AND table_name='crm_customers'"
        )
    ]
    assert cols == [c for c, _ in raw_table_columns("crm_customers")]
    (row,) = q(
        con, "SELECT encoding, delimiter, file_kind, rows_read, rows_loaded, rows_quarantined, status FROM audit.files"
    )
    assert row == ("utf-8", ",", "crm_customers", 2, 2, 0, "loaded")


def test_rerun_of_a_partition_replaces_its_rows(con, landing):
    p = drop(landing, "crm", DAY1, "customers.csv", CRM)
    load_partition(con, landing, "crm", DAY1)
    load_partition(con, landing, "crm", DAY1)
    assert q(con, "SELECT count(*) FROM raw.crm_customers") == [(2,)]
    assert q(con, "SELECT count(*) FROM audit.files") == [(1,)]
    p.write_bytes(b'customer_id\n9\n"bad\n')
    load_partition(con, landing, "crm", DAY1)
    assert q(con, "SELECT customer_id FROM raw.crm_customers") == [("9",)]
    assert q(con, "SELECT line_number FROM audit.quarantine") == [(3,)]
    load_partition(con, landing, "crm", DAY1)
    assert q(con, "SELECT count(*) FROM audit.quarantine") == [(1,)]


def test_same_file_twice_is_loaded_once(con, landing):
    drop(landing, "crm", DAY1, "customers_a.csv", CRM)
    drop(landing, "crm", DAY2, "customers_renamed.csv", CRM)
    load_partition(con, landing, "crm", DAY1)
    out = load_partition(con, landing, "crm", DAY2)
    assert out.files[0].status == "duplicate"
    assert "crm/2026-10-01/customers_a.csv" in out.files[0].message
    assert q(con, "SELECT count(*) FROM raw.crm_customers") == [(2,)]
    # rerunning the day that first loaded it still loads it
    load_partition(con, landing, "crm", DAY1)
    assert q(con, "SELECT status FROM audit.files ORDER BY landing_date") == [("loaded",), ("duplicate",)]
    assert q(con, "SELECT count(*) FROM raw.crm_customers") == [(2,)]


def test_same_file_twice_on_the_same_day(con, landing):
    drop(landing, "crm", DAY1, "a.csv", CRM)
    drop(landing, "crm", DAY1, "b.csv", CRM)
    drop(landing, "crm", DAY1, "c.csv", b"\x00\x01" * 100)
    drop(landing, "crm", DAY1, "d.csv", b"\x00\x01" * 100)
    out = load_partition(con, landing, "crm", DAY1)
    # the day's files are written together: the ledger's first delivery may not be written yet
    assert [f.status for f in out.files] == ["loaded", "duplicate", "rejected", "duplicate"]
    assert q(con, "SELECT file, status, message FROM audit.files WHERE status = 'duplicate' ORDER BY file") == [
        (
            "crm/2026-10-01/b.csv",
            "duplicate",
            "same bytes as crm/2026-10-01/a.csv (landing date 2026-10-01, loaded); not loaded again",
        ),
        (
            "crm/2026-10-01/d.csv",
            "duplicate",
            "same bytes as crm/2026-10-01/c.csv (landing date 2026-10-01, rejected); not loaded again",
        ),
    ]
    assert q(con, "SELECT count(*) FROM raw.crm_customers") == [(2,)]


def test_days_loaded_together_write_every_file_and_find_duplicates_across_days(con, landing):
    drop(landing, "crm", DAY1, "a.csv", CRM)
    drop(landing, "crm", DAY1, "b.csv", b'customer_id\n7\n"bad\n')
    drop(landing, "crm", DAY2, "renamed.csv", CRM)
    # a day listed twice is loaded once (its pending files are not its own first delivery)
    out = load_partitions(con, landing, "crm", [DAY1, DAY2, DAY1])
    assert [[f.status for f in o.files] for o in out] == [["loaded", "loaded"], ["duplicate"]]
    assert out[1].files[0].message.startswith("same bytes as crm/2026-10-01/a.csv (landing date 2026-10-01, loaded)")
    assert q(con, "SELECT file, status, rows_loaded, rows_quarantined FROM audit.files ORDER BY file") == [
        ("crm/2026-10-01/a.csv", "loaded", 2, 0),
        ("crm/2026-10-01/b.csv", "loaded", 1, 1),
        ("crm/2026-10-02/renamed.csv", "duplicate", 0, 0),
    ]
    assert q(con, "SELECT _file, _line, CAST(_landing_date AS VARCHAR) FROM raw.crm_customers ORDER BY ALL") == [
        ("crm/2026-10-01/a.csv", 2, DAY1),
        ("crm/2026-10-01/a.csv", 3, DAY1),
        ("crm/2026-10-01/b.csv", 2, DAY1),
    ]
    assert q(con, "SELECT file, line_number, file_kind FROM audit.quarantine") == [
        ("crm/2026-10-01/b.csv", 3, "crm_customers")
    ]
    assert ledger_balance(con, "crm", "crm_customers")["balanced"]


def test_pending_files_written_in_several_transactions_give_the_same_tables(tmp_path, landing, monkeypatch):
    from cdp_pipeline.lib.raw import load as load_module

    drop(landing, "crm", DAY1, "a.csv", CRM)
    drop(landing, "crm", DAY1, "b.csv", b'customer_id\n7\n"bad\n')
    drop(landing, "crm", DAY2, "c.csv", CRM)
    drop(landing, "crm", DAY2, "d.csv", b"customer_id;email\n8;x@y.se\n")

    def tables(path, max_bytes):
        monkeypatch.setattr(load_module._PendingWrites, "MAX_PENDING_BYTES", max_bytes)
        c = duckdb.connect(str(path))
        load_partitions(c, landing, "crm", [DAY1, DAY2])
        got = [
            q(c, "SELECT * EXCLUDE (_loaded_at) FROM raw.crm_customers ORDER BY ALL"),
            q(c, "SELECT * EXCLUDE (loaded_at) FROM audit.files ORDER BY ALL"),
            q(c, "SELECT * EXCLUDE (quarantined_at) FROM audit.quarantine ORDER BY ALL"),
            q(c, "SELECT status FROM audit.files ORDER BY file"),
        ]
        c.close()
        return got

    together = tables(tmp_path / "together.duckdb", 64 << 20)
    assert len(together[0]) == 4 and together[3] == [("loaded",), ("loaded",), ("duplicate",), ("loaded",)]
    assert tables(tmp_path / "one_by_one.duckdb", 1) == together  # every file written on its own


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("empty.csv", b"", "empty file (0 bytes)"),
        ("garbage.csv", bytes(range(256)) * 20, "binary content"),
        ("no_key.csv", b"first_name,email\nAnna,a@b.se\n", "missing required column(s): customer_id"),
    ],
)
def test_unreadable_file_is_quarantined_whole_and_the_day_goes_on(con, landing, name, data, reason):
    drop(landing, "crm", DAY1, name, data)
    drop(landing, "crm", DAY1, "zz_good.csv", CRM)
    out = load_partition(con, landing, "crm", DAY1)
    assert [f.status for f in out.files] == ["rejected", "loaded"]
    (qrow,) = q(con, "SELECT file, line_number, reason FROM audit.quarantine")
    assert qrow[0] == f"crm/{DAY1}/{name}" and qrow[1] is None and reason in qrow[2]
    assert q(
        con, "SELECT status, message LIKE '%' || ? || '%' FROM audit.files WHERE file LIKE '%' || ?", [reason, name]
    ) == [("rejected", True)]
    assert q(con, "SELECT count(*) FROM raw.crm_customers") == [(2,)]


def test_header_only_file_is_empty(con, landing):
    drop(landing, "crm", DAY1, "customers.csv", b"customer_id;email\r\n")
    out = load_partition(con, landing, "crm", DAY1)
    assert out.files[0].status == "empty"
    assert q(con, "SELECT status, rows_read FROM audit.files") == [("empty", 0)]


def test_row_quarantine_and_ledger_invariant(con, landing):
    drop(landing, "crm", DAY1, "c.csv", b'customer_id,first_name\n1,Anna\n2,"Bo\n3,Cy\n4,Di,extra\n5')
    load_partition(con, landing, "crm", DAY1)
    assert q(con, "SELECT customer_id FROM raw.crm_customers ORDER BY 1") == [("1",), ("3",)]
    assert q(con, "SELECT line_number, raw_record FROM audit.quarantine ORDER BY 1") == [
        (3, '2,"Bo'),
        (5, "4,Di,extra"),
        (6, "5"),
    ]
    assert q(con, "SELECT rows_read, rows_loaded, rows_quarantined FROM audit.files") == [(5, 2, 3)]
    b = ledger_balance(con, "crm", "crm_customers")
    assert b["balanced"] and b["raw_matches"]


def test_hard_values_round_trip_through_duckdb(con, landing):
    values = ['O\'Brien "Bob"', "Zoë 👩‍👩‍👧", "'; DROP TABLE customers; --", "é" * 10_000]
    body = "".join(f'{i},"{v.replace(chr(34), chr(34) * 2)}"\n' for i, v in enumerate(values))
    drop(landing, "crm", DAY1, "c.csv", ("customer_id,first_name\n" + body).encode())
    load_partition(con, landing, "crm", DAY1)
    assert [r[0] for r in q(con, "SELECT first_name FROM raw.crm_customers ORDER BY _line")] == values


def test_windows_1252_and_semicolon_files_load(con, landing):
    drop(landing, "pos", DAY1, "receipts_store7_20261001.csv", (FIXTURES / "receipts_store7_20261001.csv").read_bytes())
    drop(landing, "pos", DAY1, "orders_export_20261001.csv", (FIXTURES / "orders_export_20261001.csv").read_bytes())
    load_partition(con, landing, "pos", DAY1)
    assert q(con, "SELECT file_kind, encoding, delimiter, rows_loaded FROM audit.files ORDER BY file_kind") == [
        ("pos_orders", "utf-8", ",", 3),
        ("pos_receipts", "windows-1252", ";", 3),
    ]
    assert q(con, "SELECT loyalty_card_id, unit_price FROM raw.pos_receipts ORDER BY _line LIMIT 1") == [
        ("LC-Åsa", "1 234,50")
    ]
    assert q(con, "SELECT _extra->>'Notes' FROM raw.pos_orders WHERE _line = 2") == [("Leave at door,\nring twice",)]


GA4_A = b'{"event_timestamp":1,"event_name":"page_view","user_pseudo_id":"c1"}\n' * 2
GA4_B = b'{"event_timestamp":2,"event_name":"page_view","user_pseudo_id":"c1"}\n'


def test_ga4_duplicates_kept_and_later_delivery_replaces_the_day(con, landing):
    drop(landing, "web", DAY1, "events_20260930.jsonl", GA4_A)
    load_partition(con, landing, "web", DAY1)
    assert q(con, "SELECT count(*), min(events_day) FROM raw.web_events") == [(2, "2026-09-30")]
    drop(landing, "web", DAY2, "events_20260930.jsonl", GA4_B)
    load_partition(con, landing, "web", DAY2)
    assert q(con, "SELECT event_timestamp, _landing_date::VARCHAR FROM raw.web_events") == [("2", DAY2)]
    assert q(con, "SELECT status FROM audit.files ORDER BY landing_date") == [("superseded",), ("loaded",)]
    # rerunning the older day does not bring the older delivery back
    out = load_partition(con, landing, "web", DAY1)
    assert out.files[0].status == "superseded"
    assert q(con, "SELECT count(*) FROM raw.web_events") == [(1,)]
    b = ledger_balance(con, "web", "web_events")
    assert b["balanced"] and b["raw_matches"]


def test_the_cyclic_collector_is_paused_per_file_and_left_as_it_was(con, landing, monkeypatch):
    import gc

    from cdp_pipeline.lib.raw import parse as parse_module

    seen = []
    parse = parse_module.parse_file

    def spy(source, name, data, *counts_only):
        seen.append(gc.isenabled())
        if name == "broken.csv":
            raise RuntimeError("boom")
        return parse(source, name, data, *counts_only)

    monkeypatch.setattr(parse_module, "parse_file", spy)
    drop(landing, "crm", DAY1, "customers.csv", CRM)
    assert gc.isenabled()
    load_partition(con, landing, "crm", DAY1)
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        load_partition(con, landing, "crm", DAY1)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
    drop(landing, "crm", DAY2, "broken.csv", b"customer_id\n9\n")
    with pytest.raises(RuntimeError):
        load_partition(con, landing, "crm", DAY2)
    assert gc.isenabled()


def test_a_row_of_blank_fields_is_skipped_and_whitespace_is_not_blank(con, landing):
    drop(landing, "crm", DAY1, "c.csv", "customer_id,first_name\n , \t\n\u00a0,\u2003\n1,Anna\n ,x\n".encode())
    load_partition(con, landing, "crm", DAY1)
    assert q(con, "SELECT customer_id, first_name, _line FROM raw.crm_customers ORDER BY _line") == [
        ("1", "Anna", 4),
        (" ", "x", 5),
    ]
    assert q(con, "SELECT rows_read, rows_loaded, rows_quarantined FROM audit.files") == [(2, 2, 0)]


def _ga4(ts: int, cookie: str = "c1") -> bytes:
    return b'{"event_timestamp":%d,"event_name":"page_view","user_pseudo_id":"%s"}\n' % (ts, cookie.encode())


def test_ga4_shards_of_one_delivery_are_all_kept_and_gzipped_shards_are_read(con, landing):
    import gzip

    drop(landing, "web", DAY1, "events_20260930-000000000000.json.gz", gzip.compress(_ga4(1) + _ga4(2)))
    drop(landing, "web", DAY1, "events_20260930-000000000001.json.gz", gzip.compress(_ga4(3)))
    load_partition(con, landing, "web", DAY1)
    assert q(con, "SELECT event_timestamp FROM raw.web_events ORDER BY 1") == [("1",), ("2",), ("3",)]
    assert q(con, "SELECT status, rows_loaded FROM audit.files ORDER BY file") == [("loaded", 2), ("loaded", 1)]
    # the next re-export of the day (two shards again) replaces both
    drop(landing, "web", DAY2, "events_20260930-000000000000.json.gz", gzip.compress(_ga4(4)))
    drop(landing, "web", DAY2, "events_20260930-000000000001.json.gz", gzip.compress(_ga4(5)))
    load_partition(con, landing, "web", DAY2)
    assert q(con, "SELECT event_timestamp FROM raw.web_events ORDER BY 1") == [("4",), ("5",)]
    assert q(con, "SELECT status FROM audit.files ORDER BY landing_date, file") == [
        ("superseded",),
        ("superseded",),
        ("loaded",),
        ("loaded",),
    ]
    b = ledger_balance(con, "web", "web_events")
    assert b["balanced"] and b["raw_matches"]


def test_ga4_daily_export_replaces_the_intraday_snapshot_of_its_day_and_never_the_reverse(con, landing):
    drop(landing, "web", DAY1, "events_intraday_20260930.json", _ga4(1))
    drop(landing, "web", DAY1, "events_20260929.json", _ga4(7))
    load_partition(con, landing, "web", DAY1)
    drop(landing, "web", DAY2, "events_20260930.json", _ga4(1) + _ga4(2))
    # an intraday snapshot of 29 September delivered late does not replace that day's export
    drop(landing, "web", DAY2, "events_intraday_20260929.json", _ga4(6))
    load_partition(con, landing, "web", DAY2)
    assert q(con, "SELECT events_day, event_timestamp FROM raw.web_events ORDER BY 1, 2") == [
        ("2026-09-29", "7"),
        ("2026-09-30", "1"),
        ("2026-09-30", "2"),
    ]
    assert q(con, "SELECT file, status FROM audit.files ORDER BY file") == [
        ("web/2026-10-01/events_20260929.json", "loaded"),
        ("web/2026-10-01/events_intraday_20260930.json", "superseded"),
        ("web/2026-10-02/events_20260930.json", "loaded"),
        ("web/2026-10-02/events_intraday_20260929.json", "superseded"),
    ]


def test_ga4_files_written_together_give_the_tables_of_one_file_per_transaction(tmp_path, landing, monkeypatch):
    """GA4 files of several days are written in one transaction, each placed after the ones before
    it; a rerun of a day loaded before writes the pending files before clearing it, so they see
    its earlier delivery as one file per transaction did (here: the re-export of 30 September
    delivered on DAY2 is gone from the landing folder when DAY1 and DAY2 are loaded again)."""
    from cdp_pipeline.lib.raw import load as load_module

    day3 = "2026-10-03"
    drop(landing, "web", DAY1, "events_20260930.jsonl", _ga4(1) + _ga4(2))
    drop(landing, "web", DAY2, "events_20260930.jsonl", _ga4(3))
    drop(landing, "web", DAY2, "events_20261001.jsonl", b'{"event_name":"no timestamp"}\n' + _ga4(4))
    drop(landing, "web", day3, "events_intraday_20261001.jsonl", _ga4(5))
    drop(landing, "web", day3, "events_20261002.jsonl", _ga4(6))

    def tables(path, max_bytes):
        monkeypatch.setattr(load_module._PendingWrites, "MAX_PENDING_BYTES", max_bytes)
        c = duckdb.connect(str(path))
        load_partitions(c, landing, "web", [DAY1, DAY2, day3])
        got = [
            q(c, "SELECT * EXCLUDE (_loaded_at) FROM raw.web_events ORDER BY ALL"),
            q(c, "SELECT * EXCLUDE (loaded_at) FROM audit.files ORDER BY ALL"),
            q(c, "SELECT * EXCLUDE (quarantined_at) FROM audit.quarantine ORDER BY ALL"),
        ]
        moved = landing / "web" / DAY2 / "events_20260930.jsonl"
        moved.rename(tmp_path / "moved.jsonl")
        try:
            load_partitions(c, landing, "web", [DAY1, DAY2])
        finally:
            (tmp_path / "moved.jsonl").rename(moved)
        got.append(q(c, "SELECT file, status, message FROM audit.files ORDER BY file"))
        got.append(q(c, "SELECT _file, event_timestamp FROM raw.web_events ORDER BY ALL"))
        c.close()
        return got

    together = tables(tmp_path / "together.duckdb", 64 << 20)
    assert [(f, s) for f, s, _ in together[3]] == [
        ("web/2026-10-01/events_20260930.jsonl", "superseded"),
        ("web/2026-10-02/events_20261001.jsonl", "loaded"),
        ("web/2026-10-03/events_20261002.jsonl", "loaded"),
        ("web/2026-10-03/events_intraday_20261001.jsonl", "superseded"),
    ]
    assert together[4] == [
        ("web/2026-10-02/events_20261001.jsonl", "4"),
        ("web/2026-10-03/events_20261002.jsonl", "6"),
    ]
    assert tables(tmp_path / "one_by_one.duckdb", 1) == together  # every file written on its own


def test_a_lone_surrogate_costs_its_line_only(con, landing):
    # "\ud800" is half a UTF-16 pair: Python's json decodes it to a character that UTF-8 text
    # cannot hold, and DuckDB's JSON functions refuse it in event_json
    lines = [
        b'{"event_timestamp":1,"event_name":"page_view","user_pseudo_id":"c1"}',
        b'{"event_timestamp":2,"event_name":"page_view","user_pseudo_id":"c2","user_id":"x\\ud800"}',
        b'{"event_timestamp":3,"event_name":"page_view","user_pseudo_id":"c3","event_params":[{"key":"\\uDBFF"}]}',
        b'{"event_timestamp":4,"event_name":"page_view \\ud83d\\ude00","user_pseudo_id":"c4"}',
    ]
    drop(landing, "web", DAY1, "events_20261001.jsonl", b"\n".join(lines) + b"\n")
    # an array's element is written back by json.dumps, the surrogate itself in it
    drop(landing, "web", DAY1, "events_20261002.json", b'["\\ud800", {"event_name":"\\udfff"}]')
    out = load_partition(con, landing, "web", DAY1)
    assert [f.status for f in out.files] == ["loaded", "loaded"]
    assert q(con, "SELECT event_timestamp, event_name FROM raw.web_events ORDER BY _line") == [
        ("1", "page_view"),
        ("4", "page_view \U0001f600"),
    ]
    assert q(con, "SELECT file, line_number, reason, raw_record FROM audit.quarantine ORDER BY file, line_number") == [
        (
            "web/2026-10-01/events_20261001.jsonl",
            2,
            "invalid text: a string holds a lone UTF-16 surrogate (\\ud800)",
            lines[1].decode(),
        ),
        (
            "web/2026-10-01/events_20261001.jsonl",
            3,
            "invalid text: a string holds a lone UTF-16 surrogate (\\udbff)",
            lines[2].decode(),
        ),
        ("web/2026-10-01/events_20261002.json", 1, "not a JSON object (found str)", '"\\ud800"'),
        (
            "web/2026-10-01/events_20261002.json",
            1,
            "missing required key(s): event_timestamp",
            '{"event_name":"\\udfff"}',
        ),
    ]
    b = ledger_balance(con, "web", "web_events")
    assert b["balanced"] and b["raw_matches"]
    # staging reads event_json with DuckDB's JSON functions: every loaded line is readable
    assert q(con, "SELECT count(*) FROM raw.web_events WHERE json_valid(event_json)") == [(2,)]


def test_ga4_event_json_is_stored_with_zstd_and_other_columns_as_duckdb_chooses(con, landing):
    drop(landing, "web", DAY1, "events_20261001.jsonl", b"".join(_ga4(ts, f"c{ts % 7}") for ts in range(1, 3001)))
    load_partition(con, landing, "web", DAY1)
    con.execute("CHECKPOINT")
    stored = dict(
        q(
            con,
            "SELECT column_name, list(DISTINCT compression ORDER BY compression) FROM "
            "pragma_storage_info('raw.web_events') WHERE segment_type = 'VARCHAR' GROUP BY ALL",
        )
    )
    assert stored["event_json"] == ["ZSTD"]
    assert "ZSTD" not in stored["user_pseudo_id"]
    assert q(con, "SELECT count(*), count(DISTINCT event_json) FROM raw.web_events") == [(3000, 3000)]


def test_pending_files_are_written_at_256_mb_and_ga4_files_as_they_come(monkeypatch):
    """Fewer, larger inserts for the kinds whose files are inserted together (one insert per table
    for a batch); a GA4 file is inserted on its own anyway (placed in turn), so holding it back
    only holds its rows in memory."""
    import datetime as dt

    from cdp_pipeline.lib.raw import load as load_module
    from cdp_pipeline.lib.raw.file_kinds import FILE_KINDS, WEB_EVENTS
    from cdp_pipeline.lib.raw.files import LandingFile
    from cdp_pipeline.lib.raw.parsed import ParsedFile

    written = []
    monkeypatch.setattr(load_module, "_write_files", lambda con, items, *_: written.append([i[0].name for i in items]))

    def add(writes, name, mb, kind):
        lf = LandingFile("x", dt.date(2026, 10, 1), Path(name), name, mb << 20, name)
        writes.add(
            lf,
            load_module.FileOutcome(file=lf, status="loaded"),
            ParsedFile(kind=kind, encoding="utf-8", delimiter=None),
        )

    pos = FILE_KINDS["pos_receipts"]
    writes = load_module._PendingWrites(None, dt.datetime(2026, 10, 1))
    for i in range(5):
        add(writes, f"r{i}", 60, pos)  # 60, 120, 180, 240, 300 MB pending
    assert written == [["r0", "r1", "r2", "r3", "r4"]]
    add(writes, "r5", 10, pos)
    assert len(written) == 1
    for i in range(2):
        add(writes, f"events{i}", 1, WEB_EVENTS)
    assert written[1:] == [["r5", "events0"], ["events1"]]


def test_every_raw_and_quarantine_row_has_a_ledger_entry_of_its_source_and_day(con, landing):
    # what lets a day the ledger never saw skip its clearing (load_partition)
    drop(landing, "crm", DAY1, "customers.csv", CRM)
    drop(landing, "crm", DAY1, "bad_rows.csv", b"customer_id,email\n1,a@b.se,extra\n\n2,c@d.se\n")
    drop(landing, "crm", DAY1, "garbage.csv", b"\x00\x01\x02binary")
    drop(landing, "crm", DAY1, "empty.csv", b"customer_id,email\n")
    drop(landing, "crm", DAY2, "again.csv", CRM)
    drop(landing, "web", DAY2, "events_20261001.jsonl", b'{"event_timestamp": 1}\nnot json\n')
    load_partitions(con, landing, "crm", [DAY1, DAY2])
    load_partitions(con, landing, "web", [DAY2])
    statuses = dict(q(con, "SELECT file, status FROM audit.files"))
    assert {s for s in statuses.values()} >= {"loaded", "rejected", "duplicate"}
    assert q(con, "SELECT count(*) FROM audit.quarantine") != [(0,)]
    unledgered = """
        SELECT r.{file} FROM {table} r
        WHERE NOT EXISTS (SELECT 1 FROM audit.files f
                          WHERE f.file = r.{file} AND f.landing_date = r.{day} AND f.source = {source})"""
    for source, table in [("'crm'", "raw.crm_customers"), ("'web'", "raw.web_events")]:
        assert q(con, unledgered.format(file="_file", day="_landing_date", table=table, source=source)) == []
    quarantine = unledgered.format(file="file", day="landing_date", table="audit.quarantine", source="r.source")
    assert q(con, quarantine) == []


_REPLACING = ("select_later_events_day_delivery", "update_superseded_web_files", "delete_superseded_web_events")


def test_ga4_replacement_statements_run_only_for_events_days_raw_holds(con, landing, monkeypatch):
    """A delivery of an events day raw holds no row of skips the three statements that replace an
    older delivery (every day of a first night); a day raw holds, from an earlier load or from a
    file this load wrote, still replaces it."""
    from cdp_pipeline.lib.raw import load as load_module
    from cdp_pipeline.lib.raw import load_transaction

    ran: list[str] = []
    for module, name in ((load_module, "fetch_sql"), (load_module, "run_sql"), (load_transaction, "fetch_sql")):
        real = getattr(module, name)

        def spy(con, sql_dir, statement, *args, _real=real, **kwargs):
            ran.append(statement)
            return _real(con, sql_dir, statement, *args, **kwargs)

        monkeypatch.setattr(module, name, spy)

    def replacing() -> list[str]:
        got = [s for s in ran if s in _REPLACING]
        ran.clear()
        return got

    # first night: nothing in raw, nothing replaced, one look at raw's events days
    drop(landing, "web", DAY1, "events_20260929.jsonl", _ga4(1))
    drop(landing, "web", DAY1, "events_20260930.jsonl", _ga4(2) + _ga4(3))
    load_partitions(con, landing, "web", [DAY1])
    assert ran.count("select_web_events_days") == 1
    assert replacing() == []
    # next night: a re-export of 30 September (in raw: replaced) and a new day (not: skipped)
    drop(landing, "web", DAY2, "events_20260930.jsonl", _ga4(4))
    drop(landing, "web", DAY2, "events_20261001.jsonl", _ga4(5))
    load_partitions(con, landing, "web", [DAY2])
    assert replacing() == list(_REPLACING)
    # one load of two deliveries of 1 October, the first written (nothing held): the second,
    # whose day raw held no row of when the load began, replaces it
    monkeypatch.setattr(load_module._PendingWrites, "MAX_HELD_WEB_BYTES", 0)
    day3, day4 = "2026-10-03", "2026-10-04"
    drop(landing, "web", day3, "events_20261002.jsonl", _ga4(6))
    drop(landing, "web", day4, "events_20261002.jsonl", _ga4(7) + _ga4(8))
    load_partitions(con, landing, "web", [day3, day4])
    assert replacing() == list(_REPLACING)
    assert q(con, "SELECT events_day, event_timestamp FROM raw.web_events ORDER BY 1, 2") == [
        ("2026-09-29", "1"),
        ("2026-09-30", "4"),
        ("2026-10-01", "5"),
        ("2026-10-02", "7"),
        ("2026-10-02", "8"),
    ]
    assert q(con, "SELECT file, status FROM audit.files ORDER BY landing_date, file") == [
        ("web/2026-10-01/events_20260929.jsonl", "loaded"),
        ("web/2026-10-01/events_20260930.jsonl", "superseded"),
        ("web/2026-10-02/events_20260930.jsonl", "loaded"),
        ("web/2026-10-02/events_20261001.jsonl", "loaded"),
        ("web/2026-10-03/events_20261002.jsonl", "superseded"),
        ("web/2026-10-04/events_20261002.jsonl", "loaded"),
    ]
    b = ledger_balance(con, "web", "web_events")
    assert b["balanced"] and b["raw_matches"]


def test_load_sources_sets_the_load_settings_once_a_source_and_puts_them_back(con, landing, monkeypatch):
    from cdp_pipeline.lib.raw import load as load_module
    from cdp_pipeline.lib.raw import load_sources

    for day in (DAY1, DAY2, "2026-10-03"):
        drop(landing, "crm", day, f"customers_{day}.csv", CRM.replace(b"Anna", day.encode()))
        sms = f"From,To,Body,SentDate,Direction\n+4670,+4671,STOP,{day},inbound\n"
        drop(landing, "sms", day, f"log_{day}.csv", sms.encode())
    entered = []
    settings = load_module._load_settings

    def counted(c):
        entered.append(c)
        return settings(c)

    monkeypatch.setattr(load_module, "_load_settings", counted)
    con.execute("SET threads = 3")
    before = q(con, "SELECT current_setting('threads'), current_setting('write_buffer_row_group_count')")
    loads = load_sources(con, landing, ["crm", "sms"], [DAY1, DAY2, "2026-10-03"], workers=1)
    got = [(source, [o.rows_loaded for o in outcomes]) for source, outcomes in loads]
    assert got == [("crm", [2, 2, 2]), ("sms", [1, 1, 1])]
    assert len(entered) == 2  # once per source, not once per day as well
    assert q(con, "SELECT count(*) FROM raw.crm_customers WHERE first_name = '2026-10-02'") == [(1,)]
    assert q(con, "SELECT current_setting('threads'), current_setting('write_buffer_row_group_count')") == before
