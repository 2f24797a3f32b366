"""golden.customers on the hand-made world: survived values, provenance, identifier lists."""

from datetime import date

import duckdb
import pytest

from cdp_pipeline.lib.common.sql_files import run_sql
from cdp_pipeline.lib.golden.build import SQL_DIR
from cdp_pipeline_tests.lib.golden.conftest import golden_row


def test_one_row_per_mapped_customer_in_order(world):
    assert [r[0] for r in world.execute("SELECT customer_id FROM golden.customers").fetchall()] == [
        "C1",
        "C2",
        "C3",
        "C4",
    ]


def test_default_rules_on_anna(world):
    r = golden_row(world, "C1")
    # Names: CRM first. Email: contactable first, then most recent valid: the ESP record of 2025-01-08
    # 12:00 is newer, but its address was unsubscribed (blocked in the ledger), so the latest record
    # with anna@crm.se wins (order #1002, 2025-01-08 11:00).
    assert (r["first_name"], r["last_name"], r["first_name_source"], r["first_name_source_record_id"]) == (
        "Anna",
        "Svensson",
        "crm",
        "100",
    )
    assert (r["email"], r["email_source"], r["email_source_record_id"]) == ("anna@crm.se", "pos", "order:#1002")
    # Phone: CRM first. Address: the latest of CRM update and order, taken whole.
    assert (r["phone"], r["phone_source"]) == ("+46701111111", "crm")
    assert (r["street"], r["postcode"], r["city"], r["country"]) == ("Hamngatan 5", "11147", "Stockholm", "SE")
    assert r["street_source_record_id"] == r["country_source_record_id"] == "order:#1001"
    assert (r["birth_date"], r["birth_date_source"]) == (date(1990, 5, 1), "crm")


def test_identifier_lists_are_sorted_and_complete(world):
    r = golden_row(world, "C1")
    assert r["emails"] == ["anna.new@mail.se", "anna@crm.se"]
    assert r["phones"] == ["+46701111111"]
    assert r["loyalty_card_ids"] == ["L-1"]
    assert r["crm_customer_ids"] == ["100"]
    assert r["web_user_ids"] == ["100"]
    assert r["cookies"] == ["ck1", "ck2"]
    assert r["sources"] == ["crm", "esp", "pos", "sms", "web"]
    assert r["record_count"] == 9


def test_identifier_lists_without_values_are_empty(world):
    # an empty list, never NULL nor [NULL], whatever NULLs the records carry
    c2, c4 = golden_row(world, "C2"), golden_row(world, "C4")
    assert (c2["loyalty_card_ids"], c2["crm_customer_ids"], c2["web_user_ids"], c2["cookies"]) == ([], [], [], [])
    assert (c4["emails"], c4["phones"], c4["crm_customer_ids"]) == ([], [], ["400", "401"])


def test_junk_and_impossible_values_do_not_survive(world):
    c2, c3 = golden_row(world, "C2"), golden_row(world, "C3")
    assert c2["phone"] is None and c2["phones"] == ["+46700000000"]
    assert (c3["email"], c3["email_source"]) == ("cecilia@mail.se", "esp")
    assert (c3["birth_date"], c3["birth_date_source"]) == (date(1985, 3, 3), "esp")
    assert c3["first_name"] == "Cecilia"


def test_ties_go_to_the_smallest_source_record_id(world):
    r = golden_row(world, "C4")
    assert (r["first_name"], r["first_name_source_record_id"]) == ("Dan", "400")
    assert r["crm_customer_ids"] == ["400", "401"]


def test_every_column_of_the_contract_is_present_in_order(world):
    from cdp_pipeline.lib.golden.comments import GOLDEN_TABLE_DOCS

    attrs = ["first_name", "last_name", "email", "phone", "street", "postcode", "city", "country", "birth_date"]
    contract = (
        ["customer_id"]
        + [c for a in attrs for c in (a, f"{a}_source", f"{a}_source_record_id")]
        + [
            "emails",
            "phones",
            "loyalty_card_ids",
            "crm_customer_ids",
            "web_user_ids",
            "cookies",
            "sources",
            "record_count",
            "first_seen",
            "last_seen",
            "orders_count",
            "online_orders_count",
            "store_orders_count",
            "total_spend",
            "online_spend",
            "store_spend",
            "average_order_value",
            "first_order_at",
            "last_order_at",
            "days_since_last_order",
            "rfm_recency",
            "rfm_frequency",
            "rfm_monetary",
            "rfm_segment",
            "preferred_store",
            "preferred_channel",
            "email_opens_30d",
            "email_clicks_30d",
            "email_opens_90d",
            "email_clicks_90d",
            "sms_received",
            "sms_replied",
            "web_sessions_30d",
            "last_web_visit",
            "last_add_to_cart_at",
            "has_abandoned_cart",
            "email_consent",
            "email_consent_at",
            "email_consent_source",
            "sms_consent",
            "sms_consent_at",
            "sms_consent_source",
            "email_contactable",
            "sms_contactable",
            "as_of_date",
        ]
    )
    cols = [r[0] for r in world.execute("DESCRIBE golden.customers").fetchall()]
    assert cols == contract == list(GOLDEN_TABLE_DOCS["customers"][1])


@pytest.mark.parametrize("n_sources", [3, 64, 70])
def test_sources_are_each_customers_distinct_sources_sorted(n_sources):
    """Gathered as bit masks up to 64 sources, as lists beyond: the same sorted, distinct lists either way."""
    con = duckdb.connect()
    names = [f"s{i:02d}" for i in range(n_sources)]
    # customer c<k> has records from every k-th source (and each of them twice); c0 has one record without a source
    rows = [(f"c{k}", names[i]) for k in range(1, 8) for i in range(0, n_sources, k) for _ in range(2)] + [("c0", None)]
    con.execute(
        "CREATE TEMP TABLE _golden_records AS SELECT customer_id, source, NULL::VARCHAR AS email, NULL::VARCHAR AS phone, "
        "NULL::VARCHAR AS loyalty_card_id, NULL::VARCHAR AS crm_customer_id, NULL::VARCHAR AS web_user_id, "
        "NULL::VARCHAR[] AS cookies FROM (SELECT unnest($c) AS customer_id, unnest($s) AS source)",
        {"c": [r[0] for r in rows], "s": [r[1] for r in rows]},
    )
    run_sql(con, SQL_DIR, "create_record_sources", records="temp._golden_records")
    run_sql(con, SQL_DIR, "create_customer_identifiers", records="_golden_records")
    got = dict(con.execute("SELECT customer_id, sources FROM _golden_customer_identifiers").fetchall())
    expected = {f"c{k}": [names[i] for i in range(0, n_sources, k)] for k in range(1, 8)}
    assert got == {**expected, "c0": []}


def test_identifier_lists_are_each_customers_distinct_values_sorted():
    """One distinct value (told by min = max, no list gathered) or several (gathered): each list is the customer's
    distinct non-NULL values, sorted, [] without any; cookies from every record's list, duplicates and NULLs dropped."""
    con = duckdb.connect()
    # (customer, email, loyalty card, cookies): records in no particular order
    rows = [
        ("one", "a@x.se", None, None),  # one record, one value
        ("same", "b@x.se", "L2", ["k2", "k1", "k2", None]),  # one value twice; one cookie list with a duplicate, NULL
        ("same", "b@x.se", "L2", None),
        ("same", None, None, None),
        ("two", "d@x.se", None, ["k9"]),  # two values (and a NULL); two cookie lists sharing a cookie
        ("two", None, "L1", ["k3", "k9"]),
        ("two", "c@x.se", "L1", None),
        ("two", "d@x.se", None, None),
        ("none", None, None, []),  # no value of any identifier; an empty cookie list
    ]
    con.execute(
        "CREATE TEMP TABLE _golden_records AS SELECT customer_id, 'crm' AS source, email, NULL::VARCHAR AS phone, "
        "loyalty_card_id, NULL::VARCHAR AS crm_customer_id, NULL::VARCHAR AS web_user_id, cookies "
        "FROM (SELECT unnest($c) AS customer_id, unnest($e) AS email, unnest($l) AS loyalty_card_id, "
        "unnest($k::VARCHAR[][]) AS cookies)",
        {"c": [r[0] for r in rows], "e": [r[1] for r in rows], "l": [r[2] for r in rows], "k": [r[3] for r in rows]},
    )
    run_sql(con, SQL_DIR, "create_record_sources", records="temp._golden_records")
    run_sql(con, SQL_DIR, "create_customer_identifiers", records="_golden_records")
    got = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT customer_id, emails, phones, loyalty_card_ids, cookies, record_count FROM _golden_customer_identifiers"
        ).fetchall()
    }
    assert got == {
        "one": (["a@x.se"], [], [], [], 1),
        "same": (["b@x.se"], [], ["L2"], ["k1", "k2"], 3),
        "two": (["c@x.se", "d@x.se"], [], ["L1"], ["k3", "k9"], 4),
        "none": ([], [], [], [], 1),
    }
