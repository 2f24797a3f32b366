"""Time what `cdp run` spends outside its steps on its code: importing the CLI and Dagster, loading
the nightly job as the UI's code location loads it (``launch.load_job``), and starting the run
(``launch.execute_job_run`` with Dagster's ``execute_run`` reduced to what it does before the first
step: the job's definition rebuilt from its code pointer), in a throwaway Dagster instance.

    CDP_DATA_DIR=<a data folder> PYTHONPATH=<tree> python benchmarks/load_definitions.py

Run it alternately with two trees' PYTHONPATH (one process each: the imports are part of the
figure). Prints wall and CPU seconds of each part, and how many times the definitions were built.
Python compiles a module without a current .pyc on every import when PYTHONDONTWRITEBYTECODE is set
(and the tree has none): compare trees in the same state (``python -m compileall -q cdp_pipeline``).
"""

from __future__ import annotations

import os
import time


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def main() -> int:
    wall, cpu = time.perf_counter(), _cpu()
    import dagster as dg

    from cdp_pipeline import cli  # noqa: F401  (what `cdp run` imports first)
    from cdp_pipeline.launch import execute_job_run, load_job

    parts = [("import dagster, cdp_pipeline.cli", time.perf_counter() - wall, _cpu() - cpu)]
    builds = []
    build = dg.load_from_defs_folder

    def counted(**kwargs):
        builds.append(1)
        return build(**kwargs)

    dg.load_from_defs_folder = counted
    wall, cpu = time.perf_counter(), _cpu()
    loaded = load_job("nightly")
    parts.append(("load_job('nightly')", time.perf_counter() - wall, _cpu() - cpu))

    import dagster._core.execution.api as api

    def start_only(recon_job, run, instance, raise_on_error):
        return recon_job.get_definition()

    api.execute_run = start_only
    with dg.instance_for_test() as instance:
        wall, cpu = time.perf_counter(), _cpu()
        execute_job_run(loaded, instance, tags={}, run_config={"loggers": {"progress": {}}})
        parts.append(("create the run, rebuild its job", time.perf_counter() - wall, _cpu() - cpu))
    for name, w, c in parts:
        print(f"{name:36s} {w:6.2f} s wall {c:6.2f} CPU s")
    print(
        f"{'total':36s} {sum(p[1] for p in parts):6.2f} s wall {sum(p[2] for p in parts):6.2f} CPU s; "
        f"definitions built {len(builds)} time(s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
