"""The run's mode (full refresh, as-of day), read from its tags by one helper."""

from datetime import date

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from cdp_pipeline.defs.automation import partition_range_tags
from cdp_pipeline.defs.run_mode import FULL_REFRESH_TAG, NO_NEW_FILES_TAG, RunMode, RunModeError


@pytest.mark.parametrize("value", ["true", "True", "TRUE", "1", "yes", " yes "])
def test_full_refresh_is_on_for_each_spelling_of_true(value):
    assert RunMode.of_tags({FULL_REFRESH_TAG: value}).full_refresh is True


@pytest.mark.parametrize("value", ["false", "False", "0", "no", ""])
def test_full_refresh_is_off_for_each_spelling_of_false_and_when_absent(value):
    assert RunMode.of_tags({FULL_REFRESH_TAG: value}).full_refresh is False
    assert RunMode.of_tags({}).full_refresh is False
    assert RunMode.of_tags(None) == RunMode(full_refresh=False, as_of=None, as_of_tag=None)


def test_no_new_files_is_read_as_full_refresh_is_and_off_by_default():
    assert RunMode.of_tags({NO_NEW_FILES_TAG: "true"}).no_new_files is True
    assert RunMode.of_tags({NO_NEW_FILES_TAG: "0"}).no_new_files is False
    assert RunMode.of_tags({}).no_new_files is False
    with pytest.raises(RunModeError, match=r"run tag cdp/no_new_files is 'maybe': write true or false"):
        RunMode.of_tags({NO_NEW_FILES_TAG: "maybe"})


@pytest.mark.parametrize("value", ["ture", "on", "full", "2"])
def test_a_malformed_full_refresh_tag_is_refused_naming_the_tag(value):
    with pytest.raises(RunModeError, match=rf"run tag cdp/full_refresh is '{value}': write true or false"):
        RunMode.of_tags({FULL_REFRESH_TAG: value})


def test_the_as_of_day_comes_from_the_last_landing_day_before_the_range_end_and_the_partition():
    # days added out of date order: the range ends on 2026-10-07, the latest day in it is 2026-10-08
    tags = partition_range_tags(["2026-10-05", "2026-10-08", "2026-10-07"], ["2026-10-05", "2026-10-07"])
    assert tags["dagster/asset_partition_range_end"] == "2026-10-07"
    assert RunMode.of_tags(tags) == RunMode(False, date(2026, 10, 8), "cdp/last_landing_day")
    assert RunMode.of_tags({"dagster/asset_partition_range_end": "2025-03-04", "dagster/partition": "2025-01-01"}) == (
        RunMode(False, date(2025, 3, 4), "dagster/asset_partition_range_end")
    )
    assert RunMode.of_tags({"dagster/partition": "2025-03-05"}).as_of == date(2025, 3, 5)
    assert RunMode.of_tags({"cdp/full_refresh": "true"}) == RunMode(True, None, None)


@pytest.mark.parametrize("tag", ["cdp/last_landing_day", "dagster/asset_partition_range_end", "dagster/partition"])
def test_a_malformed_day_is_refused_naming_the_tag(tag):
    with pytest.raises(RunModeError, match=rf"run tag {tag} is '2026-13-01', not a day written YYYY-MM-DD"):
        RunMode.of_tags({tag: "2026-13-01"})


def test_the_mode_of_a_dagster_run_is_that_of_its_tags_and_the_default_outside_a_run():
    with dg.instance_for_test() as instance:
        run = create_run_for_test(
            instance, job_name="nightly", tags={FULL_REFRESH_TAG: "yes", "cdp/last_landing_day": "2026-10-08"}
        )
    assert RunMode.of_run(run) == RunMode(True, date(2026, 10, 8), "cdp/last_landing_day")
    assert RunMode.of_run(None) == RunMode()
