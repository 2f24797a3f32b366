"""The one single-writer mechanism: an exclusive lock on ``<build_db>.lock``.

Whatever starts a write of the build database holds this lock while it writes: every Dagster
run that opens it (the build database resource takes the lock when the run starts: scheduled,
sensor, UI launch, a re-execution of one asset), and `cdp run` and `cdp restore-previous`
before they touch anything. It is an ``flock`` of a file beside the database, so it covers
every process on the machine whatever Dagster instance launched it, and the kernel releases
it when its process dies: a killed night never blocks the next one.

Within one process the lock is reentrant (`cdp run` holds it and then executes the run, whose
resource takes it again): the steps of a run share one DuckDB database in one process.

``release_dead_runs`` is bookkeeping, not a lock: a `cdp run` killed mid-night stays "started"
in the Dagster instance; the next `cdp run` marks it failed so the UI and the run queue do not
count it as running.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cdp_pipeline.lib.common.warehouse import pid_alive

LAUNCHED_BY = "cdp/launched_by"
BUILD_DB_TAG = "cdp/build_db"
PID_TAG = "cdp/pid"


class NightAlreadyRunning(RuntimeError):
    pass


# This process's held locks: lock file -> [open handle, depth].
_held: dict[str, list] = {}
_guard = threading.Lock()


def lock_path(build_db: Path | str) -> Path:
    return Path(str(build_db) + ".lock")


def _holder(handle) -> str:
    handle.seek(0)
    return handle.read().strip() or "another process"


@contextmanager
def exclusive_night(
    build_db: Path | str,
    *,
    holder: str = "cdp run",
    wait: bool = False,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the build database's write lock. Busy: ``NightAlreadyRunning`` naming the holder,
    or, with ``wait``, wait for it (``on_wait`` is told whom it waits for). ``holder`` says who
    holds it, for the message another writer gets."""
    path = lock_path(build_db)
    key = str(path.resolve())
    with _guard:
        if key in _held:
            _held[key][1] += 1
            handle = None
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a+")
    if handle is not None:
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                busy = f"another night is working on {build_db} ({_holder(handle)})"
                if not wait:
                    raise NightAlreadyRunning(busy) from None
                if on_wait is not None:
                    on_wait(f"waiting: {busy}")
                fcntl.flock(handle, fcntl.LOCK_EX)
            handle.truncate(0)
            handle.write(f"{holder}, process {os.getpid()}\n")
            handle.flush()
        except BaseException:
            handle.close()
            raise
        with _guard:
            _held[key] = [handle, 1]
    try:
        yield
    finally:
        with _guard:
            _held[key][1] -= 1
            done = _held[key][1] == 0
            if done:
                handle = _held.pop(key)[0]
        if done:
            handle.truncate(0)
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


def run_tags(build_db: Path) -> dict[str, str]:
    """Tags that let a later run recognise this one if it dies."""
    return {LAUNCHED_BY: "cli", BUILD_DB_TAG: str(build_db), PID_TAG: str(os.getpid())}


def release_dead_runs(instance, build_db: Path) -> list[str]:
    """Mark this database's killed cli runs failed; their run ids.

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
        released.append(run.run_id)
    return released
