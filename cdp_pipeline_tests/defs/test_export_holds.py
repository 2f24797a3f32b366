"""Fail closed: an unreadable ESP, SMS or CRM file holds the destinations its channel feeds."""

import csv
import hashlib
from datetime import date

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.activation import assets as activation_assets
from cdp_pipeline.defs.activation.checks import exported_rows_have_consent, no_destination_held
from cdp_pipeline.defs.resources import settings_resource
from cdp_pipeline.defs.segments import assets as segment_assets
from cdp_pipeline.lib.activation.holds import ACKNOWLEDGEMENTS_FILE_NAME
from cdp_pipeline.lib.audit.requests import read_requests
from cdp_pipeline.lib.raw import load_partition
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.segments.golden_fixture import sample_customers, write_golden

ASSETS = [
    segment_assets.segment_evaluation,
    segment_assets.segment_history,
    segment_assets.segment_sizes,
    activation_assets.export_members,
    activation_assets.export_log,
]
DESTINATIONS = ("google_winback", "meta_top_spenders", "newsletter", "pos_loyalty_flags", "sms_offers")
DAY1, DAY2 = date(2025, 6, 1), date(2025, 6, 2)


@pytest.fixture
def db(cdp_env):
    return DuckDBResource(database=str(cdp_env.build_db))


def _night(db, day):
    with db.get_connection() as con:
        write_golden(con, sample_customers(day))
    result = dg.materialize(
        [*ASSETS, exported_rows_have_consent, no_destination_held],
        resources={"duckdb": db, "settings": settings_resource(get_settings())},
    )
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _exported_on(cdp_env, day) -> set[str]:
    return {d for d in DESTINATIONS if (cdp_env.export_dir / d / day.isoformat() / "manifest.json").exists()}


def _land(cdp_env, db, source, name, data: bytes, day=DAY2) -> str:
    folder = cdp_env.landing_dir / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    with db.get_connection() as con:
        load_partition(con, cdp_env.landing_dir, source, day, suppression=[])
    return f"{source}/{day.isoformat()}/{name}"


def _snapshot(cdp_env) -> dict[str, bytes]:
    return {
        str(p.relative_to(cdp_env.export_dir)): p.read_bytes()
        for p in sorted(cdp_env.export_dir.rglob("*"))
        if p.is_file()
    }


GARBAGE = bytes(range(256)) * 8  # not text in any encoding: the whole file is rejected
SMS_HEADER = b"from,to,body,status,direction,date_sent\n"
SMS_HEJ = b"+46701234567,+46700000000,Hej,received,inbound,2025-06-02T10:00:00Z\n"


def test_a_rejected_crm_file_holds_email_and_sms_destinations_until_acknowledged(cdp_env, db):
    checks = _night(db, DAY1)
    assert _exported_on(cdp_env, DAY1) == set(DESTINATIONS)
    assert checks["no_destination_held"].passed
    yesterday = _snapshot(cdp_env)

    path = _land(cdp_env, db, "crm", "customers_20250602.csv", GARBAGE)
    checks = _night(db, DAY2)
    # Every destination using email or SMS keeps yesterday's files, untouched; POS contacts nobody.
    assert _exported_on(cdp_env, DAY2) == {"pos_loyalty_flags"}
    assert {k: v for k, v in _snapshot(cdp_env).items() if "2025-06-02" not in k} == yesterday
    held = checks["no_destination_held"]
    assert held.passed is False and held.severity == dg.AssetCheckSeverity.WARN
    assert held.metadata["destinations_held"].value == "google_winback, meta_top_spenders, newsletter, sms_offers"
    table = held.metadata["holds"].value
    assert path in table and "consent_acknowledgements.csv" in table and "fix the file" in table
    # The blocking consent check passes: held files are not re-sent.
    assert checks["exported_rows_have_consent"].passed
    with db.get_connection() as con:
        rows = con.execute(
            "SELECT destination, channel, file, file_sha256 FROM audit.export_holds WHERE run_date = ? ORDER BY ALL",
            [DAY2],
        ).fetchall()
    sha = hashlib.sha256(GARBAGE).hexdigest()
    assert rows == [
        ("google_winback", "email", path, sha),
        ("google_winback", "sms", path, sha),
        ("meta_top_spenders", "email", path, sha),
        ("meta_top_spenders", "sms", path, sha),
        ("newsletter", "email", path, sha),
        ("sms_offers", "sms", path, sha),
    ]

    # Acknowledged in the inbox (by SHA-256): the night exports everywhere again.
    cdp_env.inbox_dir.mkdir(parents=True, exist_ok=True)
    with open(cdp_env.inbox_dir / ACKNOWLEDGEMENTS_FILE_NAME, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(
            [
                ["file", "sha256", "acknowledged_by", "note"],
                ["", sha, "ops", "CRM confirmed the export was a test file"],
            ]
        )
    assert read_requests(cdp_env.inbox_dir) == []  # not an erasure request file
    checks = _night(db, DAY2)
    assert _exported_on(cdp_env, DAY2) == set(DESTINATIONS)
    assert checks["no_destination_held"].passed and checks["exported_rows_have_consent"].passed
    with db.get_connection() as con:
        assert con.execute("SELECT count(*) FROM audit.export_holds WHERE run_date = ?", [DAY2]).fetchall() == [(0,)]


def test_an_unreadable_esp_file_holds_only_email_destinations(cdp_env, db):
    _night(db, DAY1)
    path = _land(cdp_env, db, "esp", "unsubscribed_members_export_abc123.csv", GARBAGE)
    checks = _night(db, DAY2)
    assert _exported_on(cdp_env, DAY2) == {"sms_offers", "pos_loyalty_flags"}
    assert (
        checks["no_destination_held"].metadata["destinations_held"].value
        == "google_winback, meta_top_spenders, newsletter"
    )
    assert path in checks["no_destination_held"].metadata["holds"].value


def test_a_file_fixed_in_place_releases_the_hold(cdp_env, db):
    _night(db, DAY1)
    _land(cdp_env, db, "sms", "sms_log_20250602.csv", GARBAGE)
    assert not _night(db, DAY2)["no_destination_held"].passed
    assert _exported_on(cdp_env, DAY2) == {"pos_loyalty_flags", "newsletter"}
    _land(cdp_env, db, "sms", "sms_log_20250602.csv", SMS_HEADER + SMS_HEJ)
    assert _night(db, DAY2)["no_destination_held"].passed
    assert _exported_on(cdp_env, DAY2) == set(DESTINATIONS)


def test_rows_that_cannot_carry_an_opt_out_hold_nothing_and_rows_that_can_do(cdp_env, db):
    _night(db, DAY1)
    # A broken SMS row that is a conversation, not a keyword reply: warned about, holds nothing.
    _land(
        cdp_env,
        db,
        "sms",
        "sms_log_20250602.csv",
        SMS_HEADER + SMS_HEJ + b'+46701234568,+46700000000,"Ring mig,received,inbound,2025-06-02T11:00:00Z\n',
    )
    checks = _night(db, DAY2)
    assert checks["no_destination_held"].passed
    assert "sms/2025-06-02/sms_log_20250602.csv" in checks["no_destination_held"].metadata["unread_consent_files"].value
    # The same broken row replying STOP could be an opt-out: SMS destinations are held.
    _land(
        cdp_env,
        db,
        "sms",
        "sms_log_20250602.csv",
        SMS_HEADER + SMS_HEJ + b'+46701234568,+46700000000,"STOP,received,inbound,2025-06-02T11:00:00Z\n',
    )
    checks = _night(db, DAY2)
    assert (
        checks["no_destination_held"].metadata["destinations_held"].value
        == "google_winback, meta_top_spenders, sms_offers"
    )


def test_a_clean_night_holds_nothing(cdp_env, db):
    _land(cdp_env, db, "sms", "sms_log_20250602.csv", SMS_HEADER + SMS_HEJ)
    checks = _night(db, DAY2)
    assert checks["no_destination_held"].passed
    assert checks["no_destination_held"].metadata["unread_consent_files"].value == "none"
    assert _exported_on(cdp_env, DAY2) == set(DESTINATIONS)


def test_the_nights_unread_files_and_holds_are_warnings_in_the_ui_and_the_run_summary(cdp_env, db):
    from cdp_pipeline.defs.audit import assets as audit_assets
    from cdp_pipeline.defs.partitions import LANDING_DAYS
    from cdp_pipeline.defs.raw import assets as raw_assets
    from cdp_pipeline.lib.common.run_summary import night_warnings

    _night(db, DAY1)
    crm = _land(cdp_env, db, "crm", "customers_20250602.csv", GARBAGE)
    sms = _land(
        cdp_env,
        db,
        "sms",
        "sms_log_20250602.csv",
        SMS_HEADER + SMS_HEJ + b'+46701234568,+46700000000,"Ring mig,received,inbound,2025-06-02T11:00:00Z\n',
    )
    with dg.instance_for_test() as instance:
        # The landing day is a partition, as the sensor or `cdp run` makes it.
        instance.add_dynamic_partitions(LANDING_DAYS, [DAY2.isoformat()])
        result = dg.materialize(
            [raw_assets.raw_sources, audit_assets.audit_files],
            selection=dg.AssetSelection.assets(
                dg.AssetKey(["raw", "crm_customers"]), dg.AssetKey(["raw", "sms_messages"]), audit_assets.audit_files
            ),
            resources={"duckdb": db, "settings": settings_resource(get_settings())},
            instance=instance,
            partition_key=DAY2.isoformat(),
        )
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "every_file_read_whole" and check.passed is False
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["files_rejected"].value == 1 and check.metadata["files_with_rows_quarantined"].value == 1
    assert crm in check.metadata["files"].value and sms in check.metadata["files"].value

    _night(db, DAY2)
    with db.get_connection() as con:
        lines = night_warnings(con, DAY2.isoformat(), DAY2.isoformat())
        assert night_warnings(con, DAY1.isoformat(), DAY1.isoformat()) == [
            line for line in lines if line.startswith("destinations held")
        ]  # holds are tonight's, not the day's
    assert lines[0].startswith(f"file rejected: {crm}: binary content")
    assert lines[1] == f"1 row(s) quarantined: {sms}"
    assert lines[2].startswith(
        "destinations held (files not refreshed): google_winback, meta_top_spenders, "
        f"newsletter, sms_offers, by {crm}; to release: fix the file"
    )
    assert len(lines) == 3


def test_a_broken_crm_line_holds_unless_the_same_file_delivers_its_record_readable(cdp_env, db):
    _night(db, DAY1)
    header = b"customer_id,email,street,consent_email,consent_sms\n"
    good = b"C-1,anna@example.se,Storgatan 1,yes,yes\n"
    # One field too many (an unquoted comma in the street): its consent columns cannot be trusted.
    _land(
        cdp_env, db, "crm", "customers_20250602.csv", header + good + b"C-1,anna@example.se,Storgatan 1, lgh 2,no,no\n"
    )
    checks = _night(db, DAY2)
    assert checks["no_destination_held"].passed  # a damaged copy of C-1, which the file delivers readable
    assert "none can carry an opt-out" in checks["no_destination_held"].metadata["unread_consent_files"].value
    _land(cdp_env, db, "crm", "customers_20250602.csv", header + good + b"C-2,bo@example.se,Storgatan 1, lgh 2,no,no\n")
    checks = _night(db, DAY2)
    assert (
        checks["no_destination_held"].metadata["destinations_held"].value
        == "google_winback, meta_top_spenders, newsletter, sms_offers"
    )
    assert "its consent columns cannot be read" in checks["no_destination_held"].metadata["holds"].value
