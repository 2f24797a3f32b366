"""The night's executor: its steps in one process, as Dagster's in-process executor runs them, but
up to two at a time, each in a thread of its own, where the night's steps allow it.

Why: a step uses ~1.7 of the machine's two cores on average (its DuckDB queries use both, its
Python one); one after another the night left ~25 core-seconds of 139 idle at 1M. The identity
step (27 s, its Python phases on one core) can run beside the seven staging steps that do not
feed it. Why one process: DuckDB lets one process at a time open the build database read-write,
and in one process every step's connection is to the same database instance.

Which steps may run beside which (``STEP_POLICY``), from what the steps share:

- Python functions registered on a DuckDB connection are the database instance's, not the
  connection's (a second connection registering the same name fails: "already exists"); staging
  registers its standardisation functions in every step, activation its export functions. The
  steps that register them are one ``FUNCTIONS_LANE``: at most one of them runs at a time. They
  also share staging's bookkeeping (the record index, incremental_code, the phone lookup),
  which one-at-a-time keeps as the serial night writes it.
- A step not named in ``STEP_POLICY`` runs alone: nothing beside it, whatever it does (raw's load
  sets global DuckDB settings and runs its own thread pool; the erasure step rewrites the
  database file; publish copies it). A new step is safe by default; naming it is a decision.
- The steps named run beside each other: identity, golden, segments and activation write their
  own schemas' tables, identity/anonymous_visitors its one table, the audit reports and the
  checks only read (DuckDB's transactions keep each step's reads consistent; a ``CREATE ... IF
  NOT EXISTS`` of a table that exists writes nothing, so two steps' may meet).

Events are made and stored in the step's thread, as in the in-process executor (Dagster's SQLite
event log is written under its lock; ``launch.py``'s kept connection allows any thread), and
handed to this executor's loop, which keeps Dagster's plan state (``ActiveExecution``) in the
run's thread. A run terminated while steps run: the steps' threads get the interrupt when their
Python next runs (a DuckDB query ends first), no new step starts, and the run fails when they end.

Private Dagster APIs (the pinned version, pyproject.toml) are used here, in one place; the test
``cdp_pipeline_tests/defs/test_executor.py`` runs a small job through them.
"""

import ctypes
import os
import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import dagster as dg

from cdp_pipeline.defs.staging.assets import STAGING_TABLES

# step key -> lane: FREE runs beside any named step; FUNCTIONS_LANE beside any but another of
# its lane (every staging step, read from the staging assets' table: each builds its table with
# staging's Python functions registered). Step keys are Dagster's: an asset's key joined with
# "__", a multi-asset's or a check's definition name.
FREE = "free"
FUNCTIONS_LANE = "duckdb_functions"
STEP_POLICY: dict[str, str] = {
    **{f"staging__{t}": FUNCTIONS_LANE for t in STAGING_TABLES},
    **{f"staging_{t}_checks": FREE for t in STAGING_TABLES},
    "raw_ledger_checks": FREE,
    # the ledger's reports: they read what raw wrote (their CREATE/ALTER ... IF NOT EXISTS write
    # nothing once raw made the tables)
    "audit__files": FREE,
    "audit__quarantine": FREE,
    "identity_resolution": FREE,
    # reads staging.web_events, writes its one table: beside identity, which no longer waits for
    # the web events' build
    "identity__anonymous_visitors": FREE,
    "identity_checks": FREE,
    "golden_tables": FREE,
    "golden_checks": FREE,
    # after golden: segments and activation write their own schemas' tables, the checks read;
    # activation registers its export functions (the functions lane), segments none
    "segment_evaluation": FREE,
    "segment_definition_checks": FREE,
    "segments__history": FREE,
    "segments__history_history_agrees_with_membership": FREE,
    "segments__sizes": FREE,
    "activation__export_members": FUNCTIONS_LANE,
    "activation__export_log": FUNCTIONS_LANE,
    "activation__export_log_exported_rows_have_consent": FUNCTIONS_LANE,
    "activation__export_log_no_destination_held": FUNCTIONS_LANE,
}

# The night's longest chain (raw, identity_records, its checks, identity, golden) starts each of
# its steps first, in this order, when others are ready too: the others (web_events and the other
# staging steps, their checks) fill the core it leaves idle.
FIRST = (
    "staging__identity_records",
    "staging_identity_records_checks",
    "identity_resolution",
)

MAX_CONCURRENT = 2  # the machine's cores; a third step would only share them


def may_start(step_key: str, running: list[str], policy: dict[str, str] = STEP_POLICY) -> bool:
    """Whether ``step_key`` may start while the steps ``running`` run (``policy``: step key ->
    lane; a step not in it runs alone)."""
    if not running:
        return True
    lane = policy.get(step_key)
    if lane is None:
        return False
    lanes = [policy.get(k) for k in running]
    if None in lanes:
        return False
    return lane == FREE or lane not in lanes


_DONE = object()


@dataclass
class _Error:
    """The error that ended a step's thread outside the step's code (which Dagster turns into
    the step's failure): raised in the run's thread."""

    exc_info: tuple


@dataclass
class _Running:
    thread: threading.Thread
    step_context: object
    events: list


class ThreadedExecutor(dg.Executor):
    """Steps in threads of the run's process, up to ``max_concurrent`` at once, as ``may_start``
    allows; otherwise as Dagster's ``InProcessExecutor``."""

    def __init__(
        self,
        retries,
        step_dependency_config,
        max_concurrent: int = MAX_CONCURRENT,
        policy: dict[str, str] = STEP_POLICY,
        first: tuple[str, ...] = FIRST,
    ):
        self._retries = retries
        self._step_dependency_config = step_dependency_config
        self.max_concurrent = max(1, int(max_concurrent))
        self.policy = policy
        self.first = first

    @property
    def retries(self):
        return self._retries

    @property
    def step_dependency_config(self):
        return self._step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator:
        from dagster._core.events import DagsterEvent, EngineEventData
        from dagster._core.execution.api import ExecuteRunWithPlanIterable
        from dagster._core.execution.context_creation_job import PlanExecutionContextManager

        keys = execution_plan.step_keys_to_execute
        yield DagsterEvent.engine_event(
            plan_context,
            f"Executing steps in process (pid: {os.getpid()}), up to {self.max_concurrent} at a time in threads",
            event_specific_data=EngineEventData.in_process(os.getpid(), keys),
        )

        def iterator(job_context, execution_plan):
            return _threaded_plan_iterator(job_context, execution_plan, self)

        yield from iter(
            ExecuteRunWithPlanIterable(
                execution_plan=plan_context.execution_plan,
                iterator=iterator,
                execution_context_manager=PlanExecutionContextManager(
                    job=plan_context.job,
                    retry_mode=plan_context.retry_mode,
                    execution_plan=plan_context.execution_plan,
                    run_config=plan_context.run_config,
                    dagster_run=plan_context.dagster_run,
                    instance=plan_context.instance,
                    raise_on_error=plan_context.raise_on_error,
                    output_capture=plan_context.output_capture,
                    step_dependency_config=self.step_dependency_config,
                ),
            )
        )
        yield DagsterEvent.engine_event(
            plan_context,
            f"Finished steps in process (pid: {os.getpid()})",
            event_specific_data=EngineEventData.in_process(os.getpid(), keys),
        )


def _run_step(step_key: str, step_context, out: queue.Queue) -> None:
    """The step's events, as the in-process executor makes them, onto ``out``; then ``_DONE``
    (or the error that ended the thread)."""
    from dagster._core.execution.plan.execute_plan import dagster_event_sequence_for_step

    try:
        for event in dagster_event_sequence_for_step(step_context):
            out.put((step_key, event))
    except BaseException:  # handed to the run's thread, which raises it
        out.put((step_key, _Error(sys.exc_info())))
        return
    out.put((step_key, _DONE))


def _interrupt(thread: threading.Thread) -> None:
    """Raise DagsterExecutionInterruptedError in ``thread`` when its Python next runs."""
    from dagster._core.errors import DagsterExecutionInterruptedError

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(DagsterExecutionInterruptedError)
    )


def _threaded_plan_iterator(job_context, execution_plan, executor: ThreadedExecutor) -> Iterator:
    """Dagster's ``inner_plan_execution_iterator`` (in-process) with up to ``max_concurrent`` steps
    in flight, each in a thread; the plan's state is kept in this (the run's) thread only."""
    from dagster._core.errors import DagsterExecutionInterruptedError
    from dagster._core.events import DagsterEvent
    from dagster._core.execution.compute_logs import create_compute_log_file_key
    from dagster._core.execution.plan.active import ActiveExecution
    from dagster._core.execution.plan.execute_plan import (
        _handle_compute_log_setup_error,
        _handle_compute_log_teardown_error,
        _trigger_hook,
    )
    from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

    compute_log_manager = job_context.instance.compute_log_manager
    step_keys = [step.key for step in execution_plan.get_steps_to_execute_in_topo_order()]
    events: queue.Queue = queue.Queue()
    running: dict[str, _Running] = {}
    policy, max_concurrent = executor.policy, executor.max_concurrent
    held = None  # a step handed out that may not start beside the steps running: next to start
    stopping = False
    with ExitStack() as stack:
        icc = stack.enter_context(InstanceConcurrencyContext(job_context.instance, job_context.dagster_run))
        active = stack.enter_context(
            ActiveExecution(
                execution_plan,
                retry_mode=job_context.retry_mode,
                # ActiveExecution starts the lowest first (Dagster's default: -priority)
                sort_key_fn=lambda step: (
                    executor.first.index(step.key) - len(executor.first) if step.key in executor.first else 0.0
                ),
                instance_concurrency_context=icc,
                step_dependency_config=job_context.step_dependency_config,
            )
        )
        capture_stack = stack.enter_context(ExitStack())
        try:
            log_key = compute_log_manager.build_log_key_for_run(job_context.run_id, create_compute_log_file_key())
            log_context = capture_stack.enter_context(compute_log_manager.capture_logs(log_key))
            yield DagsterEvent.capture_logs(job_context, step_keys, log_key, log_context)
        except Exception:
            yield from _handle_compute_log_setup_error(job_context, sys.exc_info())

        def start(step) -> None:
            step_context = job_context.for_step(step, active.get_known_state())
            missing = [k for k in step_context.required_resource_keys if not hasattr(step_context.resources, k)]
            if missing:
                raise dg.DagsterInvariantViolationError(f"step {step.key} is missing resources {missing}")
            thread = threading.Thread(
                target=_run_step, args=(step.key, step_context, events), name=f"step {step.key}", daemon=True
            )
            running[step.key] = _Running(thread, step_context, [])
            thread.start()

        try:
            while running or held is not None or (not stopping and not active.is_complete):
                if active.check_for_interrupts() and not stopping:
                    stopping = True
                    active.mark_interrupted()
                    for r in running.values():
                        _interrupt(r.thread)
                # Start what may start: the held step once the steps it may not run beside are
                # done, then more while there is room, one at a time (each may be held).
                if held is not None and may_start(held.key, list(running), policy):
                    start(held)
                    held = None
                while not stopping and held is None and len(running) < max_concurrent and not active.is_complete:
                    if running and any(policy.get(k) is None for k in running):
                        break
                    steps = active.get_steps_to_execute(limit=1)
                    yield from active.concurrency_event_iterator(job_context)
                    if not steps:
                        break
                    if may_start(steps[0].key, list(running), policy):
                        start(steps[0])
                    else:
                        held = steps[0]
                if not running:
                    if held is not None:
                        continue
                    if stopping or active.is_complete:
                        break
                    active.sleep_til_ready()
                    yield from active.plan_events_iterator(job_context)
                    continue
                try:
                    key, item = events.get(timeout=0.5)
                except queue.Empty:
                    continue
                current = running[key]
                if item is _DONE:
                    current.thread.join()
                    del running[key]
                    active.verify_complete(job_context, key)
                    for event in active.plan_events_iterator(job_context):
                        current.events.append(event)
                        yield event
                    yield from _trigger_hook(current.step_context, current.events)
                elif isinstance(item, _Error):
                    current.thread.join()
                    del running[key]
                    _, error, traceback = item.exc_info
                    raise error.with_traceback(traceback)
                else:
                    current.events.append(item)
                    yield item
                    active.handle_event(item)
        except BaseException:
            # Nothing may outlive the run's resources (the build database's connection, the lock):
            # the running steps are interrupted and waited for.
            for r in running.values():
                _interrupt(r.thread)
            for r in running.values():
                r.thread.join()
            raise
        if stopping:
            raise DagsterExecutionInterruptedError("the run was interrupted; its running steps ended first")
        try:
            capture_stack.close()
        except Exception:
            yield from _handle_compute_log_teardown_error(job_context, sys.exc_info())


def _threaded_executor_config():
    from dagster._core.definitions.executor_definition import get_retries_config, get_step_dependency_config_field

    return dg.Field(
        {
            "retries": get_retries_config(),
            "step_dependency_config": get_step_dependency_config_field(),
            "max_concurrent": dg.Field(
                int,
                default_value=MAX_CONCURRENT,
                is_required=False,
                description="Steps at once (1: one after another, as the in-process executor).",
            ),
        },
        description="Execute the steps in one process, up to max_concurrent at a time in threads.",
    )


@dg.executor(name="cdp_threaded", config_schema=_threaded_executor_config())
def threaded_executor(init_context):
    """The night's executor (``ThreadedExecutor``): one process, up to two steps at once."""
    from dagster._core.execution.retries import RetryMode
    from dagster._core.execution.step_dependency_config import StepDependencyConfig

    config = init_context.executor_config
    return ThreadedExecutor(
        retries=RetryMode.from_config(config["retries"]),
        step_dependency_config=StepDependencyConfig.from_config(config.get("step_dependency_config")),
        max_concurrent=config.get("max_concurrent", MAX_CONCURRENT),
    )
