"""Loggers a run can choose by run config: `cdp run` uses `progress` for terminal output."""

import logging

import dagster as dg

from cdp_pipeline.lib.common.progress import ProgressHandler, StageTimer

# `cdp run` puts its StageTimer here before launching the run; in the daemon it stays unset.
ACTIVE_TIMER: list[StageTimer] = []


@dg.logger(description="One line per stage start/end, for the terminal (used by `cdp run`).")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("cdp_progress", level=logging.DEBUG)
    timer = ACTIVE_TIMER[-1] if ACTIVE_TIMER else StageTimer()
    logger.addHandler(ProgressHandler(timer))
    return logger


@dg.definitions
def loggers() -> dg.Definitions:
    return dg.Definitions(loggers={"console": dg.colored_console_logger, "progress": progress_logger})
