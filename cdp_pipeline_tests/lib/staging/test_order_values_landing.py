"""An order's value that cannot be read (a total, a currency, a line's price or quantity, a time)
is NULL with its reason in dq_flags and the order kept, through the real path: files dropped in a
landing day, loaded into raw and staged on a DuckDB file (vendor_landing.py)."""

from datetime import datetime
from decimal import Decimal

import dagster as dg
import pytest

from cdp_pipeline.defs.staging.checks import values_read
from cdp_pipeline_tests.lib.raw.vendor_landing import q, staged_landing_day

DAY = "2026-10-01"
ORDERS = (
    "Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem discount,"
    "Billing Name,Currency,Subtotal,Total,Refunded Amount,Cancelled at\n"
    "#1,a@firma.se,paid,2026-10-01 09:50:26 +0200,1,Sockor,99.00,,Anna Ek,SEK,99.00,99.00,,\n"
    "#2,b@firma.se,paid,igår,två,Sockor,nittio,0.00,Bo Ek,kronor,1e3,12 öre,lite,i morgon\n"
    # blank quantity and discount: one item, no discount (not flagged)
    "#3,c@firma.se,paid,2026-10-01 09:52:26 +0200,,Sockor,99.00,,Cy Ek,,99.00,99.00,,\n"
    "#4,d@firma.se,paid,2026-10-01 09:53:26 +0200,2,Sockor,50.00,rabatt,Di Ek,SEK,100.00,100.00,,\n"
)
RECEIPTS = (
    "receipt_id;store_id;ts_local;tz;loyalty_card_id;line_no;sku;qty;unit_price;discount;vat_rate\n"
    "r1;s1;2026-10-01 10:00:00;;L1;1;A;1;99,00;0,00;25\n"
    "r1;s1;2026-10-01 10:00:00;;L1;2;B;2;tio;0,00;25\n"
    "r2;s1;2026-13-45 10:00:00;;L2;1;A;x;99,00;;25\n"
    "r3;s1;2026-10-01 11:00:00;;L3;1;A;;50,00;;25\n"
)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = staged_landing_day(
        tmp_path_factory.mktemp("order_values"),
        DAY,
        {("pos", "orders_export_20261001.csv"): ORDERS, ("pos", "receipts_s1_20261001.csv"): RECEIPTS},
    )
    yield c
    c.close()


def _order(con, order_id):
    return q(
        con,
        "SELECT ordered_at, currency, subtotal, discount, total, refunded_amount, cancelled_at, dq_flags "
        "FROM staging.orders WHERE order_id = ?",
        [order_id],
    )


def _lines(con, order_id):
    return q(
        con,
        "SELECT line_no, quantity, unit_price, discount, line_total, dq_flags FROM staging.order_lines "
        "WHERE order_id = ? ORDER BY line_no",
        [order_id],
    )


def test_an_online_orders_unreadable_values_are_null_with_their_reasons_and_the_order_kept(con):
    assert _order(con, "order:#2") == [
        (
            None,
            None,  # "kronor" is no ISO code: unknown, not SEK
            None,
            None,
            None,
            None,
            None,
            [
                "unreadable_ordered_at",
                "unreadable_currency",
                "unreadable_subtotal",
                "unreadable_total",
                "unreadable_refunded_amount",
                "unreadable_cancelled_at",
            ],
        )
    ]
    assert _lines(con, "order:#2") == [
        (1, None, None, Decimal("0.00"), None, ["unreadable_quantity", "unreadable_unit_price"])
    ]
    assert _lines(con, "order:#4") == [(1, Decimal("2.000"), Decimal("50.00"), None, None, ["unreadable_discount"])]
    assert q(con, "SELECT count(*) FROM audit.quarantine") == [(0,)]


def test_readable_and_blank_values_carry_no_flag(con):
    assert _order(con, "order:#1") == [
        (datetime(2026, 10, 1, 7, 50, 26), "SEK", Decimal("99.00"), None, Decimal("99.00"), None, None, [])
    ]
    # a blank quantity is one item, a blank line discount none
    assert _order(con, "order:#3")[0][-1] == []
    assert _lines(con, "order:#3") == [(1, Decimal("1.000"), Decimal("99.00"), Decimal("0.00"), Decimal("99.00"), [])]
    assert _order(con, "receipt:s1:r3") == [
        (datetime(2026, 10, 1, 9, 0), "SEK", Decimal("50.00"), Decimal("0.00"), Decimal("50.00"), None, None, [])
    ]


def test_a_receipt_with_an_unreadable_line_amount_has_no_total_not_the_other_lines_sum(con):
    # r1's second line has the price "tio": the receipt's total is not 99.00
    assert _order(con, "receipt:s1:r1") == [
        (datetime(2026, 10, 1, 8, 0), "SEK", None, None, None, None, None, ["unreadable_line_amount"])
    ]
    assert _lines(con, "receipt:s1:r1") == [
        (1, Decimal("1.000"), Decimal("99.00"), Decimal("0.00"), Decimal("99.00"), []),
        (2, Decimal("2.000"), None, Decimal("0.00"), None, ["unreadable_unit_price"]),
    ]
    # month 13: no time; quantity "x": no quantity (not one item)
    assert _order(con, "receipt:s1:r2") == [
        (None, "SEK", None, None, None, None, None, ["unreadable_ordered_at", "unreadable_line_amount"])
    ]
    assert _lines(con, "receipt:s1:r2") == [(1, None, Decimal("99.00"), Decimal("0.00"), None, ["unreadable_quantity"])]


def test_the_dq_checks_count_the_flagged_orders_and_lines_per_reason(con):
    orders = values_read(con, "orders")
    assert not orders.passed  # 3 of 7 orders flagged: far above 1%
    assert orders.metadata["rows"] == dg.IntMetadataValue(7)
    assert orders.metadata["flagged_rows"] == dg.IntMetadataValue(3)
    assert orders.metadata["flag_unreadable_line_amount"] == dg.IntMetadataValue(2)
    assert orders.metadata["flag_unreadable_total"] == dg.IntMetadataValue(1)
    lines = values_read(con, "order_lines")
    assert lines.metadata["flagged_rows"] == dg.IntMetadataValue(4)
    assert lines.metadata["flag_unreadable_unit_price"] == dg.IntMetadataValue(2)
    assert lines.metadata["flag_unreadable_quantity"] == dg.IntMetadataValue(2)
    assert lines.metadata["flag_unreadable_discount"] == dg.IntMetadataValue(1)
