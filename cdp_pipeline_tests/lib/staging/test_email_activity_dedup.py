"""staging.email_activity keeps one row per activity (its activity_id) over hand-made raw rows,
with answers by hand: the row with the first campaign title, a title before none, and among
rows whose id coincides (concat_ws skips a NULL: a campaign and a URL can swap places) a value
before none, field by field in the order create_email_activity.sql names them."""

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.staging.test_identity_records_aggregates import _insert


def _activity(con, rows: list[dict]) -> None:
    _insert(
        con,
        "esp_activity",
        [
            {"_line": line, "email_address": "anna@example.se", "action": "open", "timestamp": "2026-10-01T10:00:00Z"}
            | row
            for line, row in enumerate(rows, start=1)
        ],
        "2026-10-02",
        "esp/2026-10-02/activity.csv",
    )


def _rows(con):
    settings = get_settings()
    build_staging_table(con, SQL_DIR, "identity_records", settings, full_refresh=True)
    build_staging_table(con, SQL_DIR, "email_activity", settings, full_refresh=True)
    return con.execute(
        "SELECT action, campaign_id, campaign_title, url FROM staging.email_activity ORDER BY action, campaign_id"
    ).fetchall()


def test_an_activity_delivered_again_keeps_its_first_title_and_a_title_before_none(con):
    _activity(
        con,
        [
            {"campaign_id": "c1", "campaign_title": None},
            {"campaign_id": "c1", "campaign_title": "October B"},
            {"campaign_id": "c1", "campaign_title": " October A "},  # trimmed: first
            {"campaign_id": "c2", "campaign_title": None},
            {"campaign_id": "c2", "campaign_title": ""},  # blank is none
            {"action": "click", "campaign_id": "c3", "campaign_title": "  "},
            {"action": "click", "campaign_id": "c3", "campaign_title": "Z"},
        ],
    )
    assert _rows(con) == [
        ("click", "c3", "Z", None),
        ("open", "c1", "October A", None),
        ("open", "c2", None, None),
    ]


def test_rows_whose_ids_coincide_keep_a_value_before_none_field_by_field(con):
    # the same activity_id: concat_ws skips the NULL campaign of one and the NULL URL of the other
    _activity(
        con,
        [
            {"campaign_id": None, "url": "x"},
            {"campaign_id": "x", "url": None},
        ],
    )
    assert _rows(con) == [("open", "x", None, None)]
