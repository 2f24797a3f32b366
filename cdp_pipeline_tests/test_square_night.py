"""Square's Items Detail export through the whole night (`cdp run`): a transaction with a Customer
ID resolves to the customer of the Square customer export (crm/) with that Square Customer ID,
and is on that customer's timeline; `cdp forget` erases the person's Square rows in every layer,
and a later export repeating them is suppressed at ingest. Fixtures: fixtures/vendors/square/."""

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cdp_pipeline import cli
from cdp_pipeline_tests.conftest import point_cdp_at

pytestmark = pytest.mark.slow

SQUARE = Path(__file__).resolve().parent / "fixtures" / "vendors" / "square"
ITEMS = SQUARE / "items-2026-07-01-2026-07-31.csv"
KARIN, JONAS = "7ZQ2KX0J1H3BVMC5W8R6T4N9PA", "3MFK8D2QWX5Y7RJ9TZB4C6HNE0"
LATTE, JACKET = "square:Kt9Qm2XwY7aB4cD1eF6gH8jL3nP", "square:Rw5Tx6Uy7Vz8Wa9Xb0Yc1Zd2Ae3"


def _drop(settings, source: str, day: str, src: Path, name: str | None = None) -> None:
    folder = settings.landing_dir / source / day
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, folder / (name or src.name))


def _q(settings, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _customer_of(settings, source: str, record: str) -> str | None:
    rows = _q(
        settings,
        "SELECT customer_id FROM identity.customer_map WHERE source = ? AND source_record_id = ?",
        [source, record],
    )
    return rows[0][0] if rows else None


def test_square_sales_join_their_customer_and_go_with_her(tmp_path, monkeypatch):
    settings = point_cdp_at(tmp_path, monkeypatch)
    _drop(settings, "crm", "2026-08-01", SQUARE / "export-20261001-093012.csv")
    _drop(settings, "pos", "2026-08-01", ITEMS)
    assert cli.main(["run"]) == 0

    karin = _customer_of(settings, "crm", KARIN)
    assert karin is not None and _customer_of(settings, "pos", LATTE) == karin
    jonas = _customer_of(settings, "crm", JONAS)
    assert jonas not in (None, karin) and _customer_of(settings, "pos", JACKET) == jonas
    assert _q(
        settings,
        "SELECT event_type, summary FROM golden.customer_timeline WHERE customer_id = ? AND channel = 'store'",
        [karin],
    ) == [("store_receipt", "Store receipt at Main Street: 12.52 USD")]  # with its US sales tax (s45)
    assert _q(
        settings,
        "SELECT summary FROM golden.customer_timeline WHERE customer_id = ? AND channel = 'store'",
        [jonas],
    ) == [("Store receipt at Harbor: 49.00 USD (refunded 49.00)",)]
    # in the default SEK warehouse a dollar sale adds nothing to spend (test_a_usd_warehouse_gets_its_spend)
    assert _q(
        settings, "SELECT total_spend, average_order_value FROM golden.customers WHERE customer_id = ?", [karin]
    ) == [(Decimal("0.00"), None)]

    assert cli.main(["forget", "karin.ek@fjordpost.se"]) == 0
    assert cli.main(["run"]) == 0
    assert _q(settings, "SELECT count(*) FROM raw.pos_square_items WHERE customer_id = ?", [KARIN]) == [(0,)]
    assert _q(settings, "SELECT count(*) FROM staging.orders WHERE order_id = ?", [LATTE]) == [(0,)]
    assert _q(settings, "SELECT count(*) FROM staging.order_lines WHERE order_id = ?", [LATTE]) == [(0,)]
    assert _q(settings, "SELECT count(*) FROM staging.identity_records WHERE source_record_id = ?", [LATTE]) == [(0,)]
    assert _customer_of(settings, "pos", LATTE) is None
    # Jonas's sale and its refund stay; so does the anonymous sale
    assert _q(settings, "SELECT count(*) FROM raw.pos_square_items") == [(3,)]
    assert _customer_of(settings, "pos", JACKET) == _customer_of(settings, "crm", JONAS)

    # a later export repeating her sale (other bytes: another file) is suppressed at ingest
    _drop(settings, "pos", "2026-08-02", ITEMS, "items-2026-07-18-2026-08-01.csv")
    with open(settings.landing_dir / "pos" / "2026-08-02" / "items-2026-07-18-2026-08-01.csv", "a") as fh:
        fh.write("\n")
    assert cli.main(["run"]) == 0
    assert _q(
        settings,
        "SELECT rows_loaded, rows_quarantined, rows_suppressed FROM audit.files WHERE file LIKE 'pos/2026-08-02/%'",
    ) == [(3, 1, 2)]
    assert _q(settings, "SELECT count(*) FROM raw.pos_square_items WHERE customer_id = ?", [KARIN]) == [(0,)]
    assert _q(settings, "SELECT count(*) FROM staging.orders WHERE order_id = ?", [LATTE]) == [(0,)]


def test_a_usd_warehouse_gets_its_spend(tmp_path, monkeypatch):
    """A US merchant (CDP_CURRENCY=USD): Square's $ amounts are in the warehouse currency, so they are spend."""
    monkeypatch.setenv("CDP_CURRENCY", "USD")
    settings = point_cdp_at(tmp_path, monkeypatch)
    _drop(settings, "crm", "2026-08-01", SQUARE / "export-20261001-093012.csv")
    _drop(settings, "pos", "2026-08-01", ITEMS)
    assert cli.main(["run"]) == 0

    assert _q(settings, "SELECT DISTINCT currency FROM staging.orders") == [("USD",)]
    spend = (
        "SELECT orders_count, total_spend, store_spend, average_order_value FROM golden.customers WHERE customer_id = ?"
    )
    # Karin's latte and croissants with their US sales tax (12.52); Jonas's jacket came back in full: no purchase,
    # 49.00 - 49.00 of spend
    assert _q(settings, spend, [_customer_of(settings, "crm", KARIN)]) == [
        (1, Decimal("12.52"), Decimal("12.52"), Decimal("12.52"))
    ]
    assert _q(settings, spend, [_customer_of(settings, "crm", JONAS)]) == [(0, Decimal("0.00"), Decimal("0.00"), None)]
