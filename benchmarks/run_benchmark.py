"""Benchmark the whole nightly job at a given size, and the identity stage against bare Splink.

    python benchmarks/run_benchmark.py --customers 10000 [--days 30] [--seed 42] [--out DIR] [--skip-bare]
    make bench CUSTOMERS=10000

In a fresh temporary data folder and Dagster home it:

1. generates N customers with the sample generator (``cdp sample``; truth kept outside
   the data folder, so the identity stage does not score itself during the run);
2. runs the nightly job with ``cdp run`` in a child process, sampling the RSS of its
   process tree every 0.2 s;
3. reads per-step wall times and the identity metadata from that run's Dagster event log;
4. scores ``identity.customer_map`` with ``cdp evaluate --json``;
5. counts the candidate pairs the identity model's blocking rules produce (recomputed
   here, outside the timed run: the identity stage does not record it);
6. runs ``benchmarks/bare_splink.py`` on the same ``staging.identity_records`` in its own
   process, and scores its clusters with the project's ``evaluate_against_truth``;
7. writes ``<out>/<N>.json`` and prints a markdown table.

See docs/performance.md for what each figure means.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import benchlib  # noqa: E402

CDP_PATH_VARS = (
    "CDP_LANDING_DIR",
    "CDP_WAREHOUSE",
    "CDP_BUILD_DB",
    "CDP_EXPORT_DIR",
    "CDP_INBOX_DIR",
    "CDP_REPORTS_DIR",
)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def machine_info() -> dict:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    versions = {}
    for mod in ("duckdb", "splink", "dagster"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            versions[mod] = None
    cores = os.cpu_count()
    return {
        "load_average_at_start": os.getloadavg(),
        "cpu": cpu,
        "cores": cores,
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "kernel": platform.release(),
        **versions,
        "duckdb_memory_limit": os.environ.get("CDP_DUCKDB_MEMORY_LIMIT", "4GB (default)"),
        "duckdb_threads": os.environ.get("CDP_DUCKDB_THREADS", "2 (default)"),
        "summary": f"{cores} cores ({cpu}), {mem_gib} GiB RAM, Python {platform.python_version()}, "
        f"duckdb {versions['duckdb']}, splink {versions['splink']}, dagster {versions['dagster']}",
    }


def code_revision() -> dict:
    """The commit benchmarked and the files changed since it (read-only git plumbing)."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    try:
        changed = [line for line in git("diff-index", "--name-only", "HEAD").splitlines() if line]
        return {"commit": git("rev-parse", "--short", "HEAD") or None, "files_changed_since_commit": changed}
    except OSError:
        return {"commit": None}


def bench_env(work: Path) -> dict:
    """A child environment pointing every CDP_* path and DAGSTER_HOME into ``work``."""
    env = dict(os.environ)
    for var in CDP_PATH_VARS:
        env.pop(var, None)
    env["CDP_DATA_DIR"] = str(work / "data")
    home = work / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    link = home / "dagster.yaml"
    if not link.exists():
        link.symlink_to(REPO_ROOT / "dagster.yaml")
    env["DAGSTER_HOME"] = str(home)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


# --------------------------------------------------------------------------- event log
def read_run_events(dagster_home: Path) -> tuple[str, list[dict], dict[str, dict], float | None]:
    """The single run in ``dagster_home``: plain event dicts, materialisation metadata per
    asset, and the run's own wall time (RUN_START → RUN_SUCCESS/FAILURE)."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        if not runs:
            raise RuntimeError(f"no run recorded in {dagster_home}")
        run = runs[0]
        entries = instance.all_logs(run.run_id)
    events, metadata = [], {}
    run_start = run_end = None
    for entry in entries:
        ev = entry.dagster_event
        if ev is None:
            continue
        kind = ev.event_type_value
        asset_key = None
        if kind == "ASSET_MATERIALIZATION":
            mat = entry.asset_materialization
            asset_key = mat.asset_key.to_user_string()
            metadata[asset_key] = {k: getattr(v, "value", v) for k, v in (mat.metadata or {}).items()}
        if kind in ("RUN_START", "PIPELINE_START"):
            run_start = entry.timestamp
        if kind in ("RUN_SUCCESS", "PIPELINE_SUCCESS", "RUN_FAILURE", "PIPELINE_FAILURE"):
            run_end = entry.timestamp
        events.append(
            {"timestamp": entry.timestamp, "event_type": kind, "step_key": entry.step_key, "asset_key": asset_key}
        )
    run_seconds = (run_end - run_start) if run_start and run_end else None
    return run.run_id, events, metadata, run_seconds


# --------------------------------------------------------------------------- counts
def warehouse_counts(warehouse: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        one = lambda sql: con.execute(sql).fetchall()[0][0]  # noqa: E731
        return {
            "source_rows": int(one("SELECT coalesce(sum(rows_read), 0) FROM audit.files")),
            "source_rows_loaded": int(one("SELECT coalesce(sum(rows_loaded), 0) FROM audit.files")),
            "source_files": int(one("SELECT count(*) FROM audit.files")),
            "identity_records": int(one("SELECT count(*) FROM staging.identity_records")),
            "customers": int(one("SELECT count(DISTINCT customer_id) FROM identity.customer_map")),
            "golden_customers": int(one("SELECT count(*) FROM golden.customers")),
        }
    finally:
        con.close()


def identity_candidate_pairs(warehouse: Path) -> dict:
    """Candidate pairs of the identity model, recomputed from the published warehouse: the
    model's input (junk and over-shared identifiers blanked, nameless records left out) is
    rebuilt with the identity library, and Splink counts the pairs its prediction blocking
    rules generate, exactly (record_sample_proportion=1.0)."""
    import duckdb
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    from cdp_pipeline.lib.identity.config import load_identity_config
    from cdp_pipeline.lib.identity.junk_guard import find_excluded_identifiers
    from cdp_pipeline.lib.identity.name_keys import write_first_name_table
    from cdp_pipeline.lib.identity.name_variants import load_name_variants
    from cdp_pipeline.lib.identity.records import RECORDS, build_identifiers, build_records
    from cdp_pipeline.lib.identity.splink_model import SPLINK_INPUT, blocking_rule, build_splink_input
    from cdp_pipeline.settings import get_settings

    t0 = time.monotonic()
    config = load_identity_config(config_dir=get_settings().config_dir)
    con = duckdb.connect()
    try:
        path = str(warehouse).replace("'", "''")
        con.execute(f"ATTACH '{path}' AS wh (READ_ONLY)")
        build_records(con, "wh.staging.identity_records")
        write_first_name_table(
            con, f"SELECT DISTINCT nullif(trim(first_name_match), '') FROM {RECORDS}", load_name_variants()
        )
        build_identifiers(con)
        find_excluded_identifiers(con, config)
        records_in_model = build_splink_input(con, config)
        con.execute(f"CREATE TABLE model_input AS SELECT * FROM {SPLINK_INPUT}")
        db_api = DuckDBAPI(connection=con)
        sdf = db_api.register("model_input")
        counts = count_comparisons_from_blocking_rules(
            sdf,
            blocking_rules=[blocking_rule(r) for r in config.splink.blocking_rules],
            link_type="dedupe_only",
            record_sample_proportion=1.0,
        )
    finally:
        con.close()
    total = counts[-1]["cumulative_comparison_count"] if counts else 0
    by_rule = [{"rule": c["blocking_rule"], "new_pairs": c["marginal_comparison_count"]} for c in counts]
    return {
        "value": int(total or 0),
        "records_in_model": records_in_model,
        "by_rule": by_rule,
        "how": "recomputed by the harness from the model's blocking rules",
        "seconds": round(time.monotonic() - t0, 3),
    }


# --------------------------------------------------------------------------- main
def _link_sample(sample: Path, landing: Path, truth: Path) -> None:
    """Hard-link the landing files of an earlier ``cdp sample --out DIR --truth DIR/../truth/truth.csv``
    (never written by the run: the loader only reads) and copy its truth beside."""
    if not sample.is_dir():
        raise RuntimeError(f"--sample {sample}: not a folder")
    for path in sorted(sample.rglob("*")):
        target = landing / path.relative_to(sample)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
    candidates = [sample.parent / "truth" / "truth.csv", sample.parent / "sample_truth" / "truth.csv"]
    found = next((c for c in candidates if c.exists()), None)
    if found is None:
        raise RuntimeError(f"--sample {sample}: no truth file at {' or '.join(map(str, candidates))}")
    truth.parent.mkdir(parents=True, exist_ok=True)
    for companion in found.parent.glob(f"{found.stem}*"):
        shutil.copy(companion, truth.parent / companion.name.replace(found.stem, truth.stem, 1))


def _generate_sample(args: argparse.Namespace, env: dict, landing: Path, truth: Path, logs: Path, result: dict) -> None:
    log(f"generating {args.customers:,} customers × {args.days} days …")
    cdp = _bin("cdp")
    sample_cmd = [
        cdp,
        "sample",
        "--customers",
        str(args.customers),
        "--days",
        str(args.days),
        "--seed",
        str(args.seed),
        "--out",
        str(landing),
        "--truth",
        str(truth),
    ]
    sample = benchlib.run_measured(sample_cmd, env=env, cwd=REPO_ROOT, log_file=logs / "sample.log")
    result["commands"].append(" ".join(sample_cmd))
    result["sample"] = sample.as_dict()
    if sample.returncode != 0:
        raise RuntimeError(f"cdp sample failed; see {logs / 'sample.log'}")
    log(f"sample: {sample.wall_seconds:.1f} s")


def run(args: argparse.Namespace, result: dict) -> dict:
    """Fill ``result`` step by step (so a failure part-way still leaves what was measured)."""
    started = dt.datetime.now(dt.timezone.utc)
    work = Path(tempfile.mkdtemp(prefix=f"cdp_bench_{args.customers}_", dir=args.workdir))
    env = bench_env(work)
    data = work / "data"
    landing = data / "landing"
    truth = work / "truth" / "truth.csv"  # outside CDP_DATA_DIR: the run must not score itself
    warehouse = data / "warehouse" / "cdp.duckdb"
    logs = work / "logs"
    logs.mkdir()
    cdp = _bin("cdp")
    result.update(
        {
            "params": {"customers": args.customers, "days": args.days, "seed": args.seed},
            "started_at": started.isoformat(timespec="seconds"),
            "machine": machine_info(),
            "code": code_revision(),
            "workdir": str(work),
            "commands": [],
        }
    )

    log(f"work dir {work}")
    if args.sample:
        _link_sample(Path(args.sample), landing, truth)
        result["sample"] = {"reused": str(Path(args.sample).resolve())}
        log(f"landing files hard-linked from {args.sample}")
    else:
        _generate_sample(args, env, landing, truth, logs, result)

    # The package's bytecode written first, as an installed or once-run package has it: with
    # PYTHONDONTWRITEBYTECODE set (this machine sets it) every night would otherwise compile the
    # ~170 modules it imports again (0.1-0.2 CPU s), which bare Splink, imported from
    # site-packages compiled by pip, never pays.
    compileall.compile_dir(REPO_ROOT / "cdp_pipeline", quiet=1)
    log("cdp run (the nightly job) …")
    run_cmd = [cdp, "run"]
    night = benchlib.run_measured(run_cmd, env=env, cwd=REPO_ROOT, log_file=logs / "cdp_run.log")
    result["commands"].append("cdp run")
    result["run"] = night.as_dict()
    log(
        f"cdp run: {night.wall_seconds:.1f} s, peak RSS {benchlib.fmt_bytes(night.peak_rss_bytes)}, "
        f"exit {night.returncode}"
    )
    if night.returncode != 0:
        result["run"]["failed"] = True

    run_id, events, metadata, run_seconds = read_run_events(work / "dagster_home")
    steps = benchlib.steps_from_events(events)
    stages = benchlib.stage_times(steps, run_seconds, night.cpu_series)
    result["run_id"] = run_id
    result["stages"] = stages
    result["run"]["outside_run_seconds"] = (
        round(night.wall_seconds - run_seconds, 3) if run_seconds is not None else None
    )
    if not warehouse.exists():
        raise RuntimeError(f"no published warehouse after `cdp run`; see {logs / 'cdp_run.log'}")

    counts = warehouse_counts(warehouse)
    result["counts"] = counts
    result["run"]["source_rows_per_second"] = benchlib.per_second(counts["source_rows"], night.wall_seconds)

    ident_stage = benchlib.find_stage(stages, "identity") or {}
    cmap_meta = metadata.get("identity/customer_map", {})
    links_meta = metadata.get("identity/links", {})
    ident = {
        "step": ident_stage.get("step"),
        "seconds": ident_stage.get("seconds"),
        "cpu_seconds": ident_stage.get("cpu_seconds"),
        "records": cmap_meta.get("records", counts["identity_records"]),
        "customers": cmap_meta.get("customers", counts["customers"]),
        "records_in_model": links_meta.get("records_in_model"),
        "links_by_type": cmap_meta.get("links_by_type"),
        "prior_match_probability": links_meta.get("prior_match_probability"),
        "training_notes": links_meta.get("training_notes"),
        "metadata_keys": {k: sorted(v) for k, v in metadata.items() if k.startswith("identity/")},
    }
    ident["records_per_second"] = benchlib.per_second(ident["records"], ident["seconds"])
    exposed = next(
        (v[k] for v in metadata.values() for k in ("candidate_pairs", "blocked_pairs", "pairs_compared") if k in v),
        None,
    )

    log("cdp evaluate …")
    eval_cmd = [cdp, "evaluate", "--truth", str(truth), "--json", "--warehouse", str(warehouse)]
    ev_log = logs / "evaluate.json"
    ev_run = benchlib.run_measured(eval_cmd, env=env, cwd=REPO_ROOT, log_file=ev_log)
    result["commands"].append(f"cdp evaluate --truth {truth} --json")
    if ev_run.returncode == 0:
        text = ev_log.read_text(encoding="utf-8")
        evaluation = json.loads(text[text.index("{") :])
        ident["accuracy"] = evaluation["pairwise"] | {
            "clusters": evaluation["clusters"],
            "records_evaluated": evaluation["records_evaluated"],
            "by_source_pair": evaluation["by_source_pair"],
        }
    else:
        ident["accuracy"] = {"error": f"cdp evaluate exited {ev_run.returncode}; see {ev_log}"}

    if exposed is not None:
        ident["candidate_pairs"] = {"value": int(exposed), "how": "from the identity stage's metadata"}
    else:
        log("candidate pairs: not in the identity metadata; recomputing from the blocking rules …")
        try:
            ident["candidate_pairs"] = identity_candidate_pairs(warehouse)
            if ident["records_in_model"] is None:
                ident["records_in_model"] = ident["candidate_pairs"]["records_in_model"]
        except Exception as exc:  # noqa: BLE001 - the identity code is moving; report, don't fail
            ident["candidate_pairs"] = {"value": None, "how": f"not exposed; recomputation failed: {exc}"}
    result["identity"] = ident

    if args.skip_bare:
        result["bare_splink"] = {"skipped": "--skip-bare"}
    else:
        log("bare Splink dedupe …")
        clusters = work / "bare_clusters.parquet"
        timings = work / "bare_timings.json"
        bare_cmd = [
            sys.executable,
            str(HERE / "bare_splink.py"),
            "--warehouse",
            str(warehouse),
            "--out",
            str(clusters),
            "--timings",
            str(timings),
            "--seed",
            str(args.seed),
        ]
        bare_run = benchlib.run_measured(bare_cmd, env=env, cwd=REPO_ROOT, log_file=logs / "bare_splink.log")
        result["commands"].append(
            f"python benchmarks/bare_splink.py --warehouse {warehouse} --out {clusters} --seed {args.seed}"
        )
        bare = bare_run.as_dict()
        if bare_run.returncode == 0:
            import pyarrow.parquet as pq

            from cdp_pipeline.lib.identity.evaluate import evaluate_against_truth

            report = json.loads(timings.read_text(encoding="utf-8"))
            ev = evaluate_against_truth(pq.read_table(clusters), truth)
            bare |= {
                "seconds": report["splink_seconds"],
                "phases": report["phases"],
                "records": report["records"],
                "candidate_pairs": report["candidate_pairs"],
                "pairs_above_threshold": report["pairs_above_threshold"],
                "clusters": report["clusters"],
                "records_per_second": benchlib.per_second(report["records"], report["splink_seconds"]),
                "accuracy": ev["pairwise"] | {"clusters": ev["clusters"], "by_source_pair": ev["by_source_pair"]},
            }
            result["comparison"] = benchlib.comparison(
                {
                    "seconds": ident["seconds"],
                    "cpu_seconds": ident["cpu_seconds"],
                    "peak_rss_bytes": night.peak_rss_bytes,
                    **{k: ident.get("accuracy", {}).get(k) for k in ("precision", "recall", "f1")},
                },
                {
                    "seconds": bare["seconds"],
                    "cpu_seconds": bare_run.cpu_seconds,
                    "peak_rss_bytes": bare_run.peak_rss_bytes,
                    **{k: ev["pairwise"][k] for k in ("precision", "recall", "f1")},
                },
            )
        else:
            bare["error"] = f"bare_splink.py exited {bare_run.returncode}; see {logs / 'bare_splink.log'}"
        result["bare_splink"] = bare
        log(f"bare Splink: {bare_run.wall_seconds:.1f} s, peak RSS {benchlib.fmt_bytes(bare_run.peak_rss_bytes)}")

    result["night_ratios"] = benchlib.night_ratios(result)
    result["machine"]["load_average_at_end"] = os.getloadavg()
    result["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the nightly job and the identity stage.")
    parser.add_argument("--customers", type=int, required=True, help="people in the generated sample")
    parser.add_argument("--days", type=int, default=30, help="days of landing files")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=str(HERE / "results"), help="folder for <customers>.json")
    parser.add_argument("--skip-bare", action="store_true", help="do not run the bare Splink comparison")
    parser.add_argument("--workdir", help="parent folder for the temporary data folder (default: system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder afterwards")
    parser.add_argument(
        "--sample",
        help="use this landing folder (from `cdp sample --out DIR/landing --truth DIR/truth/truth.csv` with the "
        "same --customers, --days and --seed) instead of generating one; hard-linked, never written",
    )
    args = parser.parse_args(argv)

    result: dict = {}
    try:
        run(args, result)
    except Exception as exc:  # noqa: BLE001 - keep and show what was measured before the failure
        result["error"] = f"{type(exc).__name__}: {exc}"
        log(f"benchmark failed: {result['error']}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{args.customers}.json"
    path.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print(benchlib.render_markdown(result))
    print(f"results: {path}")
    if args.keep or "error" in result:
        print(f"data kept in {result.get('workdir')}")
    elif result.get("workdir"):
        shutil.rmtree(result["workdir"], ignore_errors=True)
    return 1 if "error" in result or result.get("run", {}).get("failed") else 0


if __name__ == "__main__":
    raise SystemExit(main())
