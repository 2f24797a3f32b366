"""One writer of the build database: the lock every run takes through the build database resource
(lib/common/run_lock.py), not Dagster pools; every job's steps in one process."""

import subprocess
import sys

import dagster as dg

from cdp_pipeline.defs.resources import BuildDatabase
from cdp_pipeline.lib.common.run_lock import exclusive_night


def _probe(build) -> subprocess.CompletedProcess:
    """Another process trying to start a night on ``build``."""
    code = f"from cdp_pipeline.lib.common.run_lock import exclusive_night\nwith exclusive_night({str(build)!r}): pass"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_no_asset_or_check_takes_a_pool_and_every_job_runs_in_one_process():
    from cdp_pipeline.definitions import defs

    repository = defs().get_repository_def()
    pooled = [
        node.name for job in repository.get_all_jobs() for node in job.graph.node_defs if getattr(node, "pool", None)
    ]
    assert pooled == []
    assert {job.name: job.executor_def.name for job in repository.get_all_jobs()} == {
        "__ASSET_JOB": "cdp_threaded",
        "nightly": "cdp_threaded",
    }


def test_a_run_holds_the_build_database_lock_from_start_to_end(tmp_path):
    build = tmp_path / "build.duckdb"
    seen = {}

    @dg.asset
    def probe(duckdb: BuildDatabase) -> None:
        with duckdb.get_connection() as con:
            con.execute("CREATE TABLE t AS SELECT 1 AS x")
        seen["during"] = _probe(build)

    with dg.instance_for_test() as instance:
        result = dg.materialize([probe], resources={"duckdb": BuildDatabase(database=str(build))}, instance=instance)
    assert result.success
    assert seen["during"].returncode != 0
    assert f"another night is working on {build} (Dagster run {result.run_id[:8]}" in seen["during"].stderr
    assert _probe(build).returncode == 0  # released when the run ended
    with exclusive_night(build):  # and free in this process too
        pass
