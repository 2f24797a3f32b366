"""One night at a time per build database; a killed night never blocks the next."""

import subprocess
import sys
import textwrap
import threading

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from cdp_pipeline.lib.common.run_lock import NightAlreadyRunning, exclusive_night, release_dead_runs, run_tags


def _hold_in_another_process(build) -> subprocess.Popen:
    """A process holding the build database's lock as `cdp run` does, until its stdin closes."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys
        from cdp_pipeline.lib.common.run_lock import exclusive_night
        with exclusive_night({str(build)!r}, holder="cdp run"):
            print("held", flush=True)
            sys.stdin.readline()
    """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_process_cannot_start_a_night_on_the_same_build_database(tmp_path):
    build = tmp_path / "build.duckdb"
    holder = _hold_in_another_process(build)
    try:
        with pytest.raises(
            NightAlreadyRunning, match=rf"another night is working on .*build.duckdb \(cdp run, process {holder.pid}\)"
        ):
            with exclusive_night(build):
                pass
        with exclusive_night(tmp_path / "other.duckdb"):  # another build database: its own lock
            pass
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    with exclusive_night(build):  # released when the holder ended
        pass


def test_a_killed_holder_releases_the_lock(tmp_path):
    build = tmp_path / "build.duckdb"
    holder = _hold_in_another_process(build)
    holder.kill()  # SIGKILL: no clean-up code runs
    holder.wait(timeout=30)
    with exclusive_night(build):
        pass


def test_a_waiting_writer_is_told_whom_it_waits_for_and_goes_on_when_the_holder_ends(tmp_path):
    build = tmp_path / "build.duckdb"
    holder = _hold_in_another_process(build)
    told, acquired = [], threading.Event()
    waiting = threading.Event()

    def writer():
        with exclusive_night(
            build, holder="Dagster run abc", wait=True, on_wait=lambda m: (told.append(m), waiting.set())
        ):
            acquired.set()

    thread = threading.Thread(target=writer)
    try:
        thread.start()
        assert waiting.wait(timeout=60)
        assert not acquired.is_set()  # told it waits, and waiting
        assert told == [f"waiting: another night is working on {build} (cdp run, process {holder.pid})"]
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    thread.join(timeout=60)
    assert acquired.is_set()


def test_the_lock_is_reentrant_within_a_process_and_released_by_the_outermost_holder(tmp_path):
    """`cdp run` holds it, then the run it executes in the same process takes it again."""
    build = tmp_path / "build.duckdb"
    with exclusive_night(build):
        with exclusive_night(build, holder="Dagster run abc", wait=True):
            pass
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from cdp_pipeline.lib.common.run_lock import exclusive_night\nwith exclusive_night({str(build)!r}): pass",
            ],
            capture_output=True,
            text=True,
        )
        assert "NightAlreadyRunning" in probe.stderr  # still held after the inner exit
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from cdp_pipeline.lib.common.run_lock import exclusive_night\nwith exclusive_night({str(build)!r}): pass",
        ],
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, probe.stderr


def test_killed_cli_runs_are_marked_failed(tmp_path):
    build = tmp_path / "build.duckdb"
    dead = subprocess.Popen(["true"])
    dead.wait()
    with dg.instance_for_test() as instance:
        killed = create_run_for_test(
            instance,
            job_name="nightly",
            status=dg.DagsterRunStatus.STARTED,
            tags={**run_tags(build), "cdp/pid": str(dead.pid)},
        )
        other_db = create_run_for_test(
            instance,
            job_name="nightly",
            status=dg.DagsterRunStatus.STARTED,
            tags={**run_tags(tmp_path / "other.duckdb"), "cdp/pid": str(dead.pid)},
        )
        # "Re-execute" in the UI copies the cli run's tags; the UI's run worker is alive and runs it.
        reexecuted = create_run_for_test(
            instance,
            job_name="nightly",
            status=dg.DagsterRunStatus.STARTED,
            tags={**run_tags(build), "cdp/pid": str(dead.pid)},
            parent_run_id=killed.run_id,
            root_run_id=killed.run_id,
        )
        with exclusive_night(build):
            released = release_dead_runs(instance, build)

        assert released == [killed.run_id]
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(other_db.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(reexecuted.run_id).status == dg.DagsterRunStatus.STARTED
