"""The golden assets and checks in Dagster: materialise on a temporary DuckDB, checks pass and fail."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.golden.assets import CUSTOMERS, IDENTIFIER_CONSENT, TIMELINE, as_of_date_for_run, golden_tables
from cdp_pipeline.defs.golden.checks import GOLDEN_CHECKS, golden_check_result
from cdp_pipeline.defs.resources import settings_resource
from cdp_pipeline.defs.run_mode import RunMode
from cdp_pipeline.lib.raw.ledger import ensure_audit_tables
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.golden.world import load_world


@pytest.fixture
def world_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CDP_TIMEZONE", "UTC")
    path = tmp_path / "build.duckdb"
    con = duckdb.connect(str(path))
    load_world(con)
    con.close()
    return str(path)


def _materialize(path: str, tags: dict | None = None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [golden_tables, *GOLDEN_CHECKS],
        resources={"duckdb": DuckDBResource(database=path), "settings": settings_resource(get_settings())},
        tags=tags or {},
    )


def test_materialize_golden_tables_with_metadata_and_passing_checks(world_file):
    result = _materialize(
        world_file,
        {"dagster/asset_partition_range_start": "2025-01-08", "dagster/asset_partition_range_end": "2025-01-10"},
    )
    assert result.success
    meta = {m.asset_key: m.metadata for m in result.asset_materializations_for_node("golden_tables")}
    customers, timeline = meta[CUSTOMERS], meta[TIMELINE]
    assert customers["rows"].value == 4
    assert customers["as_of_date"].value == "2025-01-10"
    # C3's CRM opt-out dated after the cutoff counts in the ledger, so in C3's email_consent too (session 43)
    assert (
        customers["email_consent_granted"].value,
        customers["email_consent_revoked"].value,
        customers["email_consent_unknown"].value,
    ) == (1, 2, 1)
    # Cecilia's email consent is granted, but her CRM opt-out dated after the cutoff blocks the address
    assert (customers["email_contactable"].value, customers["sms_contactable"].value) == (1, 1)
    # the ledger: 4 addresses (anna.new@mail.se unsubscribed, cecilia@mail.se opted out after the cutoff:
    # blocked) and 1 number
    assert (meta[IDENTIFIER_CONSENT]["rows"].value, meta[IDENTIFIER_CONSENT]["blocked"].value) == (5, 2)
    assert customers["total_spend"].value == pytest.approx(750.0)
    assert customers["preview"].value.count("\n") == 2 + 4 - 1  # header, rule, 4 rows
    assert timeline["rows"].value == 30  # the 19 groups of test_timeline.py
    checks = {e.asset_check_key.name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "one_row_per_customer": True,
        "rows_have_source_records": True,
        "trait_sanity": True,
        "money_in_one_currency": True,
        "every_event_once": True,
    }
    con = duckdb.connect(world_file, read_only=True)
    assert con.execute("SELECT DISTINCT as_of_date FROM golden.customers").fetchall() == [(date(2025, 1, 10),)]
    con.close()


def test_the_warehouse_currency_setting_reaches_the_traits_and_the_check(world_file, monkeypatch):
    # every order of the world is in SEK: in a EUR warehouse (CDP_CURRENCY=EUR) none adds to spend, and
    # money_in_one_currency warns about the 5 orders of mapped records before the cutoff (test_traits.py)
    monkeypatch.setenv("CDP_CURRENCY", "EUR")
    result = _materialize(
        world_file,
        {"dagster/asset_partition_range_start": "2025-01-08", "dagster/asset_partition_range_end": "2025-01-10"},
    )
    assert result.success
    meta = {m.asset_key: m.metadata for m in result.asset_materializations_for_node("golden_tables")}
    assert meta[CUSTOMERS]["total_spend"].value == 0
    (check,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "money_in_one_currency"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    figures = {k: v.value for k, v in check.metadata.items() if k != "remedy"}
    assert figures == {
        "warehouse_currency": "EUR",
        "orders_not_in_warehouse_currency": 5,
        "customers_with_such_orders": 2,
        "customers_mixing_currencies": 0,
    }


def test_without_a_partition_the_latest_staging_event_day_is_used(world_file):
    result = _materialize(world_file)
    assert result.success
    meta = {m.asset_key: m.metadata for m in result.asset_materializations_for_node("golden_tables")}
    # The latest event in the world is the receipt of 2025-01-12 15:00 UTC.
    assert meta[CUSTOMERS]["as_of_date"].value == "2025-01-12"
    assert meta[CUSTOMERS]["as_of_from"].value == "latest event in staging"


def test_a_rerun_without_a_partition_or_of_an_old_one_is_as_of_the_latest_landing_day_loaded_as_the_night(world_file):
    # The UI's Materialize of golden (or of golden and what follows) after a night names no day.
    # The night that loaded the files up to 2025-01-10 was as of that day (its cdp/last_landing_day);
    # the latest event (the receipt of 2025-01-12) is later. The rematerialisation must give the
    # night's tables, not count events the night left out and date segments and exports 2025-01-12.
    con = duckdb.connect(world_file)
    ensure_audit_tables(con)
    for day, status in (("2025-01-09", "loaded"), ("2025-01-10", "loaded"), ("2025-01-11", "rejected")):
        con.execute(
            "INSERT INTO audit.files (file, source, landing_date, sha256, bytes, rows_read, rows_loaded, "
            "rows_quarantined, status, loaded_at) VALUES (?, 'crm', ?, 'x', 1, 1, 1, 0, ?, now())",
            [f"crm/{day}/customers.csv", day, status],
        )
    con.close()
    night = _materialize(world_file, {"cdp/last_landing_day": "2025-01-10"})
    with duckdb.connect(world_file, read_only=True) as con:
        night_rows = con.execute(TABLE_FINGERPRINT).fetchall()
    rerun = _materialize(world_file)
    assert night.success and rerun.success
    meta = {m.asset_key: m.metadata for m in rerun.asset_materializations_for_node("golden_tables")}
    assert meta[CUSTOMERS]["as_of_date"].value == "2025-01-10"
    assert meta[CUSTOMERS]["as_of_from"].value == "latest landing day loaded"
    with duckdb.connect(world_file, read_only=True) as con:
        assert con.execute(TABLE_FINGERPRINT).fetchall() == night_rows
    # The UI's backfill of one old landing day (the partition 2025-01-09, the whole job) loads that
    # day again, but the night stays as of the latest day loaded, as `cdp run --day` keeps it.
    backfill = _materialize(world_file, {"dagster/partition": "2025-01-09"})
    assert backfill.success
    meta = {m.asset_key: m.metadata for m in backfill.asset_materializations_for_node("golden_tables")}
    assert meta[CUSTOMERS]["as_of_date"].value == "2025-01-10"
    assert meta[CUSTOMERS]["as_of_from"].value == "latest landing day loaded (run tag dagster/partition is 2025-01-09)"
    with duckdb.connect(world_file, read_only=True) as con:
        assert con.execute(TABLE_FINGERPRINT).fetchall() == night_rows


# Every golden table's rows, order-independent (run-time columns: none in these tables' contents).
TABLE_FINGERPRINT = (
    "SELECT (SELECT count(*) FROM golden.customer_timeline), "
    "(SELECT sum(hash(t)) FROM golden.customer_timeline t), "
    "(SELECT sum(hash(c)) FROM golden.customers c), "
    "(SELECT sum(hash(i)) FROM golden.identifier_consent i)"
)


def test_as_of_date_for_run():
    def never():
        raise AssertionError("the latest event is looked up only when the run names no day")

    def of(tags):
        return RunMode.of_tags(tags)

    assert as_of_date_for_run(of({"dagster/asset_partition_range_end": "2025-03-04"}), never) == (
        date(2025, 3, 4),
        "run tag dagster/asset_partition_range_end",
    )
    assert as_of_date_for_run(of({"dagster/partition": "2025-03-05"}), never)[0] == date(2025, 3, 5)
    assert as_of_date_for_run(of({}), lambda: date(2025, 1, 1)) == (date(2025, 1, 1), "latest event in staging")
    # a run naming no day: the latest landing day loaded first, the latest event only without a ledger
    assert as_of_date_for_run(of({}), never, lambda: date(2025, 1, 2)) == (
        date(2025, 1, 2),
        "latest landing day loaded",
    )
    assert as_of_date_for_run(of({"cdp/last_landing_day": "2025-01-03"}), never, never)[0] == date(2025, 1, 3)
    # a partition older than the latest landing day loaded (a backfill): the latest day loaded
    assert as_of_date_for_run(of({"dagster/partition": "2025-01-01"}), never, lambda: date(2025, 1, 2))[0] == date(
        2025, 1, 2
    )
    # a partition newer than every day loaded (its files are loaded by this run): the partition
    assert as_of_date_for_run(of({"dagster/partition": "2025-01-05"}), never, lambda: date(2025, 1, 2))[0] == date(
        2025, 1, 5
    )


def test_with_no_data_at_all_the_as_of_date_is_today_in_the_business_time_zone():
    # The two zones are 25 hours apart: their dates always differ, so the machine's date cannot pass
    # for both. Read before and after, in case midnight passes in between.
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        before = datetime.now(ZoneInfo(zone)).date()
        day, origin = as_of_date_for_run(RunMode.of_tags({}), lambda: None, lambda: None, zone)
        assert day in {before, datetime.now(ZoneInfo(zone)).date()}
        assert origin == f"today in {zone} (no events in staging)"


def test_assets_are_in_group_golden_with_upstream_deps():
    specs = {s.key: s for s in golden_tables.specs}
    assert set(specs) == {CUSTOMERS, TIMELINE, IDENTIFIER_CONSENT}
    assert IDENTIFIER_CONSENT in {d.asset_key for d in specs[CUSTOMERS].deps}
    assert {s.group_name for s in specs.values()} == {"golden"}
    assert dg.AssetKey(["identity", "customer_map"]) in {d.asset_key for d in specs[CUSTOMERS].deps}
    assert dg.AssetKey(["staging", "orders"]) in {d.asset_key for d in specs[TIMELINE].deps}


def _check(name: str, path: str) -> dg.AssetCheckResult:
    with duckdb.connect(path) as con:
        return golden_check_result(con, name, get_settings())


def test_checks_fail_on_broken_tables(world_file):
    assert _materialize(world_file, {"dagster/partition": "2025-01-10"}).success
    con = duckdb.connect(world_file)
    # A customer the identity layer knows but golden lost, and a golden row of nobody.
    con.execute("UPDATE golden.customers SET customer_id = 'C-ghost', record_count = 0 WHERE customer_id = 'C4'")
    con.execute(
        "UPDATE golden.customers SET total_spend = -1, last_seen = first_seen - INTERVAL 1 DAY WHERE customer_id = 'C2'"
    )
    con.execute("DELETE FROM golden.customer_timeline WHERE event_ref = 'order:#2001'")
    con.close()
    result = _check("one_row_per_customer", world_file)
    assert not result.passed and result.metadata["missing"].value == 1 and result.metadata["unmapped"].value == 1
    result = _check("rows_have_source_records", world_file)
    assert not result.passed and "C-ghost" in result.metadata["customers_without_records_sample"].value
    result = _check("trait_sanity", world_file)
    assert not result.passed
    assert result.metadata["negative_spend"].value == 1 and result.metadata["last_seen_before_first_seen"].value == 1
    result = _check("every_event_once", world_file)
    assert not result.passed and result.metadata["orders_missing"].value == 1


@pytest.mark.parametrize(
    "change, expected",
    [
        ("", []),
        ("UPDATE golden.customers SET record_count = 0 WHERE customer_id = 'C2'", ["C2"]),
        ("UPDATE golden.customers SET sources = [] WHERE customer_id = 'C3'", ["C3"]),
        ("UPDATE golden.customers SET customer_id = 'C-ghost' WHERE customer_id = 'C4'", ["C-ghost"]),
    ],
)
def test_rows_without_records_are_found_with_or_without_the_coverage_check_before(world_file, change, expected):
    """In the golden_checks step, rows_have_source_records reads the map only when one_row_per_customer,
    run before it, found a golden row of an unmapped customer: the same rows are listed either way."""
    assert _materialize(world_file, {"dagster/partition": "2025-01-10"}).success
    with duckdb.connect(world_file) as con:
        if change:
            con.execute(change)
        alone = golden_check_result(con, "rows_have_source_records", get_settings())
        earlier = {}
        coverage = golden_check_result(con, "one_row_per_customer", get_settings(), earlier)
        after = golden_check_result(con, "rows_have_source_records", get_settings(), earlier)
    assert coverage.passed == ("ghost" not in change)
    assert set(earlier) == {"one_row_per_customer", "rows_have_source_records"}
    for result in (alone, after):
        assert result.passed == (not expected)
        assert result.metadata["customers_without_records_sample"].value == (", ".join(expected) or "none")


def test_checks_fail_when_golden_was_never_built(tmp_path):
    path = str(tmp_path / "empty.duckdb")
    duckdb.connect(path).close()
    assert not _check("one_row_per_customer", path).passed


def test_the_checks_are_one_step_that_runs_any_one_alone(world_file):
    assert _materialize(world_file).success
    (check,) = GOLDEN_CHECKS
    assert check.can_subset and {k.name for k in check.check_keys} == {
        "one_row_per_customer",
        "rows_have_source_records",
        "trait_sanity",
        "money_in_one_currency",
        "every_event_once",
    }
    result = dg.materialize(
        GOLDEN_CHECKS,
        resources={"duckdb": DuckDBResource(database=world_file), "settings": settings_resource(get_settings())},
        selection=dg.AssetSelection.checks(dg.AssetCheckKey(TIMELINE, "every_event_once")),
    )
    assert result.success
    assert [(e.asset_key, e.check_name, e.passed) for e in result.get_asset_check_evaluations()] == [
        (TIMELINE, "every_event_once", True)
    ]
