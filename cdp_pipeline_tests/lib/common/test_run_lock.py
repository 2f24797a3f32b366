"""One night at a time per build database; a killed night never blocks the next."""

import subprocess
import sys
import textwrap

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from cdp_pipeline.lib.common.run_lock import NightAlreadyRunning, exclusive_night, release_dead_runs, run_tags


def test_a_second_process_cannot_start_a_night_on_the_same_build_database(tmp_path):
    build = tmp_path / "build.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys
        from cdp_pipeline.lib.common.run_lock import exclusive_night
        with exclusive_night({str(build)!r}):
            print("held", flush=True)
            sys.stdin.readline()
    """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(NightAlreadyRunning):
            with exclusive_night(build):
                pass
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    with exclusive_night(build):  # released when the holder ended
        pass


def test_killed_runs_are_marked_failed_and_their_pool_slot_freed(tmp_path):
    build = tmp_path / "build.duckdb"
    dead = subprocess.Popen(["true"])
    dead.wait()
    with dg.instance_for_test() as instance:
        instance.event_log_storage.set_concurrency_slots("duckdb", 1)
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
        claim = instance.event_log_storage.claim_concurrency_slot("duckdb", killed.run_id, "raw__crm")
        assert claim.is_claimed

        with exclusive_night(build):
            released = release_dead_runs(instance, build)

        assert released == [killed.run_id]
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(other_db.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(reexecuted.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.event_log_storage.get_concurrency_info("duckdb").claimed_slots == []
