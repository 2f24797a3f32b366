"""Issue 8, point 3: what a quiet night costs next to a full rebuild.

    .venv/bin/python benchmarks/incremental_night.py --customers 290000 --days 30 --seed 42

Generates the sample, then plays four nights in one temporary folder (its own data folder
and DAGSTER_HOME, like run_benchmark.py):

1. the base: every day but the last, from an empty warehouse (`cdp run`);
2. the quiet night: the last day lands, `cdp run` loads only it and scores only the records
   that are new or changed;
3. the full rebuild: `cdp run --full-refresh` over the same input (every day reloaded, every
   layer recomputed, every pair rescored with the same model);
4. a night without new files (`cdp run` again): it runs as of the latest day, which raw does not
   load again (lib/raw/reload.py), and nothing changes. What it costs is what any night costs whatever it brings (the floor); the quiet
   night minus it is what that night's own records and events cost.

Reports wall time, CPU time and peak RSS of each, the quiet night ÷ full rebuild ratio (issue 8's
target: at most 0.15 at 1M records) and the floor's, the time per stage of the two compared nights, and how many
records the quiet night brought (`identity.runs`). Writes benchmarks/results/incremental_<N>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from run_benchmark import REPO_ROOT, _bin, bench_env, code_revision, log, machine_info, read_run_events  # noqa: E402
from table_hashes import table_hashes  # noqa: E402


def lay_days(src: Path, dst: Path, days: list[str]) -> None:
    """Hard-link the given landing days of ``src`` into ``dst`` (same bytes, no copy)."""
    for day_dir in sorted(src.glob("*/*")):
        if day_dir.name in days:
            target = dst / day_dir.parent.name / day_dir.name
            target.mkdir(parents=True, exist_ok=True)
            for f in day_dir.iterdir():
                os.link(f, target / f.name)


def identity_run_rows(warehouse: Path) -> list[dict]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cur = con.execute('SELECT * EXCLUDE (run_id) FROM identity.runs ORDER BY "at"')
        names = [d[0] for d in cur.description]
        return [dict(zip(names, (str(v) if hasattr(v, "isoformat") else v for v in row))) for row in cur.fetchall()]
    finally:
        con.close()


def night(name: str, cmd: list[str], env: dict, work: Path) -> dict:
    log(f"{name}: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))} …")
    m = benchlib.run_measured(cmd, env=env, cwd=REPO_ROOT, log_file=work / "logs" / f"{name}.log")
    if m.returncode != 0:
        raise RuntimeError(f"{name} failed; see {work / 'logs' / f'{name}.log'}")
    _, events, _, run_seconds = read_run_events(work / "dagster_home")
    stages = benchlib.stage_times(benchlib.steps_from_events(events), run_seconds, m.cpu_series)
    log(f"{name}: {m.wall_seconds:.1f} s, CPU {m.cpu_seconds:.1f} s, peak RSS {benchlib.fmt_bytes(m.peak_rss_bytes)}")
    return {
        "wall_seconds": round(m.wall_seconds, 2),
        "cpu_seconds": round(m.cpu_seconds, 2),
        "peak_rss_bytes": m.peak_rss_bytes,
        "run_seconds": run_seconds,
        "stages": stages,
        "command": " ".join(["cdp", *cmd[1:]]),
    }


def published_hashes(warehouse: Path) -> dict[str, list]:
    """``table_hashes.py``'s ``{table: [rows, hash]}`` of the published warehouse (outside the timed nights)."""
    return {name: [rows, str(digest)] for name, rows, digest, _ in table_hashes(str(warehouse))}


def compare_tables(quiet: dict[str, list], full: dict[str, list]) -> dict:
    """Which tables of the quiet night's warehouse equal the full rebuild's (rows and content hash)."""
    names = sorted(quiet.keys() | full.keys())
    differ = [n for n in names if quiet.get(n) != full.get(n)]
    return {
        "tables": len(names),
        "equal": len(names) - len(differ),
        "differ": {n: {"quiet": quiet.get(n), "full_refresh": full.get(n)} for n in differ},
    }


def render(result: dict) -> str:
    q, f, b, n0 = result["quiet"], result["full_refresh"], result["base"], result.get("no_new_files")
    ident = result["identity"]
    lines = [
        f"### Incremental night: {result['params']['customers']:,} customers, {result['params']['days']} days, "
        f"seed {result['params']['seed']}",
        "",
        "| night | wall time | CPU time | peak RSS |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, n in (
        ("base: days 1…N−1 from an empty warehouse", b),
        ("quiet night: day N (`cdp run`)", q),
        ("full rebuild: `cdp run --full-refresh`", f),
        ("no new files: `cdp run` again (the floor)", n0),
    ):
        if n is None:
            continue
        lines.append(
            f"| {label} | {benchlib.fmt_seconds(n['wall_seconds'])} | {benchlib.fmt_seconds(n['cpu_seconds'])}"
            f" | {benchlib.fmt_bytes(n['peak_rss_bytes'])} |"
        )
    lines += [
        "",
        f"**quiet night ÷ full rebuild: {result['ratio_wall']:.3f} (wall), {result['ratio_cpu']:.3f} (CPU)**",
        *(
            [
                "",
                f"no new files ÷ full rebuild: {result['floor_ratio_wall']:.3f} (wall); the quiet night's own "
                f"records and events cost {q['wall_seconds'] - n0['wall_seconds']:.1f} s above that floor",
            ]
            if n0
            else []
        ),
        "",
        f"identity records: {ident['records']:,}; new on the quiet night: {ident['new_records']:,} "
        f"({ident['new_share']:.2%}); records scored: {ident['records_rescored']:,} "
        f"({ident['rescored_share']:.2%} of the model's input)",
        "",
        *(
            [
                f"tables of the published warehouse equal after the quiet night and the full rebuild "
                f"(`table_hashes.py`): {result['tables']['equal']} of {result['tables']['tables']}; differ: "
                + (", ".join(result["tables"]["differ"]) or "none"),
                "",
            ]
            if "tables" in result
            else []
        ),
        "A stage whose quiet ÷ full is near 1 costs a quiet night as much as a full rebuild: a fixed cost.",
        "",
        "| stage | quiet night | full rebuild | quiet ÷ full |" + (" no new files |" if n0 else ""),
        "| --- | ---: | ---: | ---: |" + (" ---: |" if n0 else ""),
    ]
    full_stages = {s["label"]: s for s in f["stages"]["stages"]}
    floor_stages = {s["label"]: s for s in n0["stages"]["stages"]} if n0 else {}

    def share(quiet, full) -> str:
        return f"{quiet / full:.2f}" if quiet is not None and full else ""

    def floor(seconds) -> str:
        return f" {benchlib.fmt_seconds(seconds)} |" if n0 else ""

    for s in q["stages"]["stages"]:
        other = full_stages.get(s["label"], {})
        lines.append(
            f"| {s['label']} | {benchlib.fmt_seconds(s.get('seconds'))} | "
            f"{benchlib.fmt_seconds(other.get('seconds'))} | {share(s.get('seconds'), other.get('seconds'))} |"
            f"{floor(floor_stages.get(s['label'], {}).get('seconds'))}"
        )
    checks_q, checks_f = q["stages"]["checks"]["seconds"], f["stages"]["checks"]["seconds"]
    lines.append(
        f"| asset checks ({q['stages']['checks']['steps']} steps, summed) | "
        f"{benchlib.fmt_seconds(checks_q)} | {benchlib.fmt_seconds(checks_f)} | {share(checks_q, checks_f)} |"
        f"{floor(n0['stages']['checks']['seconds'] if n0 else None)}"
    )
    if all("cpu_seconds" in s for n in (q, f) for s in n["stages"]["stages"]):
        # CPU seconds per stage: on a shared machine the wall times above move with the load
        full_cpu = {s["label"]: s.get("cpu_seconds") for s in f["stages"]["stages"]}
        floor_cpu = {s["label"]: s.get("cpu_seconds") for s in n0["stages"]["stages"]} if n0 else {}
        lines += [
            "",
            "| stage (CPU s) | quiet night | full rebuild | quiet ÷ full |" + (" no new files |" if n0 else ""),
            "| --- | ---: | ---: | ---: |" + (" ---: |" if n0 else ""),
        ]
        for s in q["stages"]["stages"]:
            other = full_cpu.get(s["label"])
            lines.append(
                f"| {s['label']} | {s['cpu_seconds']:.2f} | {'' if other is None else f'{other:.2f}'} | "
                f"{share(s['cpu_seconds'], other)} |" + (f" {floor_cpu.get(s['label'], 0):.2f} |" if n0 else "")
            )
        checks_q, checks_f = q["stages"]["checks"]["cpu_seconds"], f["stages"]["checks"]["cpu_seconds"]
        lines.append(
            f"| asset checks ({q['stages']['checks']['steps']} steps, summed) | {checks_q:.2f} | {checks_f:.2f} | "
            f"{share(checks_q, checks_f)} |" + (f" {n0['stages']['checks']['cpu_seconds']:.2f} |" if n0 else "")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=10_000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", default=str(REPO_ROOT / "benchmarks" / "results"))
    p.add_argument("--workdir", default=None, help="where the temporary folder goes")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    p.add_argument(
        "--sample",
        default=None,
        help="play this landing folder (from `cdp sample --out DIR` with the same --customers, --days "
        "and --seed) instead of generating one; its files are hard-linked, never written",
    )
    p.add_argument(
        "--states",
        action="store_true",
        help="copy the build database after the base and the quiet night to WORK/states/{base,quiet}.duckdb "
        "(the inputs of identity_quiet.py)",
    )
    args = p.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix=f"cdp_incr_{args.customers}_", dir=args.workdir))
    (work / "logs").mkdir()
    env = bench_env(work)
    everything, landing = work / "all_landing", work / "data" / "landing"
    cdp = _bin("cdp")
    result: dict = {
        "params": vars(args) | {"out": None},
        "machine": machine_info(),
        "code": code_revision(),
        "workdir": str(work),
    }
    try:
        if args.sample:
            everything = Path(args.sample)
        else:
            log(f"generating {args.customers:,} customers × {args.days} days …")
            benchlib.run_measured(
                [
                    cdp,
                    "sample",
                    "--customers",
                    str(args.customers),
                    "--days",
                    str(args.days),
                    "--seed",
                    str(args.seed),
                    "--out",
                    str(everything),
                    "--truth",
                    str(work / "truth.csv"),
                ],
                env=env,
                cwd=REPO_ROOT,
                log_file=work / "logs" / "sample.log",
            )
        days = sorted({d.name for d in everything.glob("*/*") if d.is_dir()})
        lay_days(everything, landing, days[:-1])
        build = work / "data" / "warehouse" / "build" / "cdp_build.duckdb"
        if args.states:
            (work / "states").mkdir()
        result["base"] = night("base", [cdp, "run"], env, work)
        if args.states:
            shutil.copy(build, work / "states" / "base.duckdb")
        warehouse = work / "data" / "warehouse" / "cdp.duckdb"
        before = identity_run_rows(warehouse)[-1]
        lay_days(everything, landing, days[-1:])
        result["quiet"] = night("quiet", [cdp, "run"], env, work)
        if args.states:
            shutil.copy(build, work / "states" / "quiet.duckdb")
        quiet_row = identity_run_rows(warehouse)[-1]
        # The quiet night must publish what a full rebuild of the same input publishes: every
        # table's rows and content hash (table_hashes.py), compared after the full rebuild.
        quiet_tables = published_hashes(warehouse)
        result["full_refresh"] = night("full_refresh", [cdp, "run", "--full-refresh"], env, work)
        full_row = identity_run_rows(warehouse)[-1]
        result["tables"] = compare_tables(quiet_tables, published_hashes(warehouse))
        log(f"tables equal to the full rebuild's: {result['tables']['equal']} of {result['tables']['tables']}")
        result["no_new_files"] = night("no_new_files", [cdp, "run"], env, work)
        result["identity"] = {
            "records": quiet_row["records"],
            "new_records": quiet_row["records"] - before["records"],
            "new_share": (quiet_row["records"] - before["records"]) / quiet_row["records"],
            "records_rescored": quiet_row["records_rescored"],
            "rescored_share": quiet_row["records_rescored"] / max(full_row["records_rescored"], 1),
            "quiet_run": quiet_row,
            "full_refresh_run": full_row,
        }
        result["ratio_wall"] = result["quiet"]["wall_seconds"] / result["full_refresh"]["wall_seconds"]
        result["ratio_cpu"] = result["quiet"]["cpu_seconds"] / result["full_refresh"]["cpu_seconds"]
        result["floor_ratio_wall"] = result["no_new_files"]["wall_seconds"] / result["full_refresh"]["wall_seconds"]
    finally:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"incremental_{args.customers}.json").write_text(json.dumps(result, indent=2, default=str))
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
