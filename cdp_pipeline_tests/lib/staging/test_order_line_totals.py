"""Receipt money in staging.order_lines (line_total: quantity x unit price - discount) and
staging.orders (subtotal, discount, total): exact on both sides of the bounds under which
create_order_lines.sql and create_orders.sql compute in 18 digits (a line's quantity and price
under a million and discount under a billion; a receipt's sums under a trillion), and NULL when
a value does not fit DECIMAL(18, 2). Hand-made receipt lines, answers computed by hand."""

from decimal import Decimal

import duckdb
import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.raw.ledger import ensure_ingest_tables
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.staging.test_receipt_redelivery import _insert, _line

_DAY, _FILE = "2026-10-01", "pos/2026-10-01/r.csv"

# (receipt, line, qty, price, discount); quantities are read to the cent, as amounts
_LINES = [
    # the largest line of the 18-digit path, and lines just past its bounds
    ("R1", "1", "999999,99", "999999,99", "999999999,99"),
    ("R1", "2", "1000000", "999999,99", "0"),
    ("R1", "3", "2", "1000000,00", "0,50"),
    ("R1", "4", "1", "10,00", "1000000000,00"),
    # a negative quantity (a return); half a cent, rounded away from zero
    ("R1", "5", "-2", "12,50", "0"),
    ("R1", "6", "0,5", "0,01", "0"),
    ("R1", "7", "-0,5", "0,01", "0"),
    # a receipt under a trillion (its sums rounded in 18 digits)
    ("R2", "1", "999999,99", "999999,99", "999999999,99"),
    ("R3", "1", "0,5", "0,01", "0"),
    ("R4", "1", "-0,5", "0,01", "0"),
    # over DECIMAL(18, 2): no total, not a failed night
    ("R5", "1", "99999999999999", "99999999999,99", "0"),
]


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    ensure_ingest_tables(c)
    _insert(
        c,
        [
            _line(receipt, n, qty, price, discount=discount, day=_DAY, file=_FILE, line=i + 2)
            for i, (receipt, n, qty, price, discount) in enumerate(_LINES)
        ],
    )
    for table in ("identity_records", "order_lines", "orders"):
        build_staging_table(c, SQL_DIR, table, get_settings(), full_refresh=True)
    yield c
    c.close()


def test_line_totals_are_exact_on_both_sides_of_the_18_digit_bound(con):
    totals = con.execute("SELECT order_id, line_no, line_total FROM staging.order_lines ORDER BY ALL").fetchall()
    assert totals == [
        ("receipt:S01:R1", 1, Decimal("998999980000.01")),  # 999999980000.0001 less 999999999.99
        ("receipt:S01:R1", 2, Decimal("999999990000.00")),
        ("receipt:S01:R1", 3, Decimal("1999999.50")),
        ("receipt:S01:R1", 4, Decimal("-999999990.00")),
        ("receipt:S01:R1", 5, Decimal("-25.00")),
        ("receipt:S01:R1", 6, Decimal("0.01")),
        ("receipt:S01:R1", 7, Decimal("-0.01")),
        ("receipt:S01:R2", 1, Decimal("998999980000.01")),
        ("receipt:S01:R3", 1, Decimal("0.01")),
        ("receipt:S01:R4", 1, Decimal("-0.01")),
        ("receipt:S01:R5", 1, None),
    ]


def test_receipt_sums_are_rounded_once_and_exact_on_both_sides_of_the_bound(con):
    orders = con.execute("SELECT order_id, subtotal, discount, total FROM staging.orders ORDER BY ALL").fetchall()
    assert orders == [
        # 2000001969985.0001 (over a trillion), discounts 2000000000.49
        ("receipt:S01:R1", Decimal("2000001969985.00"), Decimal("2000000000.49"), Decimal("1998001969984.51")),
        ("receipt:S01:R2", Decimal("999999980000.00"), Decimal("999999999.99"), Decimal("998999980000.01")),
        ("receipt:S01:R3", Decimal("0.01"), Decimal("0.00"), Decimal("0.01")),
        ("receipt:S01:R4", Decimal("-0.01"), Decimal("0.00"), Decimal("-0.01")),
        ("receipt:S01:R5", None, Decimal("0.00"), None),
    ]
