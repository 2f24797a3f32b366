"""Data arrives by itself: the 02:00 schedule and the landing-file sensor."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from cdp_pipeline.defs.automation import landing_file_sensor, nightly_schedule


def _drop(landing, source, day, name, text):
    d = landing / source / day
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text)
    return d / name


def test_sensor_requests_a_run_per_day_with_new_files_and_not_again(cdp_env):
    landing = cdp_env.landing_dir
    _drop(landing, "crm", "2026-10-01", "customers.csv", "customer_id\nC1\n")
    _drop(landing, "sms", "2026-10-02", "messages.csv", "From,To\n")
    _drop(landing, "sms", "2026-10-02", ".hidden.csv", "x")
    _drop(landing, "sms", "2026-10-02", "upload.csv.part", "x")

    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance)
        result = landing_file_sensor(ctx)
        assert [r.tags["dagster/asset_partition_range_start"] for r in result] == ["2026-10-01", "2026-10-02"]
        assert all(r.tags["dagster/asset_partition_range_start"] == r.tags["dagster/asset_partition_range_end"]
                   for r in result)
        cursor = ctx.cursor

        again = landing_file_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
        assert isinstance(again, dg.SkipReason)

        # A new delivery into an old day triggers that day only, with a run key from path + checksum.
        _drop(landing, "crm", "2026-10-01", "customers_late.csv", "customer_id\nC2\n")
        late = landing_file_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
        assert len(late) == 1 and late[0].tags["dagster/asset_partition_range_start"] == "2026-10-01"
        assert late[0].run_key != result[0].run_key


def test_schedule_reloads_last_three_days(cdp_env):
    landing = cdp_env.landing_dir
    for day in ("2026-10-01", "2026-10-05", "2026-10-07", "2026-10-08"):
        _drop(landing, "web", day, "events.jsonl", "{}\n")
    at = datetime(2026, 10, 8, 2, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    request = nightly_schedule(dg.build_schedule_context(scheduled_execution_time=at))
    assert request.tags["dagster/asset_partition_range_start"] == "2026-10-05"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-10-08"


def test_schedule_skips_when_nothing_landed(cdp_env):
    at = datetime(2026, 10, 8, 2, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    assert isinstance(nightly_schedule(dg.build_schedule_context(scheduled_execution_time=at)), dg.SkipReason)
