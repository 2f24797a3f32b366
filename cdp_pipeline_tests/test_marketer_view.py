"""What a marketer reads, through the real path: two hand-written landing days (fixtures/marketer_view), two
`cdp run` nights, and the golden traits, the timeline and the segments worked out by hand (s44 traits audit).

As of 2026-10-02 in Europe/Stockholm (cutoff 2026-10-02 22:00 UTC):
- Eva (CRM 900001, ESP member, card 7350000000011): online #9001 1,000 SEK less a 200 refund sent on day 2,
  #9002 100 EUR, receipts S01 100 SEK (00:30 local on the 2nd = 22:30 UTC on the 1st) and K01 50 (09:00
  Copenhagen = 07:00 UTC). Spend adds amounts with no currency conversion (docs/sources.md): 800 + 100 + 100 + 50.
- Olof (CRM 900002): #9003 cancelled (no sale), #9004 refunded in full (an order worth 0), #9005 200 SEK at
  23:30 local on the 1st; an anonymous cookie's cart on the 1st, logged in as Olof on the 2nd.
- Karin (CRM 900003): #9006 250 and #9007 750. A web user the CRM does not know (800001); a number that only
  texted (+46709990009).
RFM over the three buyers (1 + 5 * (rank - 1) // 3): night 1 Eva R2 F2 (hibernating), Olof R4 F2 (new), Karin
R1 F1 (lost); night 2 Eva R2 F4 (at_risk), Karin R4 F1 (new), Olof R1 F1 (lost).
"""

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from cdp_pipeline import cli
from cdp_pipeline_tests.conftest import point_cdp_at
from cdp_pipeline_tests.fixtures.marketer_view.build_landing import write_day

pytestmark = pytest.mark.slow

T = datetime.fromisoformat


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("marketer")
    mp = pytest.MonkeyPatch()
    mp.setenv("CDP_TIMEZONE", "Europe/Stockholm")
    settings = point_cdp_at(root, mp)
    codes = []
    for day in ("2026-10-01", "2026-10-02"):
        write_day(settings.landing_dir, day)
        codes.append(cli.main(["run"]))
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    yield codes, con
    con.close()
    mp.undo()


def _customer(con, source, record):
    return con.execute(
        "SELECT customer_id FROM identity.customer_map WHERE source = ? AND source_record_id = ?", [source, record]
    ).fetchone()[0]


def _row(con, customer_id):
    cur = con.execute("SELECT * FROM golden.customers WHERE customer_id = ?", [customer_id])
    return dict(zip([d[0] for d in cur.description], cur.fetchone()))


def test_both_nights_succeed(nights):
    assert nights[0] == [0, 0]


def test_traits_of_a_customer_with_orders_receipts_a_refund_and_two_currencies(nights):
    _, con = nights
    eva = _row(con, _customer(con, "crm", "900001"))
    assert eva["as_of_date"] == date(2026, 10, 2)
    assert (eva["orders_count"], eva["online_orders_count"], eva["store_orders_count"]) == (4, 2, 2)
    # #9002 was paid in EUR (100.00): an order, but not 100 SEK of spend (session 45: it was added as 100, giving
    # 1,050.00); spend is #9001's 800.00 after its refund and the receipts' 150.00, the average over those three
    assert (eva["total_spend"], eva["online_spend"], eva["store_spend"]) == (
        Decimal("950.00"),
        Decimal("800.00"),
        Decimal("150.00"),
    )
    assert eva["average_order_value"] == Decimal("316.67")
    assert (eva["first_order_at"], eva["last_order_at"], eva["days_since_last_order"]) == (
        T("2026-10-01 08:00"),
        T("2026-10-02 07:00"),
        0,
    )
    # two receipts, one per store: the later visit's store; two orders per channel, more spent online
    assert (eva["preferred_store"], eva["preferred_channel"]) == ("K01", "online")
    # the open sent twice counts once
    assert (eva["email_opens_30d"], eva["email_clicks_30d"], eva["sms_received"], eva["sms_replied"]) == (1, 1, 1, 0)
    # monetary among three buyers: Olof 200.00, Eva 950.00, Karin 1,000.00
    assert (eva["rfm_recency"], eva["rfm_frequency"], eva["rfm_monetary"], eva["rfm_segment"]) == (2, 4, 2, "at_risk")


def test_cancelled_orders_are_no_sale_and_a_full_refund_is_no_purchase(nights):
    _, con = nights
    olof = _row(con, _customer(con, "crm", "900002"))
    # #9003 cancelled, #9004 refunded in full (session 45: it counted as an order worth nothing, halving his
    # average), #9005 200.00: one purchase
    assert (olof["orders_count"], olof["total_spend"], olof["average_order_value"]) == (
        1,
        Decimal("200.00"),
        Decimal("200.00"),
    )
    # 23:30 local on the 1st: one day before the as-of date
    assert (olof["last_order_at"], olof["days_since_last_order"]) == (T("2026-10-01 21:30"), 1)
    # the anonymous session of the 1st is his once the cookie logged in; its cart was followed by an order
    assert (olof["web_sessions_30d"], olof["last_web_visit"], olof["has_abandoned_cart"]) == (
        2,
        T("2026-10-02 06:00"),
        False,
    )
    assert olof["last_add_to_cart_at"] == T("2026-10-01 06:01")


def test_customers_of_one_channel_and_a_merged_customer(nights):
    _, con = nights
    karin = _row(con, _customer(con, "crm", "900003"))
    assert (karin["record_count"], karin["orders_count"], karin["total_spend"]) == (3, 2, Decimal("1000.00"))
    web = _row(con, _customer(con, "web", "800001"))
    assert (web["orders_count"], web["web_sessions_30d"], web["rfm_segment"]) == (0, 1, "prospect")
    sms = _row(con, _customer(con, "sms", "+46709990009"))
    assert (sms["sms_received"], sms["sms_replied"], sms["orders_count"], sms["sms_contactable"]) == (1, 1, 0, False)
    assert con.execute("SELECT count(*) FROM golden.customers").fetchone()[0] == 5


def test_the_timeline_holds_every_event_once_in_utc_for_its_customer(nights):
    _, con = nights
    eva, olof = _customer(con, "crm", "900001"), _customer(con, "crm", "900002")
    rows = con.execute(
        """SELECT event_time, channel, event_type, summary FROM golden.customer_timeline
           WHERE customer_id = ? AND event_type NOT LIKE 'consent_%' ORDER BY ALL""",
        [eva],
    ).fetchall()
    assert rows == [
        (T("2026-10-01 06:00"), "sms", "sms_outbound", "To customer: Hej Eva (delivered)"),
        (T("2026-10-01 08:00"), "email", "email_open", 'Opened "Oktober"'),
        (T("2026-10-01 08:00"), "online", "online_order", "Online order #9001: 1000.00 SEK (refunded 200.00)"),
        (T("2026-10-01 08:01"), "email", "email_click", 'Clicked https://shop/x in "Oktober"'),
        (T("2026-10-01 09:00"), "online", "online_order", "Online order #9002: 100.00 EUR"),
        (T("2026-10-01 22:30"), "store", "store_receipt", "Store receipt at S01: 100.00 SEK"),
        (T("2026-10-02 07:00"), "store", "store_receipt", "Store receipt at K01: 50.00 SEK"),
    ]
    web = con.execute(
        """SELECT event_time, event_type, source_record_id FROM golden.customer_timeline
           WHERE customer_id = ? AND channel = 'web' ORDER BY ALL""",
        [olof],
    ).fetchall()
    assert web == [
        (T("2026-10-01 06:00"), "web_session", "900002"),
        (T("2026-10-01 06:01"), "add_to_cart", "900002"),
        (T("2026-10-02 06:00"), "web_session", "900002"),
        (T("2026-10-02 06:00:30"), "login", "900002"),
    ]
    # each order and receipt once, on its buyer's timeline
    orders = con.execute(
        """SELECT event_ref, count(*), count(DISTINCT customer_id) FROM golden.customer_timeline
           WHERE channel IN ('online', 'store') GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    assert orders == [
        *[(f"order:#900{i}", 1, 1) for i in range(1, 8)],
        ("receipt:K01:8001", 1, 1),
        ("receipt:S01:7001", 1, 1),
    ]


def test_segments_and_their_history_over_the_two_nights(nights):
    _, con = nights
    eva, olof, karin = (_customer(con, "crm", c) for c in ("900001", "900002", "900003"))
    membership = con.execute("SELECT segment, customer_id, since FROM segments.membership ORDER BY ALL").fetchall()
    d1, d2 = date(2026, 10, 1), date(2026, 10, 2)
    # (session 45) Olof's refunded order is no purchase and Eva's EUR order no SEK spend: Eva is the only buyer of
    # several orders from the first night (at_risk, not hibernating), and Karin, 1,000.00 against Eva's 950.00,
    # the top spender on the second
    assert sorted(membership) == sorted(
        [
            ("at_risk", eva, d1),
            ("new_customers", karin, d2),
            ("sms_reachable", eva, d1),
            ("top_spenders_10pct", karin, d2),
        ]
    )
    history = con.execute("SELECT segment, customer_id, entered_at, exited_at FROM segments.history").fetchall()
    assert sorted(history, key=str) == sorted(
        [
            ("at_risk", eva, d1, None),
            ("new_customers", olof, d1, d2),
            ("new_customers", karin, d2, None),
            ("sms_reachable", eva, d1, None),
            ("top_spenders_10pct", eva, d1, d2),
            ("top_spenders_10pct", karin, d2, None),
        ],
        key=str,
    )
