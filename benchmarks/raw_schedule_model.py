"""A model of the raw step's schedule on an idle machine: how long the one-step load of a landing
takes on CORES cores when its writer and its parse workers share them, for the parse pool's
hand-out rules (docs/performance.md, "The raw layer on two cores").

    python benchmarks/raw_schedule_model.py LANDING COSTS.json [--measure] [--worker-cpu 9.3]
        [--writer crm=0.85,esp=1.2,pos=1.95,sms=0.6,web=2.3]

``--measure`` first writes COSTS.json: every file of the landing read and parsed as a worker does
(``read_and_parse`` and pickling the reply, one process, the workers' environment), its CPU
seconds. The model then runs the files through processor sharing (each runnable process gets
min(1, cores x its weight / all weights) of a core, 0.5 ms steps): the workers start (``--boot``
CPU s each), take the files handed out in order, the writer takes them in order and spends, per
file, ``--per-file`` CPU s and, at each source's end, that source's ``--writer`` CPU s (GA4's
spread over its written files by bytes, as they are written one by one) plus ``--per-source``
for the step's report. The workers' costs are scaled to ``--worker-cpu`` in all (a loaded
machine's CPU seconds run high). Printed per rule: wall, CPU, idle core-seconds, the writer's wait.
Wall time on a shared machine says little about an idle one; this is what the model is for.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import sys
import time
from pathlib import Path

SOURCES = ["crm", "esp", "pos", "sms", "web"]
MB = 1 << 20


def measure(landing: Path, out: Path) -> None:
    """Each file's worker CPU seconds, in load order: [(rel_path, bytes, cpu, counted only)]."""
    from cdp_pipeline.lib.raw.files import discover_files
    from cdp_pipeline.lib.raw.held_deliveries import likely_unwritten
    from cdp_pipeline.lib.raw.load import _PendingWrites
    from cdp_pipeline.lib.raw.parse_pool import read_and_parse

    days = sorted({p.name for s in SOURCES for p in (landing / s).iterdir()})
    files = [lf for s in SOURCES for d in days for lf in discover_files(landing, s, dt.date.fromisoformat(d))]
    counted = likely_unwritten(files, _PendingWrites.MAX_HELD_WEB_BYTES)
    rows = []
    for lf in files:
        start = time.process_time()
        read = read_and_parse(lf, frozenset(), lf.rel_path in counted)
        pickle.dumps(("ok", read), protocol=pickle.HIGHEST_PROTOCOL)
        rows.append((lf.rel_path, lf.bytes, time.process_time() - start, lf.rel_path in counted))
    out.write_text(json.dumps(rows))


def simulate(
    costs,
    writer: dict[str, float],
    *,
    slots: bool,
    window_mb: float,
    counted_weightless: bool,
    worker_cpu: float,
    workers: int = 2,
    cores: int = 2,
    boot: float = 0.35,
    per_file: float = 0.002,
    per_source: float = 0.1,
    max_ahead_mb: float = 1024,
    worker_weight: float = 1.0,
    step: float = 0.0005,
):
    """(wall, CPU, idle core-seconds, writer waiting) of one load under the given rules."""
    scale = worker_cpu / sum(c for _, _, c, _ in costs)
    files = [(path.split("/")[0], size, cpu * scale, counted) for path, size, cpu, counted in costs]
    web_bytes = sum(size for s, size, _, counted in files if s == "web" and not counted) or 1
    write = []
    for i, (source, size, _, counted) in enumerate(files):
        w = per_file + (writer["web"] * size / web_bytes if source == "web" and not counted else 0.0)
        if i == len(files) - 1 or files[i + 1][0] != source:
            w += per_source + (writer[source] if source != "web" else 0.0)
        write.append(w)
    n = len(files)

    def held(j: int) -> float:
        return 0.0 if counted_weightless and files[j][3] else files[j][1] / MB

    ahead: list[int] = []
    queue: list[int] = []
    handed = 0

    def hand_out() -> None:
        nonlocal handed
        while handed < n:
            if ahead:
                after = sum(files[j][1] for j in ahead) / MB + files[handed][1] / MB
                window = sum(held(j) for j in ahead) + held(handed)
                if after > max_ahead_mb or (len(ahead) >= workers + 1 and window > window_mb):
                    return
            ahead.append(handed)
            queue.append(handed)
            handed += 1

    left = [f[2] for f in files]
    done = [False] * n
    boots = [boot] * workers
    parsing: list[int | None] = [None] * workers
    w_phase, w_left, w_i = "work", 0.1, -1  # the step's own start, then take file 0
    t = idle = waiting = 0.0
    hand_out()
    while w_phase != "done" or any(p is not None for p in parsing):
        load_waits = w_phase == "take" and not done[w_i]
        limit = workers if (not slots or load_waits) else max(1, workers - 1)
        running = sum(p is not None for p in parsing)
        for k in range(workers):
            if boots[k] <= 0 and parsing[k] is None and queue and running < limit:
                parsing[k] = queue.pop(0)
                running += 1
        weights = {"writer": 1.0} if w_phase == "work" else {}
        weights.update({k: worker_weight for k in range(workers) if boots[k] > 0 or parsing[k] is not None})
        rates, cap, rest = {}, float(cores), dict(weights)
        while rest:  # water-filling: no process runs faster than one core
            total = sum(rest.values())
            full = [k for k, v in rest.items() if cap * v / total > 1]
            if not full:
                rates.update({k: cap * v / total for k, v in rest.items()})
                break
            for k in full:
                rates[k] = 1.0
                cap -= 1
                del rest[k]
        idle += (cores - sum(rates.values())) * step
        waiting += step if load_waits else 0.0
        for k in range(workers):
            if boots[k] > 0:
                boots[k] -= rates.get(k, 0.0) * step
            elif parsing[k] is not None:
                left[parsing[k]] -= rates.get(k, 0.0) * step
                if left[parsing[k]] <= 0:
                    done[parsing[k]] = True
                    parsing[k] = None
        if w_phase == "work":
            w_left -= rates["writer"] * step
            if w_left <= 0:
                w_i += 1
                w_phase = "done" if w_i >= n else "take"
        if w_phase == "take" and done[w_i]:
            ahead.remove(w_i)
            hand_out()
            w_phase, w_left = "work", write[w_i]
        t += step
    cpu = worker_cpu + workers * boot + sum(write) + 0.1
    return t, cpu, idle, waiting


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("landing", type=Path)
    ap.add_argument("costs", type=Path)
    ap.add_argument("--measure", action="store_true", help="measure the files' worker CPU into COSTS first")
    ap.add_argument("--worker-cpu", type=float, default=9.3, help="the workers' CPU s in all (scaled to)")
    ap.add_argument("--writer", default="crm=0.85,esp=1.2,pos=1.95,sms=0.6,web=2.3", help="writer CPU s per source")
    ap.add_argument("--boot", type=float, default=0.35)
    ap.add_argument("--per-file", type=float, default=0.002)
    ap.add_argument("--per-source", type=float, default=0.1)
    args = ap.parse_args()
    if args.measure:
        if os.environ.get("ARROW_DEFAULT_MEMORY_POOL") != "system":  # as a worker runs
            from cdp_pipeline.lib.raw.parse_pool import _worker_env

            os.execve(sys.executable, [sys.executable, *sys.argv], _worker_env())
        measure(args.landing, args.costs)
    costs = json.loads(args.costs.read_text())
    writer = {k: float(v) for k, v in (kv.split("=") for kv in args.writer.split(","))}
    common = {
        "worker_cpu": args.worker_cpu,
        "boot": args.boot,
        "per_file": args.per_file,
        "per_source": args.per_source,
    }
    rules = [
        ("every worker always, 256 MB (main 8d2e6a6)", dict(slots=False, window_mb=256, counted_weightless=False)),
        ("every worker always, 512 MB", dict(slots=False, window_mb=512, counted_weightless=False)),
        ("workers at weight 0.5 (nice 3), 256 MB", dict(slots=False, window_mb=256, counted_weightless=False,
                                                        worker_weight=0.5)),
        ("one worker fewer while writing, 256 MB", dict(slots=True, window_mb=256, counted_weightless=False)),
        ("  + counted files weightless", dict(slots=True, window_mb=256, counted_weightless=True)),
        ("  + 384 MB (s36-raw)", dict(slots=True, window_mb=384, counted_weightless=True)),
    ]  # fmt: skip
    for name, rule in rules:
        wall, cpu, idle, waiting = simulate(costs, writer, **rule, **common)
        print(f"{name}: wall {wall:.2f} s, CPU {cpu:.2f} s (floor {cpu / 2:.2f}), idle {idle:.2f} core-s, "
              f"writer waiting {waiting:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
