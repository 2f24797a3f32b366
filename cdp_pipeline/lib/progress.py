"""Terminal progress for `cdp run`: a line as each stage starts and ends, and stage timings."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field


@dataclass
class StageTimer:
    """Wall time per Dagster step, in the order steps started."""

    started: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    stream: object = sys.stdout

    def label(self, step_key: str) -> str:
        return self.labels.get(step_key, step_key)

    def on_event(self, event_type: str, step_key: str | None, message: str = "") -> None:
        if not step_key:
            return
        now = time.monotonic()
        if event_type == "STEP_START":
            self.started[step_key] = now
            print(f"  ▶ {self.label(step_key)} …", file=self.stream, flush=True)
        elif event_type in ("STEP_SUCCESS", "STEP_FAILURE"):
            took = now - self.started.get(step_key, now)
            self.seconds[step_key] = took
            mark = "✓" if event_type == "STEP_SUCCESS" else "✗"
            if event_type == "STEP_FAILURE":
                self.failed.append(step_key)
            print(f"  {mark} {self.label(step_key)} ({took:.1f} s)", file=self.stream, flush=True)
        elif event_type == "ASSET_CHECK_EVALUATION" and message:
            print(f"    · {message}", file=self.stream, flush=True)


class ProgressHandler(logging.Handler):
    """Feeds Dagster's structured log records to a StageTimer."""

    def __init__(self, timer: StageTimer):
        super().__init__(level=logging.DEBUG)
        self.timer = timer

    def emit(self, record: logging.LogRecord) -> None:
        event = record.__dict__.get("dagster_event")
        if event is None:
            return
        message = ""
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            status = "passed" if data.passed else f"FAILED ({data.severity.value})"
            message = f"check {data.asset_key.to_user_string()}:{data.check_name} {status}"
        self.timer.on_event(event.event_type_value, event.step_key, message)
