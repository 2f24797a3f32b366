"""Not a timing: a model of a night's wall time on an idle 2-core machine when the steps run as
defs/executor.py schedules them, from a serial night's per-step figures.

    python benchmarks/night_schedule_model.py NIGHT.json DAGSTER_HOME [--max-concurrent 2]
        [--split-off NEW FROM CPU_S AFTER]

NIGHT.json is a serial night's ``run_benchmark.py`` result (each asset step's wall and CPU);
DAGSTER_HOME that night's kept home (every step's wall, check steps included, from its event
log: ``step_overlap.py``). A check step's CPU is its wall times the checks' summed CPU/wall. The
steps' dependencies are the nightly job's plan (this tree's definitions), the lanes and the
start order ``defs/executor.py``'s. A step alone uses its CPU/wall cores; steps together share
two cores in proportion when they ask for more (processor sharing). Not modelled: the GIL (two
steps' Python at once), DuckDB's threads beyond the two cores, caches: the model's gain is an
upper bound of what the executor can give.

``--split-off NEW FROM CPU_S AFTER`` (repeatable) models a step that does not exist yet before
it is built: NEW takes CPU_S CPU seconds of step FROM (at FROM's cores, so FROM's wall shrinks
by CPU_S / its cores), runs once the steps AFTER (comma-separated step keys) are done, before
FROM, beside any named step (``FREE``); the night is modelled with and without it.
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.step_overlap import step_windows

CORES = 2.0


def plan_deps() -> dict[str, set[str]]:
    from dagster._core.execution.api import create_execution_plan

    from cdp_pipeline.definitions import defs

    plan = create_execution_plan(defs().resolve_job_def("nightly"))
    return {
        s.key: {h.step_key for inp in s.step_inputs for h in inp.get_step_output_handle_dependencies()}
        for s in plan.get_steps_to_execute_in_topo_order()
    }


def simulate(steps, deps, order, max_concurrent, policy, first) -> tuple[float, list]:
    """steps: key -> (wall alone, cores alone). Returns the night's modelled wall and the schedule."""
    from cdp_pipeline.defs.executor import may_start

    left = {k: w for k, (w, _) in steps.items()}
    done: set[str] = set()
    running: dict[str, float] = {}  # key -> start time
    schedule, t = [], 0.0
    rank = {k: (first.index(k) - len(first) if k in first else 0, order.index(k)) for k in steps}
    held = None
    while len(done) < len(steps):
        ready = sorted(
            (k for k in steps if k not in done and k not in running and k != held and deps.get(k, set()) <= done),
            key=rank.get,
        )
        if held is not None and may_start(held, list(running), policy):
            running[held], held = t, None
        while held is None and ready and len(running) < max_concurrent:
            if running and any(policy.get(k) is None for k in running):
                break
            k = ready.pop(0)
            if may_start(k, list(running), policy):
                running[k] = t
            else:
                held = k
        demand = sum(steps[k][1] for k in running)
        speed = 1.0 if demand <= CORES else CORES / demand
        k_next = min(running, key=lambda k: left[k])
        dt = left[k_next] / speed
        for k in running:
            left[k] -= dt * speed
        t += dt
        for k in [k for k in running if left[k] <= 1e-9]:
            schedule.append((k, running.pop(k), t))
            done.add(k)
    return t, schedule


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("night_json")
    p.add_argument("dagster_home")
    p.add_argument("--max-concurrent", type=int, default=2)
    p.add_argument("--split-off", nargs=4, action="append", default=[], metavar=("NEW", "FROM", "CPU_S", "AFTER"))
    a = p.parse_args(argv)
    from cdp_pipeline.defs.executor import FIRST, FREE, STEP_POLICY

    stages = json.load(open(a.night_json))["stages"]
    cpu = {s["step"]: s["cpu_seconds"] for s in stages["stages"] if s.get("cpu_seconds")}
    checks = stages.get("checks") or {}
    windows, run_start, run_end = step_windows(a.dagster_home)
    walls = {k: e - s for k, (s, e) in windows.items()}
    check_walls = sum(w for k, w in walls.items() if k not in cpu)
    check_rate = (checks.get("cpu_seconds") or check_walls) / check_walls if check_walls else 1.0
    deps = plan_deps()
    steps = {
        k: (max(w, 1e-3), min(CORES, (cpu[k] if k in cpu else w * check_rate) / max(w, 1e-3)))
        for k, w in walls.items()
        if k in deps
    }
    # a step of this tree's plan the night did not run (new since) is left out, as if it took no time
    missing = sorted(set(deps) - set(steps))
    if missing:
        print(f"not in the night, left out: {', '.join(missing)}")
    deps = {k: v & set(steps) for k, v in deps.items()}
    order = [k for k, _ in sorted(windows.items(), key=lambda kv: kv[1][0]) if k in steps]
    serial, _ = simulate(steps, deps, order, 1, {}, ())
    wall, schedule = simulate(steps, deps, order, a.max_concurrent, STEP_POLICY, FIRST)
    print(f"steps' walls summed {sum(w for w, _ in steps.values()):.1f} s (model, one at a time: {serial:.1f} s)")
    print(f"modelled with the executor: {wall:.1f} s ({serial - wall:.1f} s less)")
    for k, s, e in sorted(schedule, key=lambda x: x[1]):
        print(f"{s:7.2f} {e - s:6.2f}  {k}")
    if a.split_off:
        steps, deps, order, policy = split_off(steps, deps, order, STEP_POLICY, FREE, a.split_off)
        split, schedule = simulate(steps, deps, order, a.max_concurrent, policy, FIRST)
        names = ", ".join(new for new, *_ in a.split_off)
        print(f"modelled with {names} split off: {split:.1f} s ({wall - split:.2f} s less than the executor's)")
        for k, s, e in sorted(schedule, key=lambda x: x[1]):
            print(f"{s:7.2f} {e - s:6.2f}  {k}")
    return 0


def split_off(steps, deps, order, policy, lane, splits):
    """The night with each (NEW, FROM, CPU_S, AFTER) of ``splits`` as a step of its own (module docstring)."""
    steps, deps, policy = dict(steps), {k: set(v) for k, v in deps.items()}, dict(policy)
    for new, source, cpu_s, after in splits:
        wall, cores = steps[source]
        moved = float(cpu_s) / cores
        if not 0 < moved < wall:
            raise SystemExit(f"--split-off {new}: {cpu_s} CPU s is not a part of {source}'s {wall * cores:.1f}")
        unknown = sorted(set(after.split(",")) - set(steps))
        if unknown:
            raise SystemExit(f"--split-off {new}: not steps of the night: {', '.join(unknown)}")
        steps[source] = (wall - moved, cores)
        steps[new] = (moved, cores)
        deps[new] = set(after.split(","))
        deps[source].add(new)
        policy[new] = lane
        order = [*order, new]
    return steps, deps, order, policy


if __name__ == "__main__":
    sys.exit(main())
