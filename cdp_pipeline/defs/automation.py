"""When the night runs: the nightly job, its 02:00 schedule, and the landing-file sensor."""

import hashlib
import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from cdp_pipeline.defs.executor import threaded_executor
from cdp_pipeline.defs.partitions import (
    LANDING_DAYS,
    LAST_LANDING_DAY_TAG,
    add_landing_days,
    landing_date_partitions,
    new_landing_days,
    partition_range,
)
from cdp_pipeline.defs.run_mode import PARTITION_RANGE_END_TAG
from cdp_pipeline.lib.raw.files import file_sha256
from cdp_pipeline.lib.raw.landing import landed_files, landing_days, nightly_landing_days
from cdp_pipeline.settings import get_settings

PARTITION_RANGE_START = "dagster/asset_partition_range_start"
# A file modified less than this long ago may still be being written (an upload to its final name,
# without a .part/.tmp suffix): the sensor waits for it to settle rather than launch a run on part
# of it, and another run for each tick while it grows.
SETTLE_SECONDS = 120


def _now_ns() -> int:
    return time.time_ns()


PARTITION_RANGE_END = PARTITION_RANGE_END_TAG

nightly_job = dg.define_asset_job(
    name="nightly",
    selection=dg.AssetSelection.all(),
    description="The whole night: landing files in, standardised, identities resolved, "
    "golden records, segments and exports built, warehouse published.",
)


def partition_range_tags(known_keys: list[str], days: list[str], latest_landed: str | None = None) -> dict[str, str]:
    """Run tags that make one run load every landing day of ``days`` (partitions already):
    the range of partitions that holds them, and the latest day in it (the golden layer's
    as-of date; with days added out of date order the range's end is not always the latest).
    ``latest_landed``: the latest landing day of all, for a run that loads a late delivery into
    an old day; the night stays as of it instead of going back to the old day (which would
    drop every later event from the customer view and the exports)."""
    start, end = partition_range(known_keys, days)
    in_range = known_keys[known_keys.index(start) : known_keys.index(end) + 1]
    as_of = max([*in_range, *([latest_landed] if latest_landed else [])])
    return {PARTITION_RANGE_START: start, PARTITION_RANGE_END: end, LAST_LANDING_DAY_TAG: as_of}


def build_nightly_schedule(timezone: str) -> dg.ScheduleDefinition:
    """The 02:00 schedule in the business time zone ``timezone``."""

    @dg.schedule(
        job=nightly_job,
        cron_schedule="0 2 * * *",
        execution_timezone=timezone,
        name="nightly_schedule",
        description="Every night at 02:00 local time: reload the last three landing days and rebuild.",
    )
    def nightly_schedule(context: dg.ScheduleEvaluationContext):
        settings = get_settings()
        now = context.scheduled_execution_time or datetime.now(tz=ZoneInfo(settings.timezone))
        today = now.astimezone(ZoneInfo(settings.timezone)).date()
        days = nightly_landing_days(settings.landing_dir, today=today)
        if not days:
            return dg.SkipReason(f"no landing files in the last 3 days under {settings.landing_dir}")
        # A schedule cannot ask the daemon to add partitions (a sensor can): add them here.
        add_landing_days(context.instance, landing_days(settings.landing_dir))
        known = list(context.instance.get_dynamic_partitions(LANDING_DAYS))
        return dg.RunRequest(run_key=f"nightly-{today.isoformat()}", tags=partition_range_tags(known, days))

    return nightly_schedule


@dg.sensor(
    job=nightly_job,
    name="landing_file_sensor",
    minimum_interval_seconds=60,
    description="Makes each new landing day a partition, and launches one run for the landing days "
    "where new files (by path and checksum) appeared, once they stopped changing.",
)
def landing_file_sensor(context: dg.SensorEvaluationContext):
    settings = get_settings()
    seen: dict[str, list] = json.loads(context.cursor) if context.cursor else {}
    by_day: dict[str, list[str]] = {}
    current: dict[str, list] = {}
    files = landed_files(settings.landing_dir)
    now_ns, settling = _now_ns(), 0
    for f in files:
        key = str(f.path)
        stamp = [f.size, f.mtime_ns]
        if seen.get(key) == stamp:
            current[key] = stamp
            continue
        if abs(now_ns - f.mtime_ns) < SETTLE_SECONDS * 1_000_000_000:
            # not in the cursor: a later tick sees it as new once it stopped changing
            settling += 1
            continue
        current[key] = stamp
        # Checksum only what is new or changed since the last tick.
        # (what ingest refuses unread, a link, sub-folder or pipe, is not opened: a pipe would wait for a writer)
        checksum = file_sha256(f.path) if f.regular else f"{f.mtime_ns}"
        by_day.setdefault(f.day, []).append(f"{f.path.relative_to(settings.landing_dir)}:{checksum}")
    context.update_cursor(json.dumps(current, sort_keys=True))
    # Every landing day not yet a partition, also days whose files an older tick saw: the
    # daemon adds them (in this order, after the known ones) before it launches the run.
    new_days = new_landing_days(context.instance, {f.day for f in files})
    requests = []
    if by_day:
        # One run for everything new in this tick, as `cdp run` loads every changed day in one
        # run: a backlog of 30 days (the sensor switched on, or off for a while) is one night,
        # not 30 queued ones, each rebuilding every layer after it.
        entries = sorted(entry for day_entries in by_day.values() for entry in day_entries)
        run_key = "landing-" + hashlib.sha256("\n".join(entries).encode()).hexdigest()[:16]
        known = [*context.instance.get_dynamic_partitions(LANDING_DAYS), *new_days]
        # A late delivery into an old day loads that day but stays as of the latest landed day,
        # not the old day (that would drop every later event from the customer view and exports).
        latest = max(f.day for f in files if str(f.path) in current)
        requests.append(dg.RunRequest(run_key=run_key, tags=partition_range_tags(known, sorted(by_day), latest)))
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[landing_date_partitions.build_add_request(new_days)] if new_days else [],
        skip_reason=None
        if requests
        else "no new landing files"
        + (
            f" ({settling} modified in the last {SETTLE_SECONDS} s: waiting until they stop changing)"
            if settling
            else ""
        ),
    )


@dg.definitions
def automation() -> dg.Definitions:
    # Called when the code location loads, not when this module is imported: the schedule's time
    # zone is read from the settings in force then (a test or `cdp` may have changed them).
    return dg.Definitions(
        jobs=[nightly_job],
        # Every job of the location (the nightly job, a materialisation of a selection in the UI)
        # runs its steps in one process, up to two at once in threads where the steps allow it
        # (defs/executor.py). Not a lock (run_lock.py is the one writer mechanism): DuckDB lets one
        # process at a time open the build database read-write, and in one process the steps
        # share it, where steps in processes of their own would each reopen it in turn.
        executor=threaded_executor,
        schedules=[build_nightly_schedule(get_settings().timezone)],
        sensors=[landing_file_sensor],
    )
