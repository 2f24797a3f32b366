"""One night at a time per build database, and no run left half-alive by a crash.

A `cdp run` holds an exclusive lock on ``<build_db>.lock`` for its whole life. Holding it
means no other `cdp run` on that database is alive, so any run the Dagster instance still
shows in progress for it was killed (SIGKILL, power cut): it is marked failed and the
`duckdb` pool slot it held is freed, or the next night would wait for that slot forever.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from cdp_pipeline.lib.common.warehouse import pid_alive

LAUNCHED_BY = "cdp/launched_by"
BUILD_DB_TAG = "cdp/build_db"
PID_TAG = "cdp/pid"


class NightAlreadyRunning(RuntimeError):
    pass


@contextmanager
def exclusive_night(build_db: Path):
    """Hold the build database's run lock; NightAlreadyRunning if another run holds it."""
    path = Path(str(build_db) + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise NightAlreadyRunning(f"another cdp run is working on {build_db}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_tags(build_db: Path) -> dict[str, str]:
    """Tags that let a later run recognise this one if it dies."""
    return {LAUNCHED_BY: "cli", BUILD_DB_TAG: str(build_db), PID_TAG: str(os.getpid())}


def release_dead_runs(instance, build_db: Path) -> list[str]:
    """Mark this database's killed cli runs failed and free their pool slots; their run ids.

    Call only while holding ``exclusive_night(build_db)``.
    """
    import dagster as dg

    in_progress = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    runs = instance.get_runs(
        filters=dg.RunsFilter(statuses=in_progress, tags={LAUNCHED_BY: "cli", BUILD_DB_TAG: str(build_db)})
    )
    released = []
    for run in runs:
        if run.parent_run_id:
            # A re-execution from the UI copies a cli run's tags, but a run worker executes it
            # (watched by run monitoring): not this lock's business.
            continue
        pid = run.tags.get(PID_TAG, "")
        if pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid)):
            continue  # cannot happen while we hold the lock, unless the pid was reused
        instance.report_run_failed(
            run, message="the process running it died (killed or crashed); released by the next cdp run"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released
