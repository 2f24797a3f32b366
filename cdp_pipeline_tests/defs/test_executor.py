"""The night's executor (defs/executor.py): steps in threads of the run's process, up to two at
once where its policy allows, dependencies kept, a failed step failing the run. Runs a small job
through Dagster's run machinery (``execute_run``), as `cdp run` does, which also pins the private
Dagster APIs the executor uses: a Dagster upgrade that changes them fails here."""

import threading

import dagster as dg
import pytest
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.execution.api import execute_run
from dagster._core.execution.retries import RetryMode
from dagster._core.execution.step_dependency_config import StepDependencyConfig

from cdp_pipeline.defs.executor import FIRST, FREE, STEP_POLICY, ThreadedExecutor, may_start

POLICY = {"a": FREE, "b": FREE, "c": FREE, "lane_1": "lane", "lane_2": "lane", "after": FREE}


def _executor(policy, first=()):
    @dg.executor(name="test_threaded")
    def _exec(_init_context):
        return ThreadedExecutor(RetryMode.DISABLED, StepDependencyConfig.default(), 2, policy, first)

    return _exec


def _run(job: dg.JobDefinition):
    instance = dg.DagsterInstance.ephemeral()
    run = instance.create_run_for_job(job_def=job)
    result = execute_run(InMemoryJob(job), run, instance)
    records = instance.get_records_for_run(run.run_id).records
    return result, [r.event_log_entry for r in records]


def _step_order(entries, kinds=("STEP_START", "STEP_SUCCESS", "STEP_FAILURE")):
    return [
        (e.dagster_event.event_type_value, e.dagster_event.step_key)
        for e in entries
        if e.dagster_event and e.dagster_event.event_type_value in kinds
    ]


def test_two_free_steps_overlap_and_dependencies_hold():
    # a and b each wait until both have started: they finish only if they ran at the same time.
    # The barrier's timeout only turns a hang into a failure.
    both = threading.Barrier(2, timeout=60)
    seen = []

    @dg.op
    def a():
        both.wait()
        seen.append("a")
        return 1

    @dg.op
    def b():
        both.wait()
        seen.append("b")
        return 2

    @dg.op
    def after(x, y):
        seen.append("after")
        return x + y

    @dg.job(executor_def=_executor(POLICY))
    def job():
        after(a(), b())

    result, entries = _run(job)
    assert result.success
    order = _step_order(entries)
    starts = [k for t, k in order if t == "STEP_START"]
    # both a and b started before either succeeded, and after started only once both had succeeded
    first_success = next(i for i, (t, _) in enumerate(order) if t == "STEP_SUCCESS")
    assert {k for t, k in order[:first_success] if t == "STEP_START"} == {"a", "b"}
    assert order.index(("STEP_START", "after")) > max(order.index(("STEP_SUCCESS", k)) for k in ("a", "b"))
    assert starts[-1] == "after" and seen[-1] == "after"
    # the materialisation-free job still stores every step's events: output events of each step
    outputs = {e.dagster_event.step_key for e in entries if e.dagster_event and e.dagster_event.is_successful_output}
    assert outputs == {"a", "b", "after"}


# The first step waits this long for the second to start beside it: the executor's next chance comes
# at once, so a step started where it may not is seen well within it; a step kept waiting costs
# the test this long, and a busy machine can only make the test slower, never make it fail.
CHANCE_SECONDS = 3


def _second_started_during_first(policy: dict[str, str], first: str, second: str) -> bool:
    """Runs two independent steps, ``first`` started first, up to two at once; whether ``second``
    started while ``first`` ran (``first`` waits for it, for at most CHANCE_SECONDS)."""
    started, seen = threading.Event(), {}

    @dg.op(name=first)
    def _first():
        seen["during"] = started.wait(CHANCE_SECONDS)

    @dg.op(name=second)
    def _second():
        started.set()

    @dg.job(executor_def=_executor(policy, first=(first,)))
    def job():
        _first()
        _second()

    result, entries = _run(job)
    assert result.success and {k for t, k in _step_order(entries) if t == "STEP_SUCCESS"} == {first, second}
    return seen["during"]


@pytest.mark.parametrize(
    "first, second, beside",
    [
        ("a", "b", True),  # both free: the second starts at once (the wait sees a start)
        ("lane_1", "lane_2", False),  # one lane: one at a time
        ("c", "alone", False),  # a step the policy does not name runs alone...
        ("alone", "c", False),  # ...and nothing starts beside it
    ],
)
def test_steps_of_one_lane_and_unnamed_steps_run_alone(first, second, beside):
    assert _second_started_during_first(POLICY, first, second) is beside


def test_a_failing_step_fails_the_run_and_skips_its_downstream():
    both = threading.Barrier(2, timeout=60)

    @dg.op
    def a():
        both.wait()
        raise ValueError("a broke")

    @dg.op
    def b():
        both.wait()
        return 2

    @dg.op
    def after(x, y):
        return x + y

    @dg.job(executor_def=_executor(POLICY))
    def job():
        after(a(), b())

    result, entries = _run(job)
    assert not result.success
    order = _step_order(entries)
    assert ("STEP_FAILURE", "a") in order and ("STEP_SUCCESS", "b") in order
    assert ("STEP_START", "after") not in order
    failure = next(e for e in entries if e.dagster_event and e.dagster_event.event_type_value == "STEP_FAILURE")
    assert "a broke" in failure.dagster_event.step_failure_data.error.to_string()


def test_first_steps_start_first():
    order = []

    def make(name):
        @dg.op(name=name)
        def _op():
            order.append(name)

        return _op

    names = ["a", "b", "c"]
    ops = [make(n) for n in names]

    @dg.job(executor_def=_executor({}, first=("c",)))  # nothing named: one at a time
    def job():
        for o in ops:
            o()

    result, _ = _run(job)
    assert result.success
    assert order[0] == "c" and sorted(order) == names


@pytest.mark.parametrize(
    "step, running, allowed",
    [
        ("identity_resolution", ["staging__orders"], True),
        ("staging__orders", ["staging__web_events"], False),  # both register DuckDB functions
        ("staging_orders_checks", ["staging__web_events"], True),
        ("publish__warehouse", ["identity_checks"], False),  # not named: alone
        ("identity_checks", ["raw_sources"], False),
        ("raw_sources", [], True),
        # identity no longer waits for the web events: their build runs beside it
        ("staging__web_events", ["identity_resolution"], True),
        ("identity__anonymous_visitors", ["identity_resolution"], True),
        ("audit__files", ["staging__identity_records"], True),  # the ledger's reports only read
        ("segment_evaluation", ["golden_checks"], True),
        ("segments__history", ["activation__export_members"], True),
        ("activation__export_members", ["staging__order_lines"], False),  # both register functions
        ("activation__export_log_exported_rows_have_consent", ["activation__export_log_no_destination_held"], False),
        ("audit__erasure_log", ["segments__sizes"], False),  # rewrites the file: alone
    ],
)
def test_night_policy(step, running, allowed):
    assert may_start(step, running) is allowed


def test_policy_names_steps_of_the_nightly_job():
    # A renamed step would silently lose its place in the policy (and run alone): every name
    # in it must be a step of the night.
    from dagster._core.execution.api import create_execution_plan

    from cdp_pipeline.definitions import defs

    job = defs().resolve_job_def("nightly")
    keys = {s.key for s in create_execution_plan(job).get_steps_to_execute_in_topo_order()}
    assert set(STEP_POLICY) <= keys
    assert set(FIRST) <= set(STEP_POLICY)
    assert job.executor_def.name == "cdp_threaded"
