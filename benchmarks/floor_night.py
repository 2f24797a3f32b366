"""A night with no new files, code versions alternated: `cdp run` on fresh copies of one kept state.

    .venv/bin/python benchmarks/floor_night.py KEPT_WORK --tree base=/path/to/main --tree new=. \
        [--rounds 2] [--out DIR] [--workdir DIR]

``KEPT_WORK``: a work folder ``incremental_night.py --keep`` left (its ``data/`` and
``dagster_home/`` after the last night). Each round copies it once per tree, in the order given
(base, new, base, new, …): the landing folder hard-linked (never written), everything else
copied. Then `cdp run` with ``PYTHONPATH=<tree>`` (a night that finds no new file: the floor any
night costs), timed as ``incremental_night.py`` times a night (process-tree CPU, attributed to
steps by the run's events). Prints and writes (``<out>/floor_nights.json``) each night's wall,
CPU, peak RSS, load average at its start, CPU by layer and by step, and which published tables
differ between the trees' first nights (``table_hashes.py``, run-time columns left out). Run both trees' nights in the same minutes: on a shared machine only
the CPU seconds compare.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from run_benchmark import _bin, bench_env, log, read_run_events  # noqa: E402
from table_hashes import table_hashes  # noqa: E402


def copy_state(kept: Path, to: Path) -> None:
    """``kept``'s data folder and Dagster home under ``to``: the landing hard-linked, the rest copied."""
    landing = kept / "data" / "landing"
    shutil.copytree(kept / "dagster_home", to / "dagster_home", symlinks=True)
    shutil.copytree(
        kept / "data",
        to / "data",
        symlinks=True,
        ignore=lambda d, names: ["landing"] if Path(d) == kept / "data" else [],
    )
    shutil.copytree(landing, to / "data" / "landing", copy_function=os.link)


def layer_cpu(stages: dict) -> dict[str, float]:
    """CPU seconds by layer (the asset steps, their check steps together under ``checks``)."""
    out: dict[str, float] = {}
    for s in stages["stages"]:
        out[s["layer"]] = round(out.get(s["layer"], 0.0) + (s["cpu_seconds"] or 0.0), 3)
    out["checks"] = stages["checks"]["cpu_seconds"] or 0.0
    return out


def floor_night(kept: Path, name: str, tree: Path, work: Path) -> dict:
    copy_state(kept, work)
    env = bench_env(work)
    env["PYTHONPATH"] = str(tree)
    load = os.getloadavg()[0]
    log(f"{name}: cdp run (PYTHONPATH={tree}, load {load:.1f}) …")
    m = benchlib.run_measured([_bin("cdp"), "run"], env=env, cwd=tree, log_file=work / "run.log")
    if m.returncode != 0:
        raise RuntimeError(f"{name} failed; see {work / 'run.log'}")
    _, events, _, run_seconds = read_run_events(work / "dagster_home")
    stages = benchlib.stage_times(benchlib.steps_from_events(events), run_seconds, m.cpu_series)
    log(f"{name}: {m.wall_seconds:.1f} s, CPU {m.cpu_seconds:.1f} s")
    return {
        "tree": name,
        "wall_seconds": round(m.wall_seconds, 2),
        "cpu_seconds": round(m.cpu_seconds, 2),
        "peak_rss_bytes": m.peak_tree_rss_bytes,
        "load_at_start": round(load, 1),
        "cpu_by_layer": layer_cpu(stages),
        "steps": {s["label"]: s["cpu_seconds"] for s in stages["stages"]},
        # the published tables (run-time columns left out), to compare the trees' outputs
        "tables": {
            n: [rows, str(h)] for n, rows, h, _ in table_hashes(str(work / "data" / "warehouse" / "cdp.duckdb"))
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kept", type=Path, help="a work folder incremental_night.py --keep left")
    p.add_argument("--tree", action="append", required=True, help="NAME=PATH of a checkout, in run order")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    p.add_argument("--workdir", type=Path, default=None)
    args = p.parse_args(argv)
    trees = [(t.split("=", 1)[0], Path(t.split("=", 1)[1]).resolve()) for t in args.tree]
    nights = []
    root = Path(tempfile.mkdtemp(prefix="cdp_floor_", dir=args.workdir))
    try:
        for r in range(args.rounds):
            for name, tree in trees:
                work = root / f"{r}_{name}"
                nights.append({"round": r, **floor_night(args.kept.resolve(), name, tree, work)})
                shutil.rmtree(work)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "floor_nights.json").write_text(json.dumps(nights, indent=1))
    first: dict[str, dict] = {}
    for n in nights:
        first.setdefault(n["tree"], n["tables"])
    names = list(first)
    for other in names[1:]:
        a, b = first[names[0]], first[other]
        differ = sorted(t for t in set(a) | set(b) if a.get(t) != b.get(t))
        print(
            f"published tables, {names[0]} against {other}: {len(a) - len(differ)} of {len(a)} equal; differ: {differ}"
        )
    layers = sorted({k for n in nights for k in n["cpu_by_layer"]})
    print("| round | tree | wall s | CPU s | load | " + " | ".join(layers) + " |")
    print("| ---: | --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in layers) + " |")
    for n in nights:
        cells = " | ".join(f"{n['cpu_by_layer'].get(k, 0.0):.2f}" for k in layers)
        print(
            f"| {n['round']} | {n['tree']} | {n['wall_seconds']:.1f} | {n['cpu_seconds']:.2f} | {n['load_at_start']} | {cells} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
