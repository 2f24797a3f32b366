"""A store receipt delivered again: staging.orders and staging.order_lines read each line from
its latest delivery (latest landing day, then file, then line), whatever order the rows were
loaded in. Hand-made raw rows, answers computed by hand."""

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.raw.ledger import ensure_ingest_tables
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.settings import get_settings


def _line(
    receipt,
    line_no,
    qty,
    price,
    *,
    day,
    file,
    line,
    discount="0",
    ts="2026-09-10 12:00:00",
    tz="Europe/Stockholm",
    loyalty="",
):
    return {
        "receipt_id": receipt,
        "store_id": "S01",
        "ts_local": ts,
        "tz": tz,
        "loyalty_card_id": loyalty,
        "line_no": line_no,
        "sku": "A",
        "qty": qty,
        "unit_price": price,
        "discount": discount,
        "_landing_date": day,
        "_file": file,
        "_line": line,
        "_file_sha256": file,
    }


def _insert(c, rows):
    for row in rows:
        cols = ", ".join(f'"{k}"' for k in row)
        c.execute(f"INSERT INTO raw.pos_receipts ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    ensure_ingest_tables(c)
    _insert(
        c,
        [
            # the latest delivery comes first: load order must not matter
            _line("R1", "1", "3", "10,00", day="2026-10-03", file="pos/2026-10-03/r.csv", line=2),
            _line("R1", "1", "1", "10,00", day="2026-10-01", file="pos/2026-10-01/r.csv", line=2),
            _line("R1", "2", "1", "5,00", day="2026-10-01", file="pos/2026-10-01/r.csv", line=3),
            # the same day twice: the later file wins; within one file, the later line
            _line("R2", "1", "1", "7,00", day="2026-10-02", file="pos/2026-10-02/a.csv", line=2),
            _line("R2", "1", "2", "7,00", day="2026-10-02", file="pos/2026-10-02/b.csv", line=2),
            _line("R3", "1", "1", "1,00", day="2026-10-02", file="pos/2026-10-02/a.csv", line=3),
            _line("R3", "1", "4", "1,00", day="2026-10-02", file="pos/2026-10-02/a.csv", line=4),
            # without a line number a row is its own line (its file line)
            _line("R4", None, "1", "2,00", day="2026-10-02", file="pos/2026-10-02/a.csv", line=5),
            _line("R4", None, "1", "3,00", day="2026-10-02", file="pos/2026-10-02/a.csv", line=6),
        ],
    )
    yield c
    c.close()


def test_each_receipt_line_is_read_from_its_latest_delivery(con):
    for table in ("identity_records", "order_lines", "orders"):
        build_staging_table(con, SQL_DIR, table, get_settings(), full_refresh=True)
    lines = con.execute(
        "SELECT order_id, line_no, quantity, line_total FROM staging.order_lines ORDER BY ALL"
    ).fetchall()
    assert lines == [
        ("receipt:S01:R1", 1, Decimal("3.000"), Decimal("30.00")),
        ("receipt:S01:R1", 2, Decimal("1.000"), Decimal("5.00")),
        ("receipt:S01:R2", 1, Decimal("2.000"), Decimal("14.00")),
        ("receipt:S01:R3", 1, Decimal("4.000"), Decimal("4.00")),
        ("receipt:S01:R4", 5, Decimal("1.000"), Decimal("2.00")),
        ("receipt:S01:R4", 6, Decimal("1.000"), Decimal("3.00")),
    ]
    totals = con.execute("SELECT order_id, total FROM staging.orders ORDER BY ALL").fetchall()
    assert totals == [
        ("receipt:S01:R1", Decimal("35.00")),
        ("receipt:S01:R2", Decimal("14.00")),
        ("receipt:S01:R3", Decimal("4.00")),
        ("receipt:S01:R4", Decimal("5.00")),
    ]


def test_a_receipt_is_its_lines_summed_whatever_time_each_line_says(tmp_path):
    """A receipt's lines with different times and zones: the receipt is at the earliest time a
    line gives (an unreadable one gives none), its amounts are summed over all its lines."""
    c = duckdb.connect(str(tmp_path / "t.duckdb"))
    ensure_ingest_tables(c)
    at = {"day": "2026-10-02", "file": "pos/2026-10-02/c.csv"}
    _insert(
        c,
        [
            # 12:00 in Stockholm (summer time) is 10:00 UTC; "1 299,00" is read by the Python
            _line("R5", "1", "2", "1 299,00", line=2, discount="10,00", **at),
            _line("R5", "2", "1", "5,50", line=3, ts="2026-09-10 09:30:00", tz="UTC", loyalty="7350000000001", **at),
            # no readable time, no quantity (one item), no discount, a blank card
            _line("R5", "3", "", "1,00", line=4, ts="not a time", tz="", discount="", loyalty=" ", **at),
            # the same time as R5's first line: each receipt has its own
            _line("R6", "1", "1", "3,00", line=5, **at),
            # the later landing day wins though its file's path sorts first
            _line("R7", "1", "1", "2,00", day="2026-10-02", file="z.csv", line=2),
            _line("R7", "1", "5", "2,00", day="2026-10-03", file="a.csv", line=2),
        ],
    )
    for table in ("identity_records", "orders", "order_lines"):
        build_staging_table(c, SQL_DIR, table, get_settings(), full_refresh=True)
    assert c.execute("SELECT quantity FROM staging.order_lines WHERE order_id = 'receipt:S01:R7'").fetchall() == [
        (Decimal("5.000"),)
    ]
    got = c.execute(
        "SELECT order_id, ordered_at, subtotal, discount, total, loyalty_card_id FROM staging.orders ORDER BY ALL"
    ).fetchall()
    c.close()
    assert got == [
        (
            "receipt:S01:R5",
            dt.datetime(2026, 9, 10, 9, 30),
            Decimal("2604.50"),
            Decimal("10.00"),
            Decimal("2594.50"),
            "7350000000001",
        ),
        ("receipt:S01:R6", dt.datetime(2026, 9, 10, 10, 0), Decimal("3.00"), Decimal("0.00"), Decimal("3.00"), None),
        ("receipt:S01:R7", dt.datetime(2026, 9, 10, 10, 0), Decimal("10.00"), Decimal("0.00"), Decimal("10.00"), None),
    ]
