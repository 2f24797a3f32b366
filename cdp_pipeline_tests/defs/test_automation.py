"""Data arrives by itself: the 02:00 schedule and the landing-file sensor."""

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.definitions.partitions.context import partition_loading_context

from cdp_pipeline.defs import automation
from cdp_pipeline.defs.automation import (
    SETTLE_SECONDS,
    build_nightly_schedule,
    landing_file_sensor,
    partition_range_tags,
)
from cdp_pipeline.defs.golden.assets import as_of_date_for_run
from cdp_pipeline.defs.partitions import landing_date_partitions
from cdp_pipeline.defs.run_mode import RunMode

nightly_schedule = build_nightly_schedule("Europe/Stockholm")


@pytest.fixture(autouse=True)
def sensor_clock(monkeypatch):
    """The sensor's clock, a day on by default: the files a test drops have long stopped changing."""
    clock = {"now_ns": time.time_ns() + 86_400 * 10**9}
    monkeypatch.setattr(automation, "_now_ns", lambda: clock["now_ns"])
    return clock


def _drop(landing, source, day, name, text):
    d = landing / source / day
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text)
    return d / name


def _apply_partition_requests(instance, result):
    """What the daemon does with a sensor's dynamic partition requests, before its run requests."""
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def _partitions(instance):
    return list(landing_date_partitions.get_partition_keys(dynamic_partitions_store=instance))


def test_sensor_requests_one_run_for_the_days_with_new_files_and_not_again(cdp_env):
    landing = cdp_env.landing_dir
    _drop(landing, "crm", "2026-10-01", "customers.csv", "customer_id\nC1\n")
    _drop(landing, "sms", "2026-10-02", "messages.csv", "From,To\n")
    _drop(landing, "sms", "2026-10-02", ".hidden.csv", "x")
    _drop(landing, "sms", "2026-10-02", "upload.csv.part", "x")

    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance)
        result = landing_file_sensor(ctx)
        requests = result.run_requests
        # one run over both days (a backlog is one night, not one queued night per day)
        assert [
            (
                r.tags["dagster/asset_partition_range_start"],
                r.tags["dagster/asset_partition_range_end"],
                r.tags["cdp/last_landing_day"],
            )
            for r in requests
        ] == [("2026-10-01", "2026-10-02", "2026-10-02")]
        # Each landing day becomes a partition, before its run is launched.
        assert [(r.partitions_def_name, list(r.partition_keys)) for r in result.dynamic_partitions_requests] == [
            ("landing_days", ["2026-10-01", "2026-10-02"])
        ]
        _apply_partition_requests(instance, result)
        assert _partitions(instance) == ["2026-10-01", "2026-10-02"]
        cursor = ctx.cursor

        again = landing_file_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
        assert not again.run_requests and not again.dynamic_partitions_requests
        assert again.skip_reason.skip_message == "no new landing files"

        # A new delivery into an old day triggers that day only, with a run key from path + checksum.
        _drop(landing, "crm", "2026-10-01", "customers_late.csv", "customer_id\nC2\n")
        late = landing_file_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
        assert len(late.run_requests) == 1
        assert late.run_requests[0].tags["dagster/asset_partition_range_start"] == "2026-10-01"
        # ... but the night stays as of the latest landed day: going back to 2026-10-01 would drop
        # 2026-10-02's events from the customer view and the exports.
        assert late.run_requests[0].tags["cdp/last_landing_day"] == "2026-10-02"
        assert late.run_requests[0].run_key != requests[0].run_key
        assert not late.dynamic_partitions_requests  # not a new day


def test_sensor_adds_landed_days_an_older_tick_saw_without_a_partition(cdp_env):
    """Upgrading from calendar partitions: the cursor knows the files, the instance not the days."""
    _drop(cdp_env.landing_dir, "crm", "2026-10-01", "customers.csv", "customer_id\nC1\n")
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance)
        landing_file_sensor(ctx)  # its partition requests are never applied
        again = landing_file_sensor(dg.build_sensor_context(instance=instance, cursor=ctx.cursor))
        assert not again.run_requests
        _apply_partition_requests(instance, again)
        assert _partitions(instance) == ["2026-10-01"]


def test_schedule_reloads_last_three_days_and_makes_every_landed_day_a_partition(cdp_env):
    landing = cdp_env.landing_dir
    for day in ("2026-10-01", "2026-10-05", "2026-10-07", "2026-10-08"):
        _drop(landing, "web", day, "events.jsonl", "{}\n")
    at = datetime(2026, 10, 8, 2, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    with dg.instance_for_test() as instance:
        request = nightly_schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=at))
        assert request.tags["dagster/asset_partition_range_start"] == "2026-10-05"
        assert request.tags["dagster/asset_partition_range_end"] == "2026-10-08"
        assert request.tags["cdp/last_landing_day"] == "2026-10-08"
        assert _partitions(instance) == ["2026-10-01", "2026-10-05", "2026-10-07", "2026-10-08"]


def test_a_day_landed_late_is_loaded_with_its_window_and_the_night_is_as_of_its_latest_day(cdp_env):
    """Dagster orders dynamic partitions by when they were added: 2026-10-07 is added after
    2026-10-08 here, and the range must still hold all three days of the window."""
    landing = cdp_env.landing_dir
    for day in ("2026-10-05", "2026-10-08"):
        _drop(landing, "web", day, "events.jsonl", "{}\n")
    at = datetime(2026, 10, 8, 2, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    with dg.instance_for_test() as instance:
        nightly_schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=at))
        _drop(landing, "pos", "2026-10-07", "receipts.csv", "receipt_id\n")
        request = nightly_schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=at))
        assert _partitions(instance) == ["2026-10-05", "2026-10-08", "2026-10-07"]
        tags = request.tags
        with partition_loading_context(dynamic_partitions_store=instance):  # as a run resolves its range
            in_run = landing_date_partitions.get_partition_keys_in_range(
                dg.PartitionKeyRange(
                    tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]
                )
            )
        assert sorted(in_run) == ["2026-10-05", "2026-10-07", "2026-10-08"]
        assert as_of_date_for_run(RunMode.of_tags(tags), lambda: None)[0] == date(2026, 10, 8)


def test_schedule_skips_when_nothing_landed(cdp_env):
    at = datetime(2026, 10, 8, 2, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    with dg.instance_for_test() as instance:
        result = nightly_schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=at))
        assert isinstance(result, dg.SkipReason)
        assert _partitions(instance) == []


def test_sensor_waits_for_a_file_still_being_written_then_launches_one_run_for_it(cdp_env, sensor_clock):
    """An upload written straight to its final name (no .part/.tmp): no run on part of the file,
    nor one per tick while it grows; one run once it has not changed for SETTLE_SECONDS."""
    path = _drop(cdp_env.landing_dir, "crm", "2026-10-06", "customers.csv", "customer_id,email\nC1,a@x.se\nC2,b@")
    with dg.instance_for_test() as instance:
        cursor = None
        for more in ("", "x.se\nC3,c@x.se\n"):
            with path.open("a") as f:
                f.write(more)
            sensor_clock["now_ns"] = path.stat().st_mtime_ns + 10**9  # a second after the last write
            ctx = dg.build_sensor_context(instance=instance, cursor=cursor)
            result = landing_file_sensor(ctx)
            cursor = ctx.cursor
            assert not result.run_requests
            assert "1 modified in the last 120 s: waiting" in result.skip_reason.skip_message
        sensor_clock["now_ns"] = path.stat().st_mtime_ns + (SETTLE_SECONDS + 1) * 10**9
        ctx = dg.build_sensor_context(instance=instance, cursor=cursor)
        settled = landing_file_sensor(ctx)
        assert [r.tags["dagster/asset_partition_range_start"] for r in settled.run_requests] == ["2026-10-06"]
        again = landing_file_sensor(dg.build_sensor_context(instance=instance, cursor=ctx.cursor))
        assert not again.run_requests and again.skip_reason.skip_message == "no new landing files"
        # the same file rewritten in place later waits again, then runs again
        path.write_text("customer_id,email\nC1,a@x.se\n")
        sensor_clock["now_ns"] = path.stat().st_mtime_ns
        assert not landing_file_sensor(dg.build_sensor_context(instance=instance, cursor=ctx.cursor)).run_requests
        sensor_clock["now_ns"] += (SETTLE_SECONDS + 1) * 10**9
        rewritten = landing_file_sensor(dg.build_sensor_context(instance=instance, cursor=ctx.cursor))
        assert len(rewritten.run_requests) == 1
        assert rewritten.run_requests[0].run_key != settled.run_requests[0].run_key


def test_the_schedule_runs_once_a_local_day_across_daylight_saving_changes():
    """02:00 Stockholm time: on the spring night 02:00 does not exist (run at 03:00), on the
    autumn night it happens twice (one run); each run is for its own local day."""
    from dagster._utils.schedules import cron_string_iterator

    tz = ZoneInfo(nightly_schedule.execution_timezone)
    for first in (datetime(2027, 3, 26, 12, tzinfo=tz), datetime(2027, 10, 29, 12, tzinfo=tz)):
        ticks = cron_string_iterator(first.timestamp(), nightly_schedule.cron_schedule, str(tz))
        local = [next(ticks).astimezone(tz) for _ in range(4)]
        assert [t.date() for t in local] == [first.date() + timedelta(days=i) for i in (1, 2, 3, 4)]
        assert all(t.hour in (2, 3) for t in local)
    spring = cron_string_iterator(datetime(2027, 3, 27, 12, tzinfo=tz).timestamp(), "0 2 * * *", str(tz))
    assert next(spring).astimezone(tz).replace(tzinfo=None) == datetime(2027, 3, 28, 3, 0)


def test_sensor_run_covers_new_days_and_a_late_day_added_after_newer_ones(cdp_env):
    """Dagster orders dynamic partitions by when they were added: a late file for 2026-10-01,
    added after 10-05 and 10-06, is in the one run of its tick with a new day 10-07."""
    landing = cdp_env.landing_dir
    for day in ("2026-10-05", "2026-10-06"):
        _drop(landing, "web", day, "events.jsonl", "{}\n")
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance)
        _apply_partition_requests(instance, landing_file_sensor(ctx))
        _drop(landing, "crm", "2026-10-01", "customers.csv", "customer_id\nC1\n")
        _drop(landing, "pos", "2026-10-07", "receipts.csv", "receipt_id\n")
        result = landing_file_sensor(dg.build_sensor_context(instance=instance, cursor=ctx.cursor))
        _apply_partition_requests(instance, result)
        assert _partitions(instance) == ["2026-10-05", "2026-10-06", "2026-10-01", "2026-10-07"]
        [request] = result.run_requests
        tags = request.tags
        with partition_loading_context(dynamic_partitions_store=instance):
            in_run = landing_date_partitions.get_partition_keys_in_range(
                dg.PartitionKeyRange(
                    tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]
                )
            )
        assert in_run == ["2026-10-01", "2026-10-07"]
        assert tags["cdp/last_landing_day"] == "2026-10-07"


def test_partition_range_tags_keep_the_night_as_of_the_latest_landed_day():
    known = ["2026-10-01", "2026-10-02", "2026-10-03"]
    assert partition_range_tags(known, ["2026-10-01"]) == {
        "dagster/asset_partition_range_start": "2026-10-01",
        "dagster/asset_partition_range_end": "2026-10-01",
        "cdp/last_landing_day": "2026-10-01",
    }
    late = partition_range_tags(known, ["2026-10-01"], "2026-10-03")
    assert late["dagster/asset_partition_range_end"] == "2026-10-01"  # loads the old day only
    assert late["cdp/last_landing_day"] == "2026-10-03"
    assert partition_range_tags(known, ["2026-10-02", "2026-10-03"], "2026-10-01")["cdp/last_landing_day"] == (
        "2026-10-03"
    )
