"""Traits against hand-computed answers (world.py), RFM on a known population, and as-of reruns."""

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from cdp_pipeline.lib.golden import quality
from cdp_pipeline.lib.golden.build import build_golden
from cdp_pipeline.lib.golden.traits import as_of_cutoff
from cdp_pipeline_tests.lib.golden.conftest import golden_row
from cdp_pipeline_tests.lib.golden.world import create_contract_tables, insert, world_db

T = datetime.fromisoformat


def test_order_traits_net_refunds_and_skip_cancelled_and_future_orders(world):
    r = golden_row(world, "C1")
    # #1001 500-100 online; #1002 voided/cancelled; R1 200 + R2 50 in S1; S2:R9 is after the cutoff.
    assert (r["orders_count"], r["online_orders_count"], r["store_orders_count"]) == (3, 1, 2)
    assert (r["total_spend"], r["online_spend"], r["store_spend"]) == (
        Decimal("650.00"),
        Decimal("400.00"),
        Decimal("250.00"),
    )
    assert r["average_order_value"] == Decimal("216.67")
    assert (r["first_order_at"], r["last_order_at"]) == (T("2025-01-03 15:00"), T("2025-01-09 15:00"))
    assert r["days_since_last_order"] == 1
    assert (r["preferred_store"], r["preferred_channel"]) == ("S1", "store")


def test_customer_without_orders(world):
    r = golden_row(world, "C3")
    assert (r["orders_count"], r["total_spend"], r["average_order_value"], r["days_since_last_order"]) == (
        0,
        Decimal("0.00"),
        None,
        None,
    )
    assert (r["rfm_recency"], r["rfm_segment"], r["preferred_channel"], r["preferred_store"]) == (
        None,
        "prospect",
        None,
        None,
    )


def test_email_sms_web_traits(world):
    r = golden_row(world, "C1")
    assert (r["email_opens_30d"], r["email_clicks_30d"], r["email_opens_90d"], r["email_clicks_90d"]) == (1, 1, 2, 1)
    # m1 delivered (m2 failed); STOP and START are replies.
    assert (r["sms_received"], r["sms_replied"]) == (1, 2)
    assert (r["web_sessions_30d"], r["last_web_visit"]) == (1, T("2025-01-09 09:58"))
    assert r["last_add_to_cart_at"] == T("2025-01-09 10:00")


def test_abandoned_cart(world):
    # Anna bought in store 5 hours after adding to cart: not abandoned.
    assert golden_row(world, "C1")["has_abandoned_cart"] is False
    # Dan added to cart on 2025-01-02 and bought nothing (his 2024-11 cart is outside 30 days).
    dan = golden_row(world, "C4")
    assert dan["has_abandoned_cart"] is True and dan["last_add_to_cart_at"] == T("2025-01-02 10:00")


def test_first_and_last_seen(world):
    r = golden_row(world, "C1")
    # The September open is the first interaction; the receipt of 2025-01-12 is after the cutoff.
    assert (r["first_seen"], r["last_seen"]) == (T("2024-09-01 07:00"), T("2025-01-09 15:00"))
    assert r["as_of_date"] == date(2025, 1, 10)


def test_rerun_of_an_old_day_gives_that_days_answer():
    con = world_db()
    build_golden(con, date(2025, 1, 5), tz="UTC")
    r = golden_row(con, "C1")
    assert (r["orders_count"], r["total_spend"], r["last_order_at"]) == (1, Decimal("200.00"), T("2025-01-03 15:00"))
    # STOP 01-05. Anna unsubscribed anna.new@mail.se on 01-04, so her golden address is anna@crm.se, which no
    # signal speaks of before its tick box of 01-07: unknown (a customer's consent is their address's ledger row)
    assert (r["email"], r["email_consent"], r["email_contactable"]) == ("anna@crm.se", "unknown", False)
    assert r["sms_consent"] == "revoked"
    assert (r["sms_received"], r["sms_replied"], r["days_since_last_order"]) == (1, 1, 2)
    build_golden(con, date(2025, 1, 12), tz="UTC")
    assert golden_row(con, "C1")["orders_count"] == 4


def test_cutoff_is_local_midnight_after_the_as_of_day():
    assert as_of_cutoff(date(2025, 1, 10), "UTC") == T("2025-01-11 00:00")
    assert as_of_cutoff(date(2025, 1, 10), "Europe/Stockholm") == T("2025-01-10 23:00")
    assert as_of_cutoff(date(2025, 7, 10), "Europe/Stockholm") == T("2025-07-10 22:00")


def _buyers(n_orders: dict[str, list[tuple[str, int]]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_contract_tables(con)
    for cid, orders in n_orders.items():
        for i, (when, total) in enumerate(orders):
            srid = f"order:{cid}-{i}"
            insert(con, "identity.customer_map", [dict(source="pos", source_record_id=srid, customer_id=cid)])
            insert(
                con,
                "staging.orders",
                [
                    dict(
                        order_id=srid,
                        source="pos",
                        source_record_id=srid,
                        channel="online",
                        ordered_at=T(when),
                        currency="SEK",
                        total=total,
                    )
                ],
            )
    return con


def test_rfm_quintiles_and_labels_on_ten_buyers():
    # B0..B9: B9 is most recent, most frequent, biggest spender; B0 the opposite.
    data = {f"B{i}": [(f"2025-01-{i + 1:02d} 12:00", 10 * (i + 1))] * (i // 2 + 1) for i in range(10)}
    con = _buyers(data)
    build_golden(con, date(2025, 1, 31), tz="UTC")
    got = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT customer_id, rfm_recency, rfm_frequency, rfm_monetary, rfm_segment FROM golden.customers"
        ).fetchall()
    }
    # ntile(5) over 10 ordered rows: pairs share a score.
    assert [got[f"B{i}"][0] for i in range(10)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [got[f"B{i}"][1] for i in range(10)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [got[f"B{i}"][3] for i in range(10)] == [
        "lost",
        "lost",
        "hibernating",
        "hibernating",
        "loyal",
        "loyal",
        "champions",
        "champions",
        "champions",
        "champions",
    ]


def test_rfm_equal_values_get_equal_scores_whatever_the_customer_ids():
    # Five buyers alike: one score each, whatever their ids or the insert order (ntile with customer_id as the
    # tie-breaker gave A..Z the scores 1..5, so identical customers were champions or lost by their ids).
    con = _buyers({cid: [("2025-01-10 12:00", 100)] for cid in ("Z", "A", "M", "B", "Q")})
    build_golden(con, date(2025, 1, 31), tz="UTC")
    got = set(
        con.execute("SELECT rfm_recency, rfm_frequency, rfm_monetary, rfm_segment FROM golden.customers").fetchall()
    )
    assert got == {(1, 1, 1, "lost")}


def test_rfm_frequency_of_buyers_with_the_same_orders_count_is_one_score():
    # 10 buyers: 4 with one order, 3 with two, 2 with three, 1 with five, all on the same day for the same total
    # per order. Score = 1 + 5 * (places below) // 10: one order 1 + 0 = 1; two orders 1 + 20 // 10 = 3; three
    # 1 + 35 // 10 = 4; five 1 + 45 // 10 = 5. Recency: all equal, so all 1.
    counts = {"K0": 1, "K1": 1, "K2": 1, "K3": 1, "K4": 2, "K5": 2, "K6": 2, "K7": 3, "K8": 3, "K9": 5}
    con = _buyers({cid: [("2025-01-10 12:00", 100)] * n for cid, n in counts.items()})
    build_golden(con, date(2025, 1, 31), tz="UTC")
    got = dict(con.execute("SELECT customer_id, rfm_frequency FROM golden.customers").fetchall())
    assert got == {"K0": 1, "K1": 1, "K2": 1, "K3": 1, "K4": 3, "K5": 3, "K6": 3, "K7": 4, "K8": 4, "K9": 5}
    # monetary follows the totals (100 per order): the same places
    got = dict(con.execute("SELECT customer_id, rfm_monetary FROM golden.customers").fetchall())
    assert got == {"K0": 1, "K1": 1, "K2": 1, "K3": 1, "K4": 3, "K5": 3, "K6": 3, "K7": 4, "K8": 4, "K9": 5}


@pytest.mark.parametrize(
    "r, f, m, label",
    [
        (5, 5, 5, "champions"),
        (4, 4, 3, "loyal"),
        (3, 3, 1, "loyal"),
        (5, 1, 1, "new"),
        (4, 2, 5, "new"),
        (3, 2, 2, "potential"),
        (2, 5, 5, "at_risk"),
        (1, 3, 1, "at_risk"),
        (2, 2, 2, "hibernating"),
        (1, 1, 5, "lost"),
    ],
)
def test_rfm_label_rules(r, f, m, label):
    # The label expression of create_golden_ranks.sql, evaluated on given scores.
    from cdp_pipeline.lib.golden.build import SQL_DIR

    text = (SQL_DIR / "create_golden_ranks.sql").read_text()
    case = text[text.index("CASE WHEN r.customer_id IS NULL") : text.index("END AS rfm_segment") + 3]
    sql = case.replace("r.customer_id IS NULL", "false").replace("r.rfm_", "rfm_")
    got = (
        duckdb.connect()
        .execute(f"SELECT {sql} FROM (SELECT {r} AS rfm_recency, {f} AS rfm_frequency, {m} AS rfm_monetary)")
        .fetchone()[0]
    )
    assert got == label


def test_average_order_value_rounds_half_cents_away_from_zero_in_decimal():
    # 3,877.10 / 4 = 969.275 exactly: a DOUBLE division rounded it to 969.27 (969.27499...).
    # 1,938.55 / 2 = 969.275 too; 100.00 / 3 = 33.333... rounds down; 200.00 / 3 = 66.666... rounds up;
    # 0.05 / 2 = 0.025 rounds to 0.03; one order keeps its total.
    con = _buyers(
        {
            "A4": [("2025-01-02 12:00", Decimal("1000.00")), ("2025-01-03 12:00", Decimal("877.10"))]
            + [("2025-01-04 12:00", Decimal("1000.00"))] * 2,
            "A2": [("2025-01-02 12:00", Decimal("1000.00")), ("2025-01-03 12:00", Decimal("938.55"))],
            "T1": [("2025-01-02 12:00", Decimal("100.00")), ("2025-01-03 12:00", 0), ("2025-01-04 12:00", 0)],
            "T2": [("2025-01-02 12:00", Decimal("200.00")), ("2025-01-03 12:00", 0), ("2025-01-04 12:00", 0)],
            "S1": [("2025-01-02 12:00", Decimal("0.05")), ("2025-01-03 12:00", 0)],
            "O1": [("2025-01-02 12:00", Decimal("12.34"))],
        }
    )
    build_golden(con, date(2025, 1, 31), tz="UTC")
    got = dict(con.execute("SELECT customer_id, average_order_value FROM golden.customers").fetchall())
    assert got == {
        "A4": Decimal("969.28"),
        "A2": Decimal("969.28"),
        "T1": Decimal("33.33"),
        "T2": Decimal("66.67"),
        "S1": Decimal("0.03"),
        "O1": Decimal("12.34"),
    }
    assert (
        con.execute("SELECT typeof(average_order_value) FROM golden.customers LIMIT 1").fetchone()[0] == "DECIMAL(18,2)"
    )


def test_days_since_last_order_counts_days_in_the_zone_of_the_as_of_date():
    # Stockholm is UTC+1 in January. As of 2025-01-10 (cutoff 2025-01-10 23:00 UTC):
    # L0 bought at 00:30 local on the 10th (23:30 UTC on the 9th): today, 0 days (its UTC date gave 1);
    # L1 at 23:30 local on the 9th (22:30 UTC): yesterday, 1; L2 at 22:30 local on the 10th (21:30 UTC): 0.
    con = _buyers(
        {
            "L0": [("2025-01-09 23:30", 100)],
            "L1": [("2025-01-09 22:30", 100)],
            "L2": [("2025-01-10 21:30", 100)],
        }
    )
    build_golden(con, date(2025, 1, 10), tz="Europe/Stockholm")
    got = dict(con.execute("SELECT customer_id, days_since_last_order FROM golden.customers").fetchall())
    assert got == {"L0": 0, "L1": 1, "L2": 0}
    # an incremental night (a new order for L1 on the 11th, local) computes them the same way
    srid = "order:L1-late"
    insert(con, "identity.customer_map", [dict(source="pos", source_record_id=srid, customer_id="L1")])
    insert(
        con,
        "staging.orders",
        [
            dict(
                order_id=srid,
                source="pos",
                source_record_id=srid,
                channel="online",
                ordered_at=T("2025-01-10 23:15"),
                total=5,
            )
        ],
    )
    build_golden(con, date(2025, 1, 11), tz="Europe/Stockholm")
    got = dict(con.execute("SELECT customer_id, days_since_last_order FROM golden.customers").fetchall())
    assert got == {"L0": 1, "L1": 0, "L2": 1}


def test_an_order_whose_total_could_not_be_read_counts_but_is_not_revenue_zero(fresh_world):
    # Anna's fourth order: its Total was unreadable (staging.orders.dq_flags). It is an order (count,
    # last order), of unknown amount: spend is the known orders' (650.00), and the average is over
    # those three (216.67), not pulled down to 162.50 by a 0.
    insert(
        fresh_world,
        "staging.orders",
        [
            dict(
                order_id="order:#1003",
                source="pos",
                source_record_id="order:#1001",
                channel="online",
                ordered_at=T("2025-01-09 16:00"),
                currency="SEK",
                financial_status="paid",
                dq_flags=["unreadable_total"],
            )
        ],
    )
    build_golden(fresh_world, date(2025, 1, 10), tz="UTC", full_refresh=True)
    r = golden_row(fresh_world, "C1")
    assert (r["orders_count"], r["online_orders_count"], r["last_order_at"]) == (4, 2, T("2025-01-09 16:00"))
    assert (r["total_spend"], r["online_spend"]) == (Decimal("650.00"), Decimal("400.00"))
    assert r["average_order_value"] == Decimal("216.67")
    summary = fresh_world.execute(
        "SELECT summary FROM golden.customer_timeline WHERE event_ref = 'order:#1003'"
    ).fetchall()
    assert summary == [("Online order #1003: amount unreadable",)]


def test_an_order_in_another_currency_counts_but_is_not_added_to_sek_spend(fresh_world):
    # Anna's fourth order was paid in EUR (120.00): an order (count, last order), but 120 EUR is not 120 SEK and
    # there is no rate to convert it with, so spend stays her SEK orders' (650.00) and the average is over those
    # three (216.67), not 770.00 / 4 = 192.50. The golden check money_in_one_currency counts it, warning.
    insert(
        fresh_world,
        "staging.orders",
        [
            dict(
                order_id="order:#1004",
                source="pos",
                source_record_id="order:#1001",
                channel="online",
                ordered_at=T("2025-01-09 16:00"),
                currency="EUR",
                total=120,
                financial_status="paid",
            )
        ],
    )
    build_golden(fresh_world, date(2025, 1, 10), tz="UTC", full_refresh=True)
    r = golden_row(fresh_world, "C1")
    assert (r["orders_count"], r["online_orders_count"], r["last_order_at"]) == (4, 2, T("2025-01-09 16:00"))
    assert (r["total_spend"], r["online_spend"], r["average_order_value"]) == (
        Decimal("650.00"),
        Decimal("400.00"),
        Decimal("216.67"),
    )
    outcome = quality.check_money_in_one_currency(fresh_world, "UTC")
    assert (outcome.passed, outcome.warn) == (False, True)
    assert outcome.metadata == {
        "warehouse_currency": "SEK",
        "orders_not_in_warehouse_currency": 1,
        "customers_with_such_orders": 1,
        "customers_mixing_currencies": 1,
    }


def test_a_warehouse_in_another_currency_counts_only_its_orders_and_rebuilds_whole(fresh_world):
    # The same world with CDP_CURRENCY=EUR: Anna's EUR order (120.00) is her only spend, her SEK orders are orders
    # of unknown amount; the check counts every SEK order. The kept golden rows were built in SEK: a whole build.
    insert(
        fresh_world,
        "staging.orders",
        [
            dict(
                order_id="order:#1004",
                source="pos",
                source_record_id="order:#1001",
                channel="online",
                ordered_at=T("2025-01-09 16:00"),
                currency="EUR",
                total=120,
                financial_status="paid",
            )
        ],
    )
    build = build_golden(fresh_world, date(2025, 1, 10), tz="UTC", currency="EUR")
    assert build.mode == "full"
    r = golden_row(fresh_world, "C1")
    assert (r["orders_count"], r["total_spend"], r["online_spend"], r["store_spend"], r["average_order_value"]) == (
        4,
        Decimal("120.00"),
        Decimal("120.00"),
        Decimal("0.00"),
        Decimal("120.00"),
    )
    outcome = quality.check_money_in_one_currency(fresh_world, "UTC", "EUR")
    assert (outcome.passed, outcome.warn) == (False, True)
    assert outcome.metadata == {
        "warehouse_currency": "EUR",
        # Anna's #1001, #1002 (voided: the check counts every order), R1, R2 and Bo's #2001; R9 is after the
        # cutoff and R3 no customer's
        "orders_not_in_warehouse_currency": 5,
        "customers_with_such_orders": 2,
        "customers_mixing_currencies": 1,
    }
    assert build_golden(fresh_world, date(2025, 1, 10), tz="UTC", currency="EUR").mode == "incremental"
    assert build_golden(fresh_world, date(2025, 1, 10), tz="UTC").mode == "full"  # back to SEK
    assert golden_row(fresh_world, "C1")["total_spend"] == Decimal("650.00")


def test_money_in_one_currency_passes_when_every_order_is_in_sek(world):
    outcome = quality.check_money_in_one_currency(world, "UTC")
    assert outcome.passed and outcome.metadata["orders_not_in_warehouse_currency"] == 0
    assert outcome.metadata["customers_mixing_currencies"] == 0


def test_a_fully_refunded_order_is_not_a_purchase_but_its_refund_still_nets_spend(fresh_world):
    # Bo's only order (#2001, 100.00) was refunded in full: he is not a buyer (no order, no last order, RFM
    # prospect), where he counted as a one-order buyer with 0 spend. Anna returned goods for 50.00 in a
    # transaction of its own (a Square return: total 0, refunded 50, status refunded): not a fourth order, but
    # the 50.00 comes off her spend (650.00 -> 600.00; the average over her three purchases 200.00).
    fresh_world.execute(
        "UPDATE staging.orders SET refunded_amount = 100, financial_status = 'refunded' WHERE order_id = 'order:#2001'"
    )
    insert(
        fresh_world,
        "staging.orders",
        [
            dict(
                order_id="square:RET1",
                source="pos",
                source_record_id="order:#1001",
                channel="store",
                ordered_at=T("2025-01-09 17:00"),
                currency="SEK",
                total=0,
                refunded_amount=50,
                financial_status="refunded",
                store_id="S3",
            )
        ],
    )
    build_golden(fresh_world, date(2025, 1, 10), tz="UTC", full_refresh=True)
    bo = golden_row(fresh_world, "C2")
    assert (bo["orders_count"], bo["last_order_at"], bo["total_spend"], bo["rfm_segment"]) == (
        0,
        None,
        Decimal("0.00"),
        "prospect",
    )
    anna = golden_row(fresh_world, "C1")
    assert (anna["orders_count"], anna["store_orders_count"], anna["last_order_at"]) == (3, 2, T("2025-01-09 15:00"))
    assert (anna["total_spend"], anna["store_spend"], anna["average_order_value"]) == (
        Decimal("600.00"),
        Decimal("200.00"),
        Decimal("200.00"),
    )
    assert anna["preferred_store"] == "S1"


def test_an_apple_privacy_open_is_on_the_timeline_but_not_an_email_open(fresh_world):
    # Anna's address got two more opens of the January campaign on the 9th, both marked Apple Mail Privacy
    # Protection by the ESP (staging action privacy_open): the mail app may have opened them, so her 30-day opens
    # stay 1 and Bo, who had no opens, gets none from his; the timeline shows them as such.
    insert(
        fresh_world,
        "staging.email_activity",
        [
            dict(
                activity_id=f"mpp{i}",
                source="esp",
                source_record_id=srid,
                email=email,
                action="privacy_open",
                event_time=T("2025-01-09 08:00"),
                campaign_id="c1",
                campaign_title="January",
            )
            for i, (srid, email) in enumerate([("leid-a", "anna.new@mail.se"), ("bo@x.se", "bo@x.se")])
        ],
    )
    build_golden(fresh_world, date(2025, 1, 10), tz="UTC", full_refresh=True)
    anna, bo = golden_row(fresh_world, "C1"), golden_row(fresh_world, "C2")
    assert (anna["email_opens_30d"], anna["email_opens_90d"]) == (1, 2)
    assert (bo["email_opens_30d"], bo["email_opens_90d"]) == (0, 0)
    assert fresh_world.execute(
        "SELECT event_type, summary FROM golden.customer_timeline WHERE event_ref = 'mpp1'"
    ).fetchall() == [
        (
            "email_privacy_open",
            'Opened "January" in Apple Mail Privacy Protection (perhaps by the mail app, not the person)',
        )
    ]
