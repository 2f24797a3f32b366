"""Find a customer by every identifier kind; the profile and its terminal rendering."""

import json
import sys

import pytest

from cdp_pipeline.lib.golden import lookup
from cdp_pipeline.lib.golden.customer_view import customer_profile, format_profile, profile_json

REGION = "SE"  # the sample's numbers are Swedish


@pytest.mark.parametrize(
    "identifier, customer, kind",
    [
        ("C1", "C1", "customer_id"),
        ("  Anna@CRM.se ", "C1", "email"),
        ("ANNA.NEW@MAIL.SE", "C1", "email"),
        ("+46701111111", "C1", "phone"),
        ("070-111 11 11", "C1", "phone"),
        ("+46 (0)70 111 11 11", "C1", "phone"),
        ("0046701111111", "C1", "phone"),
        ("701111111", "C1", "phone"),
        ("L-1", "C1", "loyalty_card_id"),
        ("100", "C1", "crm_customer_id"),
        ("300", "C3", "crm_customer_id"),
        ("ck4", "C4", "cookie"),
        ("order:#2001", "C2", "source_record_id"),
        ("pos:order:#2001", "C2", "source_record_id"),  # as the profile's provenance writes it
        ("leid-c", "C3", "source_record_id"),
    ],
)
def test_find_customer_by_any_identifier(world, identifier, customer, kind):
    match = lookup.find_customer(world, identifier, REGION)
    assert (match.customer_id, match.matched_on) == (customer, kind)


@pytest.mark.parametrize("identifier", ["nobody@x.se", "0700000001", "", "   ", "C9", "12"])
def test_unknown_identifiers_find_nothing(world, identifier):
    assert lookup.find_customer(world, identifier, REGION) is None
    assert customer_profile(world, identifier, default_region=REGION) is None


def test_phone_lookup_falls_back_to_digits_without_the_normaliser(world, monkeypatch):
    monkeypatch.setitem(sys.modules, "cdp_pipeline.lib.staging.phone", None)  # import fails
    assert lookup.normalise_phone("070-111 11 11", REGION) is None
    for text in ("070-111 11 11", "+46 70 111 11 11", "0046701111111", "46701111111"):
        assert lookup.find_customer(world, text, REGION).customer_id == "C1", text
    assert lookup.find_customer(world, "111 11", REGION) is None  # too short to mean a number


def test_profile_has_record_provenance_consent_sources_and_latest_timeline(world):
    p = customer_profile(world, "L-1", default_region=REGION, timeline_limit=3)
    assert p["customer_id"] == "C1" and p["matched_on"] == "loyalty_card_id"
    assert p["attributes"]["email"] == "anna@crm.se"  # anna.new@mail.se is unsubscribed: blocked
    assert p["provenance"]["street"] == {"source": "pos", "source_record_id": "order:#1001"}
    assert p["consent"]["email_consent"] == "revoked" and p["consent"]["sms_contactable"] is True
    assert p["traits"]["orders_count"] == 3 and p["traits"]["total_spend"] == 650.0
    assert [(r["source"], r["source_record_id"]) for r in p["source_records"]][:2] == [
        ("crm", "100"),
        ("esp", "leid-a"),
    ]
    assert [e["event_ref"] for e in p["timeline"]] == ["receipt:S1:R2", "w3", "w2"]
    assert json.loads(profile_json(p))["as_of_date"] == "2025-01-10"


def test_format_profile_is_readable(world):
    text = format_profile(customer_profile(world, "bo@x.se", default_region=REGION))
    assert text.startswith("Bo Ek  ·  C2  (as of 2025-01-10; matched on email bo@x.se)")
    for section in (
        "Golden record",
        "Identifiers",
        "Consent",
        "Traits",
        "Source records (2)",
        "Latest timeline entries (2)",
    ):
        assert section in text
    assert "email  granted  at 2025-01-06 10:00:00 from pos; contactable: yes" in text


def test_lookup_without_golden_tables_finds_nothing():
    import duckdb

    assert lookup.find_customers(duckdb.connect(), "C1", REGION) == []


def test_a_customer_id_merged_away_finds_the_customer_it_lives_on(fresh_world):
    """`cdp customer OLD_ID`: an id merged into another on a later night follows identity.id_history,
    through a second merge too; a retired id, or one never known, finds nothing."""
    con = fresh_world
    con.execute("""CREATE TABLE identity.id_history (run_id VARCHAR, customer_id VARCHAR, event VARCHAR,
                   related_customer_id VARCHAR, "at" TIMESTAMP)""")
    con.execute("""INSERT INTO identity.id_history VALUES
        ('r1', 'C-old', 'created', NULL, '2025-01-01'), ('r1', 'C-mid', 'created', NULL, '2025-01-01'),
        ('r2', 'C-old', 'merged', 'C-mid', '2025-01-02'), ('r3', 'C-mid', 'merged', 'C2', '2025-01-03'),
        ('r2', 'C-x', 'merged', 'C-gone', '2025-01-02'), ('r3', 'C-gone', 'retired', NULL, '2025-01-03'),
        ('r3', 'C9', 'split', 'C1', '2025-01-03')""")
    assert lookup.surviving_customer_id(con, "C1") == "C1"
    assert lookup.surviving_customer_id(con, "C-mid") == "C2"
    assert lookup.surviving_customer_id(con, "C-old") == "C2"
    assert lookup.surviving_customer_id(con, "C-x") is None  # its heir was retired later
    assert lookup.surviving_customer_id(con, "C9") is None  # a split event names the new id, not an heir
    match = lookup.find_customer(con, " C-old ", REGION)
    assert (match.customer_id, match.matched_on, match.value) == ("C2", "merged_customer_id", "C-old")
    text = format_profile(customer_profile(con, "C-old", default_region=REGION))
    assert text.startswith("Bo Ek  ·  C2  (as of 2025-01-10; matched on merged_customer_id C-old)")
    for gone in ("C-x", "C-gone", "C-nope"):
        assert lookup.find_customer(con, gone, REGION) is None
