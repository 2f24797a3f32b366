"""Issue 8, point 3, end to end: a night that loads only the new landing day and scores only
changed records publishes the same warehouse, customer IDs and export files as a
``--full-refresh`` night (every day reloaded, every pair rescored) over the same input.

Both nights start from night 1 (the first two landing days) in separate folders; the third
day arrives in both; one runs ``cdp run``, the other ``cdp run --full-refresh``, side by side.
"""

import duckdb
import pytest

from cdp_pipeline_tests.reliability.conftest import landing_days, lay_landing
from cdp_pipeline_tests.reliability.harness import (
    customer_ids,
    diff_hashes,
    export_files,
    finish,
    start_run,
    warehouse_hashes,
)

pytestmark = pytest.mark.slow

# What legitimately differs: the log of identity runs says how each night scored.
RUN_LOGS = {"identity.runs"}
# and the records' numbers: a quiet night keeps last night's, a full refresh numbers afresh
# (lib/identity/record_numbers.py); the same keys either way
RECORD_NUMBERS = {
    "identity.record_numbers": ("rid",),
    "identity.scored_records": ("rid",),
    "identity.scored_pairs": ("rid_l", "rid_r"),
}


@pytest.fixture(scope="module")
def nights(night1_pair, sample_landing, tmp_path_factory):
    night1, _ = night1_pair
    base = tmp_path_factory.mktemp("incremental")
    incremental, full = night1.copy_to(base / "incremental"), night1.copy_to(base / "full")
    for night in (incremental, full):
        lay_landing(sample_landing, night.landing, landing_days(sample_landing)[-1:])
    procs = [start_run(incremental), start_run(full, "--full-refresh")]
    outcomes = [finish(p) for p in procs]
    for o in outcomes:
        assert o.returncode == 0, o.stderr[-3000:]
    return {
        "incremental": (incremental, outcomes[0]),
        "full": (full, outcomes[1]),
        "new_day": landing_days(sample_landing)[-1],
        "all_days": landing_days(sample_landing),
    }


def _runs_row(night):
    con = duckdb.connect(str(night.warehouse), read_only=True)
    try:
        return con.execute("""SELECT scoring, records_rescored, model_retrained, records FROM identity.runs
                              ORDER BY "at" DESC LIMIT 1""").fetchall()[0]
    finally:
        con.close()


def test_the_quiet_night_loads_only_the_new_day_and_scores_only_changed_records(nights):
    night, outcome = nights["incremental"]
    assert f"landing days {nights['new_day']} … {nights['new_day']}" in outcome.stdout[0]
    scoring, rescored, retrained, records = _runs_row(night)
    assert (scoring, retrained) == ("incremental", False)
    assert 0 < rescored < records / 2


def _staging_build(night) -> dict:
    """The metadata of the latest staging/identity_records materialisation in the night's instance."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(night.home)) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["staging", "identity_records"]))
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def test_the_quiet_night_rebuilds_only_the_touched_staging_records(nights):
    quiet, full = _staging_build(nights["incremental"][0]), _staging_build(nights["full"][0])
    assert quiet["build"] == "incremental" and full["build"] == "full"
    assert 0 < quiet["records_rebuilt"] < quiet["rows"] / 2
    assert full["records_rebuilt"] == full["rows"] == quiet["rows"]


def test_the_full_refresh_reloads_every_day_and_rescores_everything(nights):
    night, outcome = nights["full"]
    days = nights["all_days"]
    assert f"landing days {days[0]} … {days[-1]}" in outcome.stdout[0]
    scoring, rescored, retrained, records = _runs_row(night)
    assert (scoring, retrained) == ("full", False)
    assert rescored > 0


def test_both_nights_publish_the_same_tables(nights):
    inc = warehouse_hashes(nights["incremental"][0].warehouse, exclude=RECORD_NUMBERS)
    full = warehouse_hashes(nights["full"][0].warehouse, exclude=RECORD_NUMBERS)
    diff = {t: v for t, v in diff_hashes(inc, full).items() if t not in RUN_LOGS}
    assert diff == {}
    assert "identity.scored_pairs" in inc and "golden.customers" in inc and "identity.record_numbers" in inc


def test_both_nights_keep_the_same_customer_ids_and_write_the_same_exports(nights):
    inc, full = nights["incremental"][0], nights["full"][0]
    assert customer_ids(inc.warehouse) == customer_ids(full.warehouse)
    assert export_files(inc.exports) == export_files(full.exports)
