"""Terminal progress for `cdp run`: a line as each stage starts and ends, and stage timings."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field

CHECKS = "asset checks"

# A long step can report its phases (identity: prior, u, EM, predict, clustering) with
# report_phase(); `cdp run` prints them under the step's line, and Dagster keeps them in the
# run's log (dagster.yaml manages the `cdp_pipeline` loggers).
PHASE_LOGGER = "cdp_pipeline.progress.phase"
logging.getLogger(PHASE_LOGGER).setLevel(logging.INFO)

# Dagster's structured events of a run with the `progress` logger (defs/loggers.py). `cdp run`
# attaches a ProgressHandler (its StageTimer) while its run lasts; in the daemon or the UI no
# handler is attached, and nothing reaches the root logger, so nothing is printed.
PROGRESS_LOGGER = "cdp_progress"
logging.getLogger(PROGRESS_LOGGER).setLevel(logging.DEBUG)
logging.getLogger(PROGRESS_LOGGER).propagate = False

# Dagster's run-level events: the end of the run closes the asset-checks line.
RUN_END_EVENTS = ("PIPELINE_SUCCESS", "PIPELINE_FAILURE", "RUN_SUCCESS", "RUN_FAILURE")


def report_phase(stage: str, phase: str) -> None:
    """Say that a step of ``stage`` entered ``phase`` (plain logging: no Dagster needed to call it)."""
    logging.getLogger(PHASE_LOGGER).info("%s: %s", stage, phase, extra={"cdp_phase": (stage, phase)})


@dataclass
class StageTimer:
    """Wall time per asset step (check steps are summed under one line), in start order.

    ``labels`` maps the op names of asset steps to what they build; any other step
    is a check step, shown only when a check fails.
    """

    labels: dict[str, str] = field(default_factory=dict)
    # the stdout of when the timer is made, not of when this module was imported (a test's closed
    # capture, once, made every later run's progress line fail)
    stream: object = field(default_factory=lambda: sys.stdout)
    started: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)

    def label(self, step_key: str) -> str:
        return self.labels.get(step_key, step_key)

    def _say(self, text: str) -> None:
        if self.stream is None:
            return
        try:
            print(text, file=self.stream, flush=True)
        except BrokenPipeError:
            # `cdp run | head`: the reader left; the run goes on without its progress lines.
            self.stream = None

    def on_phase(self, stage: str, phase: str) -> None:
        self._say(f"    · {stage}: {phase}")

    def on_event(self, event_type: str, step_key: str | None, message: str = "", passed: bool = True) -> None:
        if event_type in RUN_END_EVENTS:
            self._checks_line()
            return
        if not step_key:
            return
        now = time.monotonic()
        is_asset = step_key in self.labels
        if event_type == "STEP_START":
            self.started[step_key] = now
            if is_asset:
                self._say(f"  ▶ {self.label(step_key)} …")
        elif event_type in ("STEP_SUCCESS", "STEP_FAILURE"):
            took = now - self.started.get(step_key, now)
            key = step_key if is_asset else CHECKS
            self.seconds[key] = self.seconds.get(key, 0.0) + took
            if event_type == "STEP_FAILURE":
                self.failed.append(step_key)
            if is_asset or event_type == "STEP_FAILURE":
                mark = "✓" if event_type == "STEP_SUCCESS" else "✗"
                self._say(f"  {mark} {self.label(step_key)} ({took:.1f} s)")
                if message:
                    self._say(f"    ! {message}")
        elif event_type == "ASSET_CHECK_EVALUATION":
            if passed:
                self.checks_passed += 1
            else:
                self.checks_failed.append(message)
                self._say(f"    ! {message}")

    def _checks_line(self) -> None:
        """The check steps, summed: one line at the end of the run (a line each would drown the stages)."""
        checks = self.checks_passed + len(self.checks_failed)
        if CHECKS in self.seconds or checks:
            mark = "✓" if not self.checks_failed else "✗"
            self._say(
                f"  {mark} {CHECKS}: {self.checks_passed} of {checks} passed ({self.seconds.get(CHECKS, 0.0):.1f} s)"
            )


class PhaseHandler(logging.Handler):
    """Feeds report_phase() records to a StageTimer."""

    def __init__(self, timer: StageTimer):
        super().__init__(level=logging.INFO)
        self.timer = timer

    def emit(self, record: logging.LogRecord) -> None:
        phase = record.__dict__.get("cdp_phase")
        if phase:
            self.timer.on_phase(*phase)


class ProgressHandler(logging.Handler):
    """Feeds Dagster's structured log records to a StageTimer."""

    def __init__(self, timer: StageTimer):
        super().__init__(level=logging.DEBUG)
        self.timer = timer

    def emit(self, record: logging.LogRecord) -> None:
        event = record.__dict__.get("dagster_event")
        if event is None:
            return
        message, passed = "", True
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            passed = data.passed
            message = f"check {data.asset_key.to_user_string()}:{data.check_name} " + (
                "passed" if passed else f"FAILED ({data.severity.value})"
            )
        elif event.event_type_value == "STEP_FAILURE":
            message = operator_message(event.event_specific_data.error)
        self.timer.on_event(event.event_type_value, event.step_key, message, passed)


# Failures whose message is written for the operator (what happened, what to do) and carries no
# customer value: `cdp run` prints it under the failed step. Other errors' messages stay in the
# Dagster run log (a database error can quote a row's values).
OPERATOR_ERRORS = ("PublishedWarehouseInUse",)


def operator_message(error) -> str:
    """The message of an operator-facing error in a step failure's cause chain, else ""."""
    while error is not None:
        if error.cls_name in OPERATOR_ERRORS:
            # Dagster writes it as "module.Class: message"
            message = error.message.strip()
            return message.partition(f"{error.cls_name}: ")[2] or message
        error = error.cause
    return ""
