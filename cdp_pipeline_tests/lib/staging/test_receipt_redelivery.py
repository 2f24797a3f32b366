"""A store receipt delivered again: staging.orders and staging.order_lines read each line from
its latest delivery (latest landing day, then file, then line), whatever order the rows were
loaded in. Hand-made raw rows, answers computed by hand."""

from decimal import Decimal

import duckdb
import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.raw.ledger import ensure_ingest_tables
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.settings import get_settings


def _line(receipt, line_no, qty, price, *, day, file, line, discount="0"):
    return {
        "receipt_id": receipt,
        "store_id": "S01",
        "ts_local": "2026-09-10 12:00:00",
        "tz": "Europe/Stockholm",
        "loyalty_card_id": "",
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


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    ensure_ingest_tables(c)
    rows = [
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
    ]
    for row in rows:
        cols = ", ".join(f'"{k}"' for k in row)
        c.execute(f"INSERT INTO raw.pos_receipts ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
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
