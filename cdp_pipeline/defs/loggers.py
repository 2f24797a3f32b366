"""Loggers a run can choose by run config: `cdp run` uses `progress` for terminal output."""

import logging

import dagster as dg

from cdp_pipeline.lib.common.progress import PROGRESS_LOGGER


@dg.logger(description="One line per stage start/end, for the terminal (used by `cdp run`).")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    # The handler that prints is `cdp run`'s, attached to this named logger for its run.
    return logging.getLogger(PROGRESS_LOGGER)


@dg.definitions
def loggers() -> dg.Definitions:
    return dg.Definitions(loggers={"console": dg.colored_console_logger, "progress": progress_logger})
