"""Dagster entry point: every asset, check, job, schedule and sensor lives under ``defs/``."""

import os
from pathlib import Path

import dagster as dg

# Personal data: every file a run creates (build database, warehouse, exports, reports) is
# readable by its owner only, whether the run comes from `cdp run`, the UI or the daemon.
os.umask(0o077)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
