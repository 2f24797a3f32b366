"""Metadata previews show the shape of personal data, never the data (they live in Dagster's log)."""

import duckdb

from cdp_pipeline.lib.common.previews import markdown_table, mask_value, table_preview


def test_personal_columns_are_masked_and_the_rest_kept():
    md = markdown_table(
        ["source", "source_record_id", "first_name", "email", "phone", "event_name", "total"],
        [("crm", "C100471", "Åsa", "asa.oberg@example.se", "+46701234567", "page_view", 349)],
    )
    row = md.splitlines()[2]
    for secret in ("C100471", "Åsa", "asa.oberg", "+46701234567"):
        assert secret not in row
    for kept in ("crm", "page_view", "349", "@example.se", "+46", "67"):
        assert kept in row


def test_mask_value_shapes():
    assert mask_value("anna@firma.se") == "a•••@firma.se"
    assert mask_value("+46701234567") == "+46•••••••67"
    assert mask_value("Lindqvist") == "L••••••"
    assert mask_value("") == ""


def test_table_preview_of_a_staging_table_hides_people(tmp_path):
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT 'esp' AS source, 'kim.l@example.org' AS email, "
        "'Kim Lindqvist' AS billing_name, 'open' AS action"
    )
    md = table_preview(con, "t")
    assert "kim.l@" not in md and "Lindqvist" not in md and "open" in md and "esp" in md
