"""`cdp run`'s terminal: stage lines, phases of a long step, the asset-checks line, and no library chatter."""

import io
import logging

import dagster as dg

from cdp_pipeline.lib.common.progress import (
    PHASE_LOGGER,
    PROGRESS_LOGGER,
    PhaseHandler,
    ProgressHandler,
    StageTimer,
    report_phase,
)


def test_reported_phases_are_printed_under_their_step():
    out = io.StringIO()
    timer = StageTimer(labels={"identity_resolution": "identity: resolution"}, stream=out)
    handler = PhaseHandler(timer)
    logging.getLogger(PHASE_LOGGER).addHandler(handler)
    try:
        timer.on_event("STEP_START", "identity_resolution")
        for phase in ("prior", "u", "EM", "predict", "clustering"):
            report_phase("identity", phase)
        timer.on_event("STEP_SUCCESS", "identity_resolution")
    finally:
        logging.getLogger(PHASE_LOGGER).removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert lines[0] == "  ▶ identity: resolution …"
    assert lines[1:6] == [f"    · identity: {p}" for p in ("prior", "u", "EM", "predict", "clustering")]
    assert lines[6].startswith("  ✓ identity: resolution (")


def test_the_asset_checks_get_a_progress_line_at_the_end_of_the_run():
    out = io.StringIO()
    timer = StageTimer(labels={"a": "raw/a"}, stream=out)
    timer.on_event("STEP_START", "a_check")
    timer.on_event("ASSET_CHECK_EVALUATION", "a_check", "check raw/a:x passed", True)
    timer.on_event("ASSET_CHECK_EVALUATION", "a_check", "check raw/a:y FAILED (WARN)", False)
    timer.on_event("STEP_SUCCESS", "a_check")
    timer.on_event("PIPELINE_SUCCESS", None)
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("  ✗ asset checks: 1 of 2 passed (") and last.endswith(" s)")


@dg.asset
def _chatty_library(context: dg.AssetExecutionContext) -> None:
    logging.getLogger("splink.internals.em_sampling").warning(
        "[EM sampling] Probe returned zero blocked pairs; skipping sampling"
    )
    logging.getLogger("cdp_pipeline.lib.something").warning("a note of the pipeline's own")


def test_library_logs_go_to_the_run_log_not_the_terminal(cdp_env, capfd):
    """dagster.yaml manages the `splink` and `cdp_pipeline` loggers: their records are the run's
    logs, and a run with `cdp run`'s logger prints only progress lines."""
    from cdp_pipeline.defs.loggers import progress_logger

    job = dg.Definitions(
        assets=[_chatty_library], loggers={"progress": progress_logger}
    ).resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, run_config={"loggers": {"progress": {}}})
        messages = [e.user_message for e in instance.all_logs(result.run_id) if e.dagster_event is None]
    assert any("Probe returned zero blocked pairs" in m for m in messages)
    assert any("a note of the pipeline's own" in m for m in messages)
    captured = capfd.readouterr()
    terminal = captured.err + captured.out
    assert "Probe returned zero" not in terminal and "a note of the pipeline's own" not in terminal


def test_a_runs_progress_reaches_only_the_handler_attached_to_the_progress_logger(cdp_env, capfd):
    """`cdp run` attaches its StageTimer to the named `progress` logger for its run; a run with
    the logger and nothing attached (the daemon, the UI) prints nothing."""
    from cdp_pipeline.defs.loggers import progress_logger

    job = dg.Definitions(
        assets=[_chatty_library], loggers={"progress": progress_logger}
    ).resolve_implicit_global_asset_job_def()
    out = io.StringIO()
    handler = ProgressHandler(StageTimer(labels={"_chatty_library": "chatty library"}, stream=out))
    with dg.DagsterInstance.get() as instance:
        logging.getLogger(PROGRESS_LOGGER).addHandler(handler)
        try:
            assert job.execute_in_process(instance=instance, run_config={"loggers": {"progress": {}}}).success
        finally:
            logging.getLogger(PROGRESS_LOGGER).removeHandler(handler)
        lines = out.getvalue().splitlines()
        assert lines[0] == "  ▶ chatty library …" and lines[1].startswith("  ✓ chatty library (")
        capfd.readouterr()
        assert job.execute_in_process(instance=instance, run_config={"loggers": {"progress": {}}}).success
    assert out.getvalue().splitlines() == lines  # the handler was removed: the second run is not in it
    captured = capfd.readouterr()
    assert "chatty library" not in captured.out + captured.err and "▶" not in captured.out + captured.err


def test_a_timer_writes_to_the_stdout_of_when_it_is_made(monkeypatch):
    # not the stdout of when progress.py was imported: that can be a test's capture, closed since
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    timer = StageTimer(labels={"raw__crm": "raw/crm_customers"})
    timer.on_event("STEP_START", "raw__crm")
    assert "raw/crm_customers" in out.getvalue()


@dg.asset
def _publish_refused() -> None:
    from cdp_pipeline.lib.publish.warehouse_copy import PublishedWarehouseInUse

    raise PublishedWarehouseInUse("cdp.duckdb is open read-write by process 4242 (duckdb): close that session")


@dg.asset
def _database_error() -> None:
    raise RuntimeError("Conversion Error: could not convert 'anna@example.se'")


def test_a_failed_step_prints_an_operator_message_but_never_another_errors_text(cdp_env):
    """`cdp run` names why the publish was refused (the step's log is in the UI only); another
    error's message can quote a row's values and stays in the run log."""
    from cdp_pipeline.defs.loggers import progress_logger

    job = dg.Definitions(
        assets=[_publish_refused, _database_error], loggers={"progress": progress_logger}
    ).resolve_implicit_global_asset_job_def()
    out = io.StringIO()
    handler = ProgressHandler(
        StageTimer(labels={"_publish_refused": "publish/warehouse", "_database_error": "golden"}, stream=out)
    )
    with dg.DagsterInstance.get() as instance:
        logging.getLogger(PROGRESS_LOGGER).addHandler(handler)
        try:
            result = job.execute_in_process(
                instance=instance, run_config={"loggers": {"progress": {}}}, raise_on_error=False
            )
        finally:
            logging.getLogger(PROGRESS_LOGGER).removeHandler(handler)
    assert not result.success
    lines = out.getvalue().splitlines()
    refused = next(i for i, line in enumerate(lines) if line.startswith("  ✗ publish/warehouse ("))
    assert lines[refused + 1] == "    ! cdp.duckdb is open read-write by process 4242 (duckdb): close that session"
    assert any(line.startswith("  ✗ golden (") for line in lines)
    assert "anna@example.se" not in out.getvalue()
