"""staging.order_lines' line_total: quantity x unit price - discount, exact on both sides of the
bound under which create_order_lines.sql multiplies in 18 digits (quantity and price under a
million, discount under a billion) and NULL when the total does not fit DECIMAL(18, 2).
Hand-made receipt lines, answers computed by hand."""

from decimal import Decimal

import duckdb
import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.raw.ledger import ensure_ingest_tables
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.staging.test_receipt_redelivery import _insert, _line

_DAY, _FILE = "2026-10-01", "pos/2026-10-01/r.csv"


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    ensure_ingest_tables(c)
    lines = [
        # (line, qty, price, discount): the largest of the 18-digit path, and just past its bounds
        ("1", "999999,99", "999999,99", "999999999,99"),
        ("2", "1000000", "999999,99", "0"),
        ("3", "2", "1000000,00", "0,50"),
        ("4", "1", "10,00", "1000000000,00"),
        # a negative quantity (a return) and half a cent, rounded away from zero (quantities are read to
        # the cent, as amounts)
        ("5", "-2", "12,50", "0"),
        ("6", "0,5", "0,01", "0"),
        ("7", "-0,5", "0,01", "0"),
        # over DECIMAL(18, 2): no total, not a failed night
        ("8", "99999999999999", "99999999999,99", "0"),
    ]
    _insert(
        c,
        [
            _line("R1", n, qty, price, discount=discount, day=_DAY, file=_FILE, line=i + 2)
            for i, (n, qty, price, discount) in enumerate(lines)
        ],
    )
    yield c
    c.close()


def test_line_totals_are_exact_on_both_sides_of_the_18_digit_bound(con):
    build_staging_table(con, SQL_DIR, "order_lines", get_settings(), full_refresh=True)
    totals = con.execute("SELECT line_no, line_total FROM staging.order_lines ORDER BY line_no").fetchall()
    assert totals == [
        (1, Decimal("998999980000.01")),  # 999999980000.0001 less 999999999.99
        (2, Decimal("999999990000.00")),
        (3, Decimal("1999999.50")),
        (4, Decimal("-999999990.00")),
        (5, Decimal("-25.00")),
        (6, Decimal("0.01")),
        (7, Decimal("-0.01")),
        (8, None),
    ]
