"""The benchmark harness's pure parts on tiny fake inputs. The benchmark itself never runs here."""

import importlib.util
import sys
import time
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


benchlib = _load("benchlib")


def _ev(t, kind, step, asset=None):
    return {"timestamp": t, "event_type": kind, "step_key": step, "asset_key": asset}


FAKE_EVENTS = [
    _ev(100.0, "RUN_START", None),
    _ev(100.5, "STEP_START", "raw_crm"),
    _ev(101.0, "ASSET_MATERIALIZATION", "raw_crm", "raw/crm_customers"),
    _ev(102.5, "STEP_SUCCESS", "raw_crm"),
    _ev(102.6, "STEP_START", "raw__crm_customers_ledger_balances"),
    _ev(102.7, "ASSET_CHECK_EVALUATION", "raw__crm_customers_ledger_balances"),
    _ev(102.9, "STEP_SUCCESS", "raw__crm_customers_ledger_balances"),
    _ev(103.0, "STEP_START", "identity_resolution"),
    *[
        _ev(110.0, "ASSET_MATERIALIZATION", "identity_resolution", f"identity/{t}")
        for t in ("customer_map", "links", "clusters")
    ],
    _ev(110.0, "STEP_SUCCESS", "identity_resolution"),
    _ev(110.1, "STEP_START", "raw__crm_customers_raw_rows_match_ledger"),
    _ev(110.3, "STEP_SUCCESS", "raw__crm_customers_raw_rows_match_ledger"),
    _ev(110.4, "RUN_SUCCESS", None),
]


def test_steps_are_timed_and_classified_from_the_event_log():
    steps = benchlib.steps_from_events(list(reversed(FAKE_EVENTS)))  # order of input does not matter
    assert [s.key for s in steps] == [
        "raw_crm",
        "raw__crm_customers_ledger_balances",
        "identity_resolution",
        "raw__crm_customers_raw_rows_match_ledger",
    ]
    by_key = {s.key: s for s in steps}
    assert by_key["raw_crm"].seconds == pytest.approx(2.0)
    assert by_key["raw_crm"].is_asset_step and not by_key["raw__crm_customers_ledger_balances"].is_asset_step
    assert by_key["raw__crm_customers_ledger_balances"].checks == 1
    assert benchlib.step_label(by_key["raw_crm"]) == "raw/crm_customers"
    assert benchlib.step_label(by_key["identity_resolution"]) == "identity: identity_resolution (3 tables)"
    assert by_key["identity_resolution"].status == "success"


def test_stage_times_sum_checks_split_layers_and_overhead():
    report = benchlib.stage_times(benchlib.steps_from_events(FAKE_EVENTS), run_seconds=10.4)
    assert [(s["step"], s["layer"], s["seconds"]) for s in report["stages"]] == [
        ("raw_crm", "raw", 2.0),
        ("identity_resolution", "identity", 7.0),
    ]
    assert report["checks"] == {"steps": 2, "seconds": pytest.approx(0.5), "cpu_seconds": None}
    assert report["by_layer"] == {"identity": 7.0, "raw": 2.0, "asset checks": pytest.approx(0.5)}
    assert report["seconds_in_steps"] == pytest.approx(9.5)
    assert report["between_steps_seconds"] == pytest.approx(0.9)
    assert benchlib.find_stage(report, "identity")["step"] == "identity_resolution"
    assert benchlib.find_stage(report, "golden") is None


def test_the_raw_step_is_split_by_source_at_each_sources_last_materialisation():
    events = [
        _ev(200.0, "STEP_START", "raw_sources"),
        *[_ev(201.0 + d, "ASSET_MATERIALIZATION", "raw_sources", "raw/crm_customers") for d in (0.0, 0.1)],
        _ev(204.0, "ASSET_MATERIALIZATION", "raw_sources", "raw/esp_members"),
        _ev(204.2, "ASSET_MATERIALIZATION", "raw_sources", "raw/esp_activity"),
        _ev(210.0, "ASSET_MATERIALIZATION", "raw_sources", "raw/web_events"),
        _ev(211.0, "STEP_SUCCESS", "raw_sources"),
        _ev(211.1, "STEP_START", "identity_resolution"),
        _ev(215.0, "ASSET_MATERIALIZATION", "identity_resolution", "identity/links"),
        _ev(216.0, "ASSET_MATERIALIZATION", "identity_resolution", "identity/customer_map"),
        _ev(216.0, "STEP_SUCCESS", "identity_resolution"),
    ]
    series = [(200.0, 0.0), (220.0, 40.0)]  # two cores busy throughout
    report = benchlib.stage_times(benchlib.steps_from_events(events), cpu_series=series)
    raw, identity = report["stages"]
    assert (raw["label"], raw["layer"], raw["seconds"]) == ("raw: raw_sources (4 tables)", "raw", 11.0)
    assert [(p["label"], p["seconds"], p["cpu_seconds"]) for p in raw["parts"]] == [
        ("raw/crm_customers", pytest.approx(1.1), pytest.approx(2.2)),
        ("raw/esp_activity, raw/esp_members", pytest.approx(3.1), pytest.approx(6.2)),
        ("raw/web_events", pytest.approx(5.8), pytest.approx(11.6)),
    ]
    assert "parts" not in identity  # split only where tables are written source by source
    assert report["by_layer"]["raw"] == 11.0  # the step counts once
    md = benchlib.render_markdown({"stages": report})
    assert "|   · raw/esp_activity, raw/esp_members (in the step) | 3.1 s | 6.2 s |" in md


def test_steps_side_by_side_are_reported_as_their_overlap_not_negative_bookkeeping():
    # the threaded executor runs steps at the same time: their walls sum to more than the run's
    report = benchlib.stage_times(benchlib.steps_from_events(FAKE_EVENTS), run_seconds=8.0)
    assert report["between_steps_seconds"] == pytest.approx(-1.5)
    md = benchlib.render_markdown({"stages": report})
    assert "| steps side by side (sum of step walls less the run's) | 1.5 s | |" in md
    assert "between steps" not in md


def test_a_failed_asset_step_is_its_own_stage_not_a_check():
    events = [
        _ev(100.0, "STEP_START", "staging__identity_records"),
        _ev(385.0, "STEP_FAILURE", "staging__identity_records"),
        _ev(385.1, "STEP_START", "raw_ledger_checks"),
        _ev(385.2, "ASSET_CHECK_EVALUATION", "raw_ledger_checks"),
        _ev(386.0, "STEP_SUCCESS", "raw_ledger_checks"),
    ]
    report = benchlib.stage_times(benchlib.steps_from_events(events))
    assert [(s["step"], s["layer"], s["seconds"], s["status"]) for s in report["stages"]] == [
        ("staging__identity_records", "failed step", 285.0, "failure")
    ]
    assert report["checks"]["steps"] == 1 and report["checks"]["seconds"] == pytest.approx(0.9)


def test_stage_cpu_time_is_read_off_the_sampled_cpu_series():
    series = [(100.0, 0.0), (102.0, 2.0), (103.0, 2.0), (110.0, 9.0), (110.4, 9.2)]
    assert benchlib.cpu_at(series, 101.0) == pytest.approx(1.0)
    assert benchlib.cpu_at(series, 200.0) is None
    assert benchlib.cpu_between(series, 103.0, 110.0) == pytest.approx(7.0)
    report = benchlib.stage_times(benchlib.steps_from_events(FAKE_EVENTS), run_seconds=10.4, cpu_series=series)
    cpu = {s["step"]: s["cpu_seconds"] for s in report["stages"]}
    # raw_crm runs 100.5 -> 102.5: CPU 0.5 -> 2.0
    assert cpu == {"raw_crm": pytest.approx(1.5), "identity_resolution": pytest.approx(7.0)}
    assert report["checks"]["cpu_seconds"] == pytest.approx(0.1)
    # without a series the CPU column is simply unknown
    assert benchlib.stage_times(benchlib.steps_from_events(FAKE_EVENTS))["stages"][0]["cpu_seconds"] is None


def test_a_step_without_an_end_counts_zero_and_a_failure_is_recorded():
    steps = benchlib.steps_from_events(
        [
            _ev(1.0, "STEP_START", "a"),
            _ev(1.1, "ASSET_MATERIALIZATION", "a", "golden/customers"),
            _ev(2.0, "STEP_FAILURE", "a"),
            _ev(3.0, "STEP_START", "b"),
        ]
    )
    assert steps[0].status == "failure" and steps[0].seconds == pytest.approx(1.0)
    assert steps[1].seconds == 0.0


def test_ratios_and_rates():
    cmp_ = benchlib.comparison(
        {"seconds": 30.0, "peak_rss_bytes": 2 * 2**30, "precision": 0.99, "recall": 0.9, "f1": None},
        {"seconds": 20.0, "peak_rss_bytes": 2**30, "precision": 0.9, "recall": 0.0, "f1": 0.5},
    )
    assert cmp_["time_ratio"] == pytest.approx(1.5)
    assert cmp_["rss_ratio"] == pytest.approx(2.0)
    assert cmp_["precision_ratio"] == pytest.approx(1.1)
    assert cmp_["recall_ratio"] is None and cmp_["f1_ratio"] is None
    assert benchlib.per_second(1000, 4.0) == 250.0
    assert benchlib.per_second(1000, 0) is None and benchlib.per_second(None, 3.0) is None


def _fake_result(bare: dict | None) -> dict:
    report = benchlib.stage_times(benchlib.steps_from_events(FAKE_EVENTS), run_seconds=10.4)
    return {
        "params": {"customers": 1000, "days": 5, "seed": 42},
        "started_at": "2026-01-01T00:00:00+00:00",
        "code": {"commit": "abc1234", "files_changed_since_commit": ["x.py"]},
        "machine": {
            "summary": "2 cores",
            "load_average_at_start": (1.0, 0.5, 0.2),
            "load_average_at_end": (2.0, 1.0, 0.5),
        },
        "sample": {"wall_seconds": 0.7},
        "run": {
            "wall_seconds": 12.34,
            "outside_run_seconds": 1.94,
            "peak_rss_bytes": 3 * 2**30,
            "cpu_seconds": 20.0,
            "source_rows_per_second": 555.5,
        },
        "stages": report,
        "counts": {"source_rows": 6849, "identity_records": 2400, "customers": 1013},
        "identity": {
            "seconds": 7.0,
            "records_per_second": 342.9,
            "records_in_model": 1414,
            "candidate_pairs": {"value": 735, "how": "recomputed"},
            "accuracy": {
                "precision": 1.0,
                "recall": 0.985,
                "f1": 0.9924,
                "by_source_pair": [{"sources": "crm<->pos", "true_pairs": 1200, "recall": 0.99, "precision": 1.0}],
            },
        },
        "bare_splink": bare,
        "comparison": benchlib.comparison(
            {"seconds": 7.0, "precision": 1.0, "recall": 0.985, "f1": 0.9924},
            {"seconds": 3.5, "precision": 0.5, "recall": 0.985, "f1": 0.6},
        ),
    }


def test_markdown_table_holds_every_figure():
    bare = {
        "wall_seconds": 5.0,
        "seconds": 3.5,
        "peak_rss_bytes": 200 * 2**20,
        "cpu_seconds": 4.0,
        "candidate_pairs": 1251,
        "accuracy": {
            "precision": 0.5,
            "recall": 0.985,
            "f1": 0.6,
            "by_source_pair": [{"sources": "crm<->pos", "true_pairs": 1200, "recall": 0.25, "precision": 0.9}],
        },
        "phases": {"u (random sampling, 1e7 pairs)": 3.0},
    }
    md = benchlib.render_markdown(_fake_result(bare))
    for expected in (
        "1,000 customers, 5 days, seed 42",
        "| source rows (read from landing files) | 6,849 |",
        "12.3 s",
        "3.00 GiB",
        "200 MiB",
        "| candidate pairs compared (identity) | 735 (recomputed) |",
        "1.0000 / 0.9850 / 0.9924",
        "0.5000 / 0.9850 / 0.6000",
        "| **identity ÷ bare: time** | 2.00× |",
        "2.000× / 1.000× / 1.654×",
        "| raw/crm_customers | 2.0 s |",
        "| identity: identity_resolution (3 tables) | 7.0 s |",
        "| asset checks (2 steps, summed) | 0.5 s |",
        "| between steps (Dagster bookkeeping) | 0.9 s |",
        "| u (random sampling, 1e7 pairs) | 3.0 s |",
        "load average at start 1.0 / 0.5 / 0.2",
        "code abc1234 + 1 uncommitted files",
        "| crm<->pos | 1,200 | 0.9900 | 1.0000 | 0.2500 | 0.9000 |",
    ):
        assert expected in md, expected
    # stages are listed slowest first
    assert md.index("identity: identity_resolution") < md.index("raw/crm_customers")


def test_night_ratios_against_bare_splink_with_their_targets():
    bare = {"wall_seconds": 5.0, "seconds": 3.5, "accuracy": {}}
    result = _fake_result(bare)
    ratios = benchlib.night_ratios(result)
    # night 12.34 s, raw 2.0 s (no staging step in the fake run), identity 7.0 s, bare 3.5 s
    assert ratios["night_to_bare"] == pytest.approx(12.34 / 3.5)
    assert ratios["raw_staging_seconds"] == pytest.approx(2.0)
    assert ratios["raw_staging_to_bare"] == pytest.approx(2.0 / 3.5)
    assert ratios["identity_to_bare"] == pytest.approx(2.0)
    md = benchlib.render_markdown(result)
    assert "| whole night (`cdp run` wall time) ÷ bare | 3.53× | ≤ 2.0× (**not met**) |" in md
    assert "| raw + staging (2.0 s) ÷ bare | 0.57× | ≤ 1.0× (met) |" in md
    assert "| identity stage ÷ bare | 2.00× | ≤ 1.0× (**not met**) |" in md
    assert benchlib.night_ratios(_fake_result({"skipped": "--skip-bare"}))["night_to_bare"] is None


def test_markdown_without_bare_splink_says_it_was_skipped():
    md = benchlib.render_markdown(_fake_result({"skipped": "--skip-bare"}))
    assert "| bare Splink | skipped (--skip-bare) |" in md
    assert "identity ÷ bare" not in md


def test_markdown_of_a_failed_benchmark_shows_the_error_and_what_was_measured():
    md = benchlib.render_markdown(
        {"error": "RuntimeError: cdp sample failed", "params": {"customers": 5}, "sample": {"wall_seconds": 1.0}}
    )
    assert "| **benchmark failed** | RuntimeError: cdp sample failed |" in md
    assert "| sample generation (not part of the night) | 1.0 s |" in md


def test_sampler_measures_the_whole_process_tree():
    # parent holds ~60 MiB and starts a child holding ~80 MiB; both live at the same time
    child = "b = bytearray(80 * 2**20); import time; time.sleep(1.0)"
    parent = (
        "import subprocess, sys; b = bytearray(60 * 2**20); "
        f"p = subprocess.Popen([sys.executable, '-c', {child!r}]); p.wait()"
    )
    started = time.monotonic()
    run = benchlib.run_measured([sys.executable, "-c", parent], interval=0.05)
    measured_around = time.monotonic() - started
    assert run.returncode == 0
    assert run.max_processes >= 2
    assert run.peak_tree_rss_bytes >= 140 * 2**20
    assert run.peak_process_hwm_bytes >= 80 * 2**20
    assert run.peak_rss_bytes >= run.peak_tree_rss_bytes
    assert 1.0 <= run.wall_seconds <= measured_around  # the child's second, and no more than it took (no time limit)
    assert run.samples >= 2
    assert run.cpu_series and run.cpu_series[-1][1] >= run.cpu_series[0][1]


def test_sampler_reports_exit_code_and_writes_the_log(tmp_path):
    log = tmp_path / "child.log"
    run = benchlib.run_measured([sys.executable, "-c", "print('hello'); raise SystemExit(3)"], log_file=log)
    assert run.returncode == 3
    assert "hello" in log.read_text()
    assert run.as_dict()["log_file"] == str(log)


def test_bench_env_points_everything_into_the_work_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CDP_WAREHOUSE", "/somewhere/else.duckdb")
    run_benchmark = _load("run_benchmark")
    env = run_benchmark.bench_env(tmp_path)
    assert env["CDP_DATA_DIR"] == str(tmp_path / "data")
    assert "CDP_WAREHOUSE" not in env
    home = Path(env["DAGSTER_HOME"])
    assert home.parent == tmp_path and (home / "dagster.yaml").resolve() == run_benchmark.REPO_ROOT / "dagster.yaml"


def _night(wall, stages, checks=1.0):
    return {
        "wall_seconds": wall,
        "cpu_seconds": wall * 1.2,
        "peak_rss_bytes": 2**30,
        "stages": {
            "stages": [{"label": label, "seconds": s} for label, s in stages],
            "checks": {"steps": 3, "seconds": checks},
        },
    }


def _quiet_identity() -> dict:
    """The identity figures of a quiet night's result: 20 new records of 1,000, 15 rescored."""
    return {"records": 1000, "new_records": 20, "new_share": 0.02, "records_rescored": 15, "rescored_share": 0.03}


def test_incremental_report_shows_the_floor_beside_the_quiet_night():
    """The fourth night (no new files) gets its row, its ratio, what the quiet night costs above
    it, and a column in the stage table; each stage shows its quiet ÷ full (a fixed cost near 1)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        incremental = _load("incremental_night")
    finally:
        sys.path.remove(str(BENCHMARKS))
    result = {
        "params": {"customers": 1000, "days": 30, "seed": 1},
        "base": _night(50.0, [("raw/crm_customers", 5.0)]),
        "quiet": _night(12.0, [("raw/crm_customers", 1.0), ("identity", 4.0)]),
        "full_refresh": _night(80.0, [("raw/crm_customers", 6.0), ("identity", 20.0)]),
        "no_new_files": _night(8.0, [("raw/crm_customers", 0.5), ("identity", 3.0)], checks=0.9),
        "identity": _quiet_identity(),
        "ratio_wall": 12.0 / 80.0,
        "ratio_cpu": 0.15,
        "floor_ratio_wall": 8.0 / 80.0,
    }
    text = incremental.render(result)
    assert "| no new files: `cdp run` again (the floor) | 8.0 s | 9.6 s | 1.00 GiB |" in text
    assert "no new files ÷ full rebuild: 0.100 (wall); the quiet night's own records and events cost 4.0 s" in text
    assert "| identity | 4.0 s | 20.0 s | 0.20 | 3.0 s |" in text
    assert "| asset checks (3 steps, summed) | 1.0 s | 1.0 s | 1.00 | 0.9 s |" in text
    assert "(CPU s)" not in text  # stages without their CPU seconds: no CPU table
    del result["no_new_files"]  # a result written before the fourth night existed
    older = incremental.render(result)
    assert "no new files" not in older and "| identity | 4.0 s | 20.0 s | 0.20 |\n" in older


def test_incremental_report_compares_the_published_tables_and_gives_cpu_per_stage():
    """The quiet night's published tables against the full rebuild's (rows and content hash per
    table): equal, differing or missing on one side; and a CPU table per stage when the stages have it."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        incremental = _load("incremental_night")
    finally:
        sys.path.remove(str(BENCHMARKS))
    quiet = {"golden.customers": [10, "7"], "identity.clusters": [5, "1"], "segments.history": [3, "2"]}
    full = {"golden.customers": [10, "7"], "identity.clusters": [5, "9"], "audit.files": [1, "4"]}
    compared = incremental.compare_tables(quiet, full)
    assert compared["tables"] == 4 and compared["equal"] == 1
    assert list(compared["differ"]) == ["audit.files", "identity.clusters", "segments.history"]
    assert compared["differ"]["segments.history"] == {"quiet": [3, "2"], "full_refresh": None}

    def night(wall, stages, checks=1.0):
        out = _night(wall, stages, checks)
        for s, (_, seconds) in zip(out["stages"]["stages"], stages):
            s["cpu_seconds"] = seconds * 2
        out["stages"]["checks"]["cpu_seconds"] = checks * 2
        return out

    result = {
        "params": {"customers": 1000, "days": 30, "seed": 1},
        "base": night(50.0, [("identity", 20.0)]),
        "quiet": night(12.0, [("identity", 4.0)]),
        "full_refresh": night(80.0, [("identity", 20.0)]),
        "no_new_files": night(8.0, [("identity", 3.0)], checks=0.5),
        "identity": _quiet_identity(),
        "ratio_wall": 0.15,
        "ratio_cpu": 0.15,
        "floor_ratio_wall": 0.1,
        "tables": compared,
    }
    text = incremental.render(result)
    assert "(`table_hashes.py`): 1 of 4; differ: audit.files, identity.clusters, segments.history" in text
    assert "| identity | 8.00 | 40.00 | 0.20 | 6.00 |" in text
    assert "| asset checks (3 steps, summed) | 2.00 | 2.00 | 1.00 | 1.00 |" in text


def test_an_existing_sample_is_hard_linked_with_its_truth(tmp_path):
    run_benchmark = _load("run_benchmark")
    sample = tmp_path / "s" / "landing"
    (sample / "crm" / "2026-10-01").mkdir(parents=True)
    (sample / "crm" / "2026-10-01" / "customers.csv").write_text("id\n1\n")
    (tmp_path / "s" / "truth").mkdir()
    (tmp_path / "s" / "truth" / "truth.csv").write_text("source,source_record_id,person_id\n")
    (tmp_path / "s" / "truth" / "truth_cases.csv").write_text("person_id,case_type,case_group\n")
    landing, truth = tmp_path / "w" / "landing", tmp_path / "w" / "t" / "truth.csv"
    run_benchmark._link_sample(sample, landing, truth)
    copied = landing / "crm" / "2026-10-01" / "customers.csv"
    assert copied.read_text() == "id\n1\n"
    assert copied.stat().st_ino == (sample / "crm" / "2026-10-01" / "customers.csv").stat().st_ino
    assert truth.exists() and (truth.parent / "truth_cases.csv").exists()
    (tmp_path / "s" / "truth" / "truth.csv").unlink()
    with pytest.raises(RuntimeError, match="no truth file"):
        run_benchmark._link_sample(sample, tmp_path / "w2", tmp_path / "w2t" / "truth.csv")


def test_table_hashes_ignore_row_order_and_run_time_columns_but_count_every_row(tmp_path):
    import duckdb

    table_hashes = _load("table_hashes")

    def build(name: str, rows: list[tuple], loaded_at: str) -> str:
        path = str(tmp_path / f"{name}.duckdb")
        con = duckdb.connect(path)
        con.execute("CREATE SCHEMA raw; CREATE TABLE raw.t (id INT, email VARCHAR, _loaded_at TIMESTAMP)")
        con.executemany("INSERT INTO raw.t VALUES (?, ?, ?)", [(*r, loaded_at) for r in rows])
        con.close()
        return path

    rows = [(1, "a@x.se"), (2, "b@x.se"), (2, "b@x.se")]
    first = table_hashes.table_hashes(build("a", rows, "2026-01-01"))
    reordered = table_hashes.table_hashes(build("b", list(reversed(rows)), "2026-02-02"))
    assert first == reordered and first[0][:2] == ("raw.t", 3) and first[0][3] == 2  # _loaded_at left out
    # the same distinct rows and count, another row repeated: a set would not tell them apart
    other_repeat = table_hashes.table_hashes(build("c", [(1, "a@x.se"), (1, "a@x.se"), (2, "b@x.se")], "2026-01-01"))
    assert other_repeat[0][2] != first[0][2]
    changed_value = table_hashes.table_hashes(build("d", [(1, "a@x.se"), (2, "b@x.se"), (2, "c@x.se")], "2026-01-01"))
    assert changed_value[0][2] != first[0][2]


def test_schedule_model_splits_a_step_off_and_shares_the_cores_with_its_neighbour():
    model = _load("night_schedule_model")
    # src (1 s, one core) -> ident (10 s, one core) -> gold (4 s, both cores); all may run side by side
    steps = {"src": (1.0, 1.0), "ident": (10.0, 1.0), "gold": (4.0, 2.0)}
    deps = {"src": set(), "ident": {"src"}, "gold": {"ident"}}
    order, policy = ["src", "ident", "gold"], {k: "free" for k in steps}
    assert model.simulate(steps, deps, order, 2, policy, ())[0] == pytest.approx(15.0)
    split = model.split_off(steps, deps, order, policy, "free", [("ledger", "gold", "2", "src")])
    s_steps, s_deps, s_order, s_policy = split
    assert s_steps["gold"] == (3.0, 2.0) and s_steps["ledger"] == (1.0, 2.0)  # 2 CPU s at gold's two cores
    assert s_deps["ledger"] == {"src"} and "ledger" in s_deps["gold"] and s_policy["ledger"] == "free"
    assert steps["gold"] == (4.0, 2.0) and "ledger" not in deps["gold"]  # the inputs are left as they were
    wall, schedule = model.simulate(*split[:2], s_order, 2, s_policy, ())
    # ledger beside ident from 1 s: three cores asked of two, each at 2/3 speed; ledger's 1 s ends at 2.5 s,
    # ident has done 1 s of its 10 by then and ends at 11.5 s; gold's 3 s end the night at 14.5 s
    assert wall == pytest.approx(14.5)
    assert {k: (round(s, 6), round(e, 6)) for k, s, e in schedule}["ident"] == (1.0, 11.5)
    with pytest.raises(SystemExit, match="not a part of"):
        model.split_off(steps, deps, order, policy, "free", [("ledger", "gold", "8", "src")])
    with pytest.raises(SystemExit, match="not steps of the night: nope"):
        model.split_off(steps, deps, order, policy, "free", [("ledger", "gold", "2", "nope")])
