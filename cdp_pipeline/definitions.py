"""Dagster entry point: every asset, check, job, schedule and sensor lives under ``defs/``."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

# Personal data: every file a run creates (build database, warehouse, exports, reports) is
# readable by its owner only, whether the run comes from `cdp run`, the UI or the daemon.
os.umask(0o077)

# While ``built_once`` is open: the definitions built first, which every later load returns.
_built: list[dg.Definitions] | None = None


@contextmanager
def built_once(built: dg.Definitions | None = None) -> Iterator[list[dg.Definitions]]:
    """Within it, the definitions are built once (or are ``built``) and every later load in this
    process returns that same object; yields the list holding it once built.

    Dagster builds them three times for one `cdp run` executed in this process: to find the code
    location's target, again to make its repository from the code pointer, and again when the run
    starts (each build walks defs/ and collects the components' catalogue: about 0.25 CPU s). Used
    by launch.py around one job's load and its run only, so a later load (another `cdp run` in the
    same process, other CDP_* settings) builds afresh; the code server and the daemon build as
    before."""
    global _built
    previous, _built = _built, [] if built is None else [built]
    try:
        yield _built
    finally:
        _built = previous


@dg.definitions
def defs() -> dg.Definitions:
    if _built:
        return _built[0]
    built = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    if _built is not None:
        _built.append(built)
    return built
