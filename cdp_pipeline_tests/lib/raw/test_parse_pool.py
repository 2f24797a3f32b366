"""Landing files read and parsed by worker processes (parse_pool.py) load exactly as the serial
path loads them: the same raw rows, line numbers, ledger entries and quarantine rows, in order."""

import gzip
import hashlib
import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from cdp_pipeline.lib.raw import SOURCE_TABLES, load_partitions, load_sources, parse_pool
from cdp_pipeline.lib.raw.files import discover_files
from cdp_pipeline.lib.raw.ledger import ledger_balance
from cdp_pipeline.lib.raw.parse_pool import FileReads, pool_size

DAY1, DAY2, DAY3 = "2026-10-01", "2026-10-02", "2026-10-03"
CRM = b"customer_id,first_name,email\n1,Anna,a@b.se\n2,Bo,b@c.se\n"


def drop(landing: Path, source: str, day: str, name: str, data: bytes) -> Path:
    p = landing / source / day / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def _ga4(ts: int, user: str = "u1") -> bytes:
    return (
        f'{{"event_date":"20261001","event_timestamp":{ts},"event_name":"page_view","user_pseudo_id":"{user}",'
        f'"event_params":[{{"key":"page","value":{{"string_value":"/p{ts}"}}}}]}}\n'
    ).encode()


@pytest.fixture
def crm_landing(tmp_path):
    """Three days of CRM files: good ones, a file with a broken row, a binary file, an empty
    one, a header-only one, a gzipped one, a re-delivery of earlier bytes and a symbolic link."""
    landing = tmp_path / "landing"
    drop(landing, "crm", DAY1, "a.csv", CRM)
    drop(landing, "crm", DAY1, "b.csv", b'customer_id,email\n7,x@y.se\n"bad\n8,z@y.se\n')
    drop(landing, "crm", DAY1, "c_garbage.csv", bytes(range(256)) * 20)
    drop(landing, "crm", DAY2, "d_empty.csv", b"")
    drop(landing, "crm", DAY2, "e.csv.gz", gzip.compress(b"customer_id;email\r\n9;n@m.se\r\n10;o@m.se\r\n"))
    drop(landing, "crm", DAY2, "f_header_only.csv", b"customer_id,email\n")
    drop(landing, "crm", DAY3, "g_again.csv", CRM)
    drop(landing, "crm", DAY3, "h.csv", b"customer_id,first_name\n11,Cy\n12,Di,extra\n")
    os.symlink(landing / "crm" / DAY1 / "a.csv", landing / "crm" / DAY3 / "i_link.csv")
    return landing


def _load(path: Path, landing: Path, source: str, days: list[str], workers: int) -> list:
    """What loading ``days`` puts in the build database: the statuses per day, the source's raw
    tables (every row), the ledger and the quarantine (less the load's time), whether every table
    balances, and each file's status."""
    con = duckdb.connect(str(path))
    outcomes = load_partitions(con, landing, source, days, workers=workers)
    tables = SOURCE_TABLES[source]
    got = [
        [[(f.file.rel_path, f.status) for f in o.files] for o in outcomes],
        [con.execute(f"SELECT * EXCLUDE (_loaded_at) FROM raw.{t} ORDER BY ALL").fetchall() for t in tables],
        con.execute("SELECT * EXCLUDE (loaded_at) FROM audit.files ORDER BY ALL").fetchall(),
        con.execute("SELECT * EXCLUDE (quarantined_at) FROM audit.quarantine ORDER BY ALL").fetchall(),
        all(ledger_balance(con, source, t)["balanced"] for t in tables),
        con.execute("SELECT file, status FROM audit.files ORDER BY file").fetchall(),
    ]
    con.close()
    return got


@pytest.fixture
def taken(monkeypatch):
    """Every pool is used, whatever its files' size; returns the files the load took from one."""
    monkeypatch.setattr(parse_pool, "MIN_POOL_BYTES", 0)
    seen: list[str] = []
    take = FileReads.take

    def spy(self, lf):
        seen.append(lf.rel_path)
        return take(self, lf)

    monkeypatch.setattr(FileReads, "take", spy)
    return seen


def test_files_parsed_by_workers_load_as_the_serial_path_loads_them(tmp_path, crm_landing, taken):
    serial = _load(tmp_path / "serial.duckdb", crm_landing, "crm", [DAY1, DAY2, DAY3], workers=1)
    assert taken == []
    pooled = _load(tmp_path / "pooled.duckdb", crm_landing, "crm", [DAY1, DAY2, DAY3], workers=2)
    # every file went through the workers, in the load's order
    assert taken == [f"crm/{d}/{n}" for d, n in [
        (DAY1, "a.csv"), (DAY1, "b.csv"), (DAY1, "c_garbage.csv"), (DAY2, "d_empty.csv"), (DAY2, "e.csv.gz"),
        (DAY2, "f_header_only.csv"), (DAY3, "g_again.csv"), (DAY3, "h.csv"), (DAY3, "i_link.csv"),
    ]]  # fmt: skip
    assert pooled == serial
    statuses, raw, files, quarantine, balanced, _ = pooled
    assert statuses == [
        [(f"crm/{DAY1}/a.csv", "loaded"), (f"crm/{DAY1}/b.csv", "loaded"), (f"crm/{DAY1}/c_garbage.csv", "rejected")],
        [(f"crm/{DAY2}/d_empty.csv", "rejected"), (f"crm/{DAY2}/e.csv.gz", "loaded"),
         (f"crm/{DAY2}/f_header_only.csv", "empty")],
        [(f"crm/{DAY3}/g_again.csv", "duplicate"), (f"crm/{DAY3}/h.csv", "loaded"),
         (f"crm/{DAY3}/i_link.csv", "rejected")],
    ]  # fmt: skip
    assert balanced
    con = duckdb.connect(str(tmp_path / "pooled.duckdb"))
    assert con.execute(
        "SELECT customer_id, email, _file, _line FROM raw.crm_customers ORDER BY _file, _line"
    ).fetchall() == [
        ("1", "a@b.se", f"crm/{DAY1}/a.csv", 2),
        ("2", "b@c.se", f"crm/{DAY1}/a.csv", 3),
        ("7", "x@y.se", f"crm/{DAY1}/b.csv", 2),
        ("8", "z@y.se", f"crm/{DAY1}/b.csv", 4),
        ("9", "n@m.se", f"crm/{DAY2}/e.csv.gz", 2),
        ("10", "o@m.se", f"crm/{DAY2}/e.csv.gz", 3),
        ("11", None, f"crm/{DAY3}/h.csv", 2),
    ]
    con.close()
    assert len(raw[0]) == 7
    by_file = {r[0]: r for r in files}
    assert by_file[f"crm/{DAY1}/a.csv"][3] == hashlib.sha256(CRM).hexdigest()
    assert by_file[f"crm/{DAY3}/g_again.csv"][-1].startswith(f"same bytes as crm/{DAY1}/a.csv")
    assert [(q[1], q[2]) for q in quarantine] == [
        (f"crm/{DAY1}/b.csv", 3),
        (f"crm/{DAY1}/c_garbage.csv", None),
        (f"crm/{DAY2}/d_empty.csv", None),
        (f"crm/{DAY3}/h.csv", 3),
        (f"crm/{DAY3}/i_link.csv", None),
    ]


def test_ga4_files_parsed_by_workers_replace_events_days_as_the_serial_path_does(tmp_path, taken):
    """GA4 files are written one by one, each seeing the ones before it: the load tells them by
    their kind, which must be the same object after a worker parsed the file."""
    landing = tmp_path / "landing"
    drop(landing, "web", DAY1, "events_20260930.jsonl", _ga4(1) + _ga4(2))
    drop(landing, "web", DAY2, "events_20260930.jsonl", _ga4(3))
    drop(landing, "web", DAY2, "events_20261001.jsonl", b'{"event_name":"no timestamp"}\n' + _ga4(4))
    drop(landing, "web", DAY3, "events_intraday_20261001.jsonl", _ga4(5))
    drop(landing, "web", DAY3, "events_20261002.jsonl", _ga4(6, user=""))
    serial = _load(tmp_path / "serial.duckdb", landing, "web", [DAY1, DAY2, DAY3], workers=1)
    pooled = _load(tmp_path / "pooled.duckdb", landing, "web", [DAY1, DAY2, DAY3], workers=3)
    assert len(taken) == 5
    assert pooled == serial
    assert pooled[5] == [
        ("web/2026-10-01/events_20260930.jsonl", "superseded"),
        ("web/2026-10-02/events_20260930.jsonl", "loaded"),
        ("web/2026-10-02/events_20261001.jsonl", "loaded"),
        ("web/2026-10-03/events_20261002.jsonl", "loaded"),
        ("web/2026-10-03/events_intraday_20261001.jsonl", "superseded"),
    ]
    messages = {r[0]: r[-1] for r in pooled[2]}
    assert messages["web/2026-10-03/events_20261002.jsonl"].startswith("1 consent-mode (cookieless) event(s)")
    assert [(q[1], q[2]) for q in pooled[3]] == [("web/2026-10-02/events_20261001.jsonl", 1)]


def _state(con: duckdb.DuckDBPyConnection, tables: list[str]) -> list:
    """Every raw row of ``tables``, the ledger and the quarantine in the order written (less the load's time)."""
    return [
        [con.execute(f"SELECT * EXCLUDE (_loaded_at) FROM raw.{t} ORDER BY rowid").fetchall() for t in tables],
        con.execute("SELECT * EXCLUDE (loaded_at) FROM audit.files ORDER BY rowid").fetchall(),
        con.execute("SELECT * EXCLUDE (quarantined_at) FROM audit.quarantine ORDER BY rowid").fetchall(),
    ]


def test_sources_loaded_in_turn_share_one_pool_and_load_as_each_alone(tmp_path, crm_landing, taken, monkeypatch):
    """load_sources: one pool reads every source's files in load order (the next source's ahead of
    the one being written), and the tables, ledger and quarantine are those of each source loaded
    alone, serially, in the same order, rows in the same order too."""
    drop(crm_landing, "sms", DAY1, "log.csv", b"From,To,Body,SentDate,Direction\n+4670,+4671,STOP,2026-10-01,inbound\n")
    drop(crm_landing, "sms", DAY2, "a_again.csv", CRM)  # bytes the CRM load holds: a duplicate across sources
    drop(crm_landing, "sms", DAY3, "garbage.csv", bytes(range(256)) * 21)
    days = [DAY1, DAY2, DAY3]
    tables = [*SOURCE_TABLES["crm"], *SOURCE_TABLES["sms"]]
    serial = duckdb.connect(str(tmp_path / "serial.duckdb"))
    for source in ("crm", "sms"):
        load_partitions(serial, crm_landing, source, days, workers=1)
    assert taken == []
    started = []
    init = parse_pool._Worker.__init__
    monkeypatch.setattr(parse_pool._Worker, "__init__", lambda self: (started.append(1), init(self))[1])
    pooled = duckdb.connect(str(tmp_path / "pooled.duckdb"))
    loads = load_sources(pooled, crm_landing, ["crm", "sms"], days, workers=2)
    source, crm = next(loads)
    # the CRM files are written, the SMS files (handed out as the last CRM files were taken) not yet
    assert source == "crm" and len(taken) == 9
    assert pooled.execute("SELECT count(*) FROM raw.crm_customers").fetchone() == (7,)
    assert not pooled.execute("SELECT count(*) FROM audit.files WHERE source = 'sms'").fetchone()[0]
    ((source, sms),) = list(loads)
    assert source == "sms" and len(started) == 2  # one pool of two workers for both sources
    assert taken[9:] == [f"sms/{DAY1}/log.csv", f"sms/{DAY2}/a_again.csv", f"sms/{DAY3}/garbage.csv"]
    assert [f.status for o in sms for f in o.files] == ["loaded", "duplicate", "rejected"]
    assert [f.status for o in crm for f in o.files].count("loaded") == 4
    assert _state(pooled, tables) == _state(serial, tables)
    assert all(ledger_balance(pooled, s, t)["balanced"] for s in ("crm", "sms") for t in SOURCE_TABLES[s])
    serial.close()
    pooled.close()


def test_workers_hand_back_files_in_the_order_asked_and_stop_when_done(tmp_path, crm_landing, monkeypatch):
    files = [lf for d in (DAY1, DAY2, DAY3) for lf in discover_files(crm_landing, "crm", d)]
    with FileReads(files, frozenset(), workers=2) as reads:
        got = [reads.take(lf) for lf in files]
        procs = [w.proc for w in reads._workers]
    assert [r.lf.rel_path for r in got] == [lf.rel_path for lf in files]
    assert got[0].lf.sha256 == hashlib.sha256(CRM).hexdigest() and got[0].lf.bytes == len(CRM)
    assert got[0].result().rows_loaded == 2
    assert got[2].result().reason.startswith("binary content")
    assert got[-1].refused.endswith("is a symbolic link: refused (only regular files are read)")
    assert all(p.returncode == 0 for p in procs)  # ended at the end of their input
    with FileReads(files, frozenset(), workers=2) as reads:
        assert len(reads._ahead) == len(files)  # small files: all handed out (under WINDOW_BYTES)
    monkeypatch.setattr(parse_pool, "WINDOW_BYTES", 0)
    with FileReads(files, frozenset(), workers=2) as reads:
        assert len(reads._ahead) == 3  # workers + 1
        with pytest.raises(RuntimeError, match="files taken out of order: crm/2026-10-01/b.csv"):
            reads.take(files[1])


def test_files_handed_out_ahead_hold_at_most_the_byte_budget(crm_landing, monkeypatch):
    files = [lf for d in (DAY1, DAY2, DAY3) for lf in discover_files(crm_landing, "crm", d)]
    monkeypatch.setattr(parse_pool, "MAX_AHEAD_BYTES", 100)  # under the binary file's 5,120 bytes
    ahead = []
    with FileReads(files, frozenset(), workers=2) as reads:
        for lf in files:
            ahead.append([a.name for a, _ in reads._ahead])
            assert reads.take(lf).lf.rel_path == lf.rel_path
    # a.csv and b.csv (55 + 41 bytes) fit together; the 5,120-byte file goes out alone
    assert ahead[:4] == [
        ["a.csv", "b.csv"],
        ["b.csv"],
        ["c_garbage.csv"],
        ["d_empty.csv", "e.csv.gz", "f_header_only.csv"],
    ]


def test_a_pool_is_used_for_enough_bytes_in_more_than_one_file(tmp_path, crm_landing):
    files = discover_files(crm_landing, "crm", DAY1)  # 3 files, 5 kB
    assert pool_size(files, 2) == 0  # too few bytes: the workers' start-up would cost more
    assert pool_size([replace(f, bytes=20 << 20) for f in files], 2) == 0  # 60 MB
    big = [replace(f, bytes=30 << 20) for f in files]  # 90 MB
    assert pool_size(big, 2) == 2
    assert pool_size(big, 8) == 3  # one worker per file at most
    assert pool_size(big, 1) == 0  # the setting's 1: the serial path
    assert pool_size(big[:1], 2) == 0  # one file: nothing to parse beside it


def test_the_workers_setting_defaults_to_the_cores_and_refuses_zero(monkeypatch):
    from cdp_pipeline.settings import SettingsError, get_settings, machine_cores

    monkeypatch.delenv("CDP_RAW_PARSE_WORKERS", raising=False)
    assert get_settings().raw_parse_workers == machine_cores() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("CDP_RAW_PARSE_WORKERS", " 3 ")
    assert get_settings().raw_parse_workers == 3
    monkeypatch.setenv("CDP_RAW_PARSE_WORKERS", "0")
    with pytest.raises(SettingsError, match="CDP_RAW_PARSE_WORKERS must be at least 1"):
        get_settings()


def test_a_step_with_settings_uses_their_worker_count(tmp_path, crm_landing, taken):
    from cdp_pipeline.settings import get_settings

    settings = replace(get_settings(), data_dir=tmp_path / "data", raw_parse_workers=1)
    con = duckdb.connect(str(tmp_path / "b.duckdb"))
    load_partitions(con, crm_landing, "crm", [DAY1], settings=settings)
    assert taken == []
    load_partitions(con, crm_landing, "crm", [DAY1], settings=replace(settings, raw_parse_workers=2))
    assert taken == [f"crm/{DAY1}/a.csv", f"crm/{DAY1}/b.csv", f"crm/{DAY1}/c_garbage.csv"]
    con.close()


def test_the_hostile_corpus_loads_alike_with_workers_and_as_expected(tmp_path, taken):
    """Every file of the hostile corpus (cdp_pipeline_tests/fixtures/hostile/), laid on the days
    expected.json gives, ends as it says, parsed by workers or not."""
    import datetime as dt
    import json

    from cdp_pipeline_tests.fixtures.hostile import build_corpus

    corpus = Path(build_corpus.__file__).resolve().parent
    expected = json.loads((corpus / "expected.json").read_text(encoding="utf-8"))["files"]
    generated = build_corpus.generated_files()
    landing = tmp_path / "landing"
    days: dict[str, set[str]] = {}
    for name, want in expected.items():
        source, file_name = name.split("/")
        day = (dt.date(2026, 10, 1) + dt.timedelta(days=want["day"])).isoformat()
        data = generated[name] if name in generated else (corpus / name).read_bytes()
        drop(landing, source, day, file_name, data)
        days.setdefault(source, set()).add(day)
    for source in sorted(days):
        kw = {"source": source, "days": sorted(days[source])}
        serial = _load(tmp_path / f"{source}_1.duckdb", landing, workers=1, **kw)
        pooled = _load(tmp_path / f"{source}_2.duckdb", landing, workers=2, **kw)
        assert pooled == serial, source
        got = {f.split("/", 2)[0] + "/" + f.split("/", 2)[2]: s for f, s in pooled[5]}
        assert got == {n: w["status"] for n, w in expected.items() if n.startswith(source + "/")}, source
    assert len(taken) == len(expected)


def test_an_error_the_serial_path_would_raise_is_raised_with_the_workers_traceback(crm_landing):
    good = discover_files(crm_landing, "crm", DAY1)[0]
    broken = replace(good, rel_path="crm/2026-10-01/no_path.csv", path=None)  # a bug: no path to open
    with FileReads([broken, good], frozenset(), workers=2) as reads:
        with pytest.raises(RuntimeError, match=r"(?s)parsing crm/2026-10-01/no_path.csv failed in a worker.*TypeError"):
            reads.take(broken)
        assert reads.take(good).result().rows_loaded == 2  # the workers go on


def test_workers_keep_freed_memory_for_the_next_file_and_the_callers_tunables(monkeypatch):
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "mimalloc")
    started = []
    popen = parse_pool.subprocess.Popen

    def spy(*args, **kwargs):
        started.append(kwargs["env"])
        return popen(*args, **kwargs)

    monkeypatch.setattr(parse_pool.subprocess, "Popen", spy)
    parse_pool._Worker().close()
    (env,) = started
    # what a worker's interpreter and Arrow make of that environment
    probe = "import os, pyarrow as pa; print(os.environ['GLIBC_TUNABLES'], pa.default_memory_pool().backend_name)"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [
        "glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=268435456",
        "system",
    ]
    assert os.environ["ARROW_DEFAULT_MEMORY_POOL"] == "mimalloc"  # the step's own process is left alone


def test_rows_of_erased_people_are_dropped_from_files_parsed_by_workers(tmp_path, crm_landing, taken, monkeypatch):
    from cdp_pipeline.lib.audit import suppression as suppression_module

    erased = suppression_module.SuppressionList(frozenset({suppression_module.identifier_hash("z@y.se", "s")}), "s")
    monkeypatch.setattr(suppression_module, "load_suppression_list", lambda con, settings: erased)
    serial = _load(tmp_path / "serial.duckdb", crm_landing, "crm", [DAY1, DAY2, DAY3], workers=1)
    pooled = _load(tmp_path / "pooled.duckdb", crm_landing, "crm", [DAY1, DAY2, DAY3], workers=2)
    assert len(taken) == 9
    assert pooled == serial
    con = duckdb.connect(str(tmp_path / "pooled.duckdb"))
    assert con.execute("SELECT _line FROM raw.crm_customers WHERE _file LIKE '%/b.csv'").fetchall() == [(2,)]
    assert con.execute("SELECT rows_suppressed FROM audit.files WHERE file LIKE '%/b.csv'").fetchall() == [(1,)]
    con.close()


def test_a_file_arriving_while_workers_read_the_step_waits_for_the_next_run(tmp_path, crm_landing, taken, monkeypatch):
    from cdp_pipeline.lib.raw import load as load_module

    looked_up = load_module._day_has_files

    def look_up_then_deliver(con, source, day, writes):
        drop(crm_landing, "crm", DAY1, "late.csv", b"customer_id\n99\n")
        return looked_up(con, source, day, writes)

    monkeypatch.setattr(load_module, "_day_has_files", look_up_then_deliver)
    con = duckdb.connect(str(tmp_path / "b.duckdb"))
    out = load_partitions(con, crm_landing, "crm", [DAY1], workers=2)
    assert [f.file.name for f in out[0].files] == ["a.csv", "b.csv", "c_garbage.csv"]  # as listed when handed out
    monkeypatch.setattr(load_module, "_day_has_files", looked_up)
    out = load_partitions(con, crm_landing, "crm", [DAY1], workers=2)
    assert [f.file.name for f in out[0].files] == ["a.csv", "b.csv", "c_garbage.csv", "late.csv"]
    assert con.execute("SELECT count(*) FROM raw.crm_customers WHERE customer_id = '99'").fetchone() == (1,)
    con.close()


def test_a_counted_file_parsed_again_must_have_the_bytes_counted(tmp_path):
    landing = tmp_path / "landing"
    path = drop(landing, "web", DAY1, "events_20260930.jsonl", _ga4(1) + _ga4(2))
    (lf,) = discover_files(landing, "web", DAY1)
    counted = replace(lf, bytes=path.stat().st_size, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    assert [int(t) for t in parse_pool.parse_again(counted, frozenset()).columns["event_timestamp"]] == [1, 2]
    path.write_bytes(_ga4(3))  # rewritten since the worker counted it
    with pytest.raises(RuntimeError, match="changed while the load read it"):
        parse_pool.parse_again(counted, frozenset())


class _GatedWorker:
    """A worker that parses nothing: each call records what the pool was doing when it began
    (the file, whether the load waited in ``take``, the parses running) and returns once the
    test opens the file's gate."""

    reads: FileReads
    began: list[tuple[str, bool, int]] = []
    entered: dict[str, threading.Event] = {}
    gates: dict[str, threading.Event] = {}

    def call(self, lf, secrets, counts_only):
        r = type(self).reads
        with r._slots:
            type(self).began.append((lf.name, r._load_waiting, r._running))
        type(self).entered[lf.name].set()
        assert type(self).gates[lf.name].wait(timeout=60)
        return parse_pool.FileRead(lf)

    def end_input(self):
        pass

    def close(self):
        pass


@pytest.fixture
def gated(monkeypatch, crm_landing):
    files = discover_files(crm_landing, "crm", DAY1)  # a.csv, b.csv, c_garbage.csv
    _GatedWorker.began = []
    _GatedWorker.entered = {lf.name: threading.Event() for lf in files}
    _GatedWorker.gates = {lf.name: threading.Event() for lf in files}
    monkeypatch.setattr(parse_pool, "_Worker", _GatedWorker)
    real_init = FileReads.__init__

    def init(self, *args, **kwargs):
        _GatedWorker.reads = self
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(FileReads, "__init__", init)
    return files


def test_one_worker_fewer_parses_while_the_load_writes_and_all_while_it_waits(gated):
    files = gated
    a, b, c = (lf.name for lf in files)
    with FileReads(files, frozenset(), workers=2) as reads:
        assert _GatedWorker.entered[a].wait(timeout=60)

        def open_a_once_b_began():  # b can begin only while the load waits for a
            assert _GatedWorker.entered[b].wait(timeout=60)
            _GatedWorker.gates[a].set()

        opener = threading.Thread(target=open_a_once_b_began)
        opener.start()
        assert reads.take(files[0]).lf.name == a
        opener.join()
        # the load writes a (takes nothing): b parses on, c begins only once b is done
        _GatedWorker.gates[b].set()
        assert _GatedWorker.entered[c].wait(timeout=60)
        _GatedWorker.gates[c].set()
        assert [r.lf.name for r in (reads.take(files[1]), reads.take(files[2]))] == [b, c]
    # (file, the load waiting in take, parses running with this one)
    assert _GatedWorker.began == [(a, False, 1), (b, True, 2), (c, False, 1)]


def test_files_not_begun_when_the_load_stops_are_dropped(gated):
    files = gated
    a, b, c = (lf.name for lf in files)
    reads = FileReads(files, frozenset(), workers=2)
    assert _GatedWorker.entered[a].wait(timeout=60)
    _GatedWorker.gates[a].set()
    reads.close()  # b waits for a parse slot: it is dropped, not left waiting
    assert [name for name, _, _ in _GatedWorker.began] in ([a], [a, b])


def test_files_only_counted_do_not_count_in_the_window(gated, monkeypatch):
    files = gated
    monkeypatch.setattr(parse_pool, "WINDOW_BYTES", files[0].bytes)
    with FileReads(files, frozenset(), workers=1) as reads:
        assert [lf.name for lf, _ in reads._ahead] == [lf.name for lf in files[:2]]  # workers + 1
        for g in _GatedWorker.gates.values():
            g.set()
    counted = frozenset(lf.rel_path for lf in files[1:])
    with FileReads(files, frozenset(), workers=1, counted=counted) as reads:
        assert [lf.name for lf, _ in reads._ahead] == [lf.name for lf in files]  # their results hold no values


def test_close_ends_every_workers_input_before_waiting_for_any(tmp_path, crm_landing, monkeypatch):
    """The workers end side by side: each one's input is closed before the load waits for the
    first to exit (one after the other, a worker's exit kept the step waiting twice)."""
    files = [lf for d in (DAY1, DAY2, DAY3) for lf in discover_files(crm_landing, "crm", d)]
    steps = []
    end_input, wait = parse_pool._Worker.end_input, subprocess.Popen.wait

    def ending(worker):
        steps.append(("end input", worker.proc.pid))
        end_input(worker)

    def waiting(proc, *args, **kwargs):
        steps.append(("wait", proc.pid))
        return wait(proc, *args, **kwargs)

    monkeypatch.setattr(parse_pool._Worker, "end_input", ending)
    reads = FileReads(files, frozenset(), workers=2)
    got = [reads.take(lf) for lf in files]
    pids = [w.proc.pid for w in reads._workers]
    procs = [w.proc for w in reads._workers]
    monkeypatch.setattr(subprocess.Popen, "wait", waiting)
    reads.close()
    assert [r.lf.rel_path for r in got] == [lf.rel_path for lf in files]
    first, second = pids
    waits = [step for step in steps if step[0] == "wait"]
    assert steps[:2] == [("end input", first), ("end input", second)]
    assert waits == [("wait", first), ("wait", second)]
    assert steps.index(waits[0]) > 1  # no worker waited for before both were told
    assert [p.returncode for p in procs] == [0, 0]  # ended at the end of their input, every reply sent


def test_every_file_handed_out_is_paged_in_in_order_and_none_other(crm_landing, monkeypatch):
    """The disk reads the files the workers read next while they parse the ones before
    (``_PageIn``): each file asked for once, as it is handed out, in the load's order; a load
    that stops leaves the files it never handed out alone."""
    files = [lf for d in (DAY1, DAY2, DAY3) for lf in discover_files(crm_landing, "crm", d)]
    paged: list[str] = []
    monkeypatch.setattr(parse_pool, "page_in", lambda lf, secrets: paged.append(lf.rel_path))
    monkeypatch.setattr(parse_pool, "WINDOW_BYTES", 0)  # workers + 1 files out at a time
    with FileReads(files, frozenset(), workers=2) as reads:
        got = [reads.take(lf).lf.rel_path for lf in files]
    assert got == paged == [lf.rel_path for lf in files]
    paged.clear()
    with FileReads(files, frozenset(), workers=2) as reads:
        reads.take(files[0])
    assert paged == [lf.rel_path for lf in files[:4]]  # three handed out, one more once the first was taken
