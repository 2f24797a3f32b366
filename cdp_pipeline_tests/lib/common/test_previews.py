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


# The columns of staging.identity_records that hold a person's values (record ids, which name a
# source's record rather than a person, are left out), and how short a value may be and still be
# looked for (shorter ones stand in other columns by chance).
PERSONAL_RECORD_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "birth_date",
    "loyalty_card_id",
    "crm_customer_id",
    "web_user_id",
)
SHORTEST_VALUE_SOUGHT = 4


def test_no_preview_of_any_table_of_the_fixture_world_shows_a_persons_value():
    """Every table of a world built through golden, previewed whole: none of its people's names,
    addresses, identifiers or birth dates appears unmasked, under whatever column it stands."""
    from cdp_pipeline.lib.golden.build import build_golden
    from cdp_pipeline_tests.lib.golden.world import AS_OF, world_db

    con = world_db()
    build_golden(con, AS_OF, tz="UTC")
    values = {
        v
        for column in PERSONAL_RECORD_COLUMNS
        for (v,) in con.execute(f"SELECT DISTINCT CAST({column} AS VARCHAR) FROM staging.identity_records").fetchall()
    }
    values |= {v for (v,) in con.execute("SELECT DISTINCT unnest(cookies) FROM staging.identity_records").fetchall()}
    sought = {v for v in values if v is not None and len(v) >= SHORTEST_VALUE_SOUGHT}
    assert {"anna@crm.se", "+46701111111", "Svensson", "1985-03-03", "Storgatan 1"} <= sought  # the world's people
    tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL").fetchall()
    assert ("golden", "customer_timeline") in tables and ("staging", "consent_events") in tables
    shown = {}
    for schema, table in tables:
        preview = table_preview(con, f"{schema}.{table}", limit=10_000)
        shown[f"{schema}.{table}"] = sorted(v for v in sought if v in preview)
    assert {table: found for table, found in shown.items() if found} == {}
    con.close()
