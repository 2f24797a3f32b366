"""A WooCommerce order export (the "Advanced Order Export For WooCommerce" plugin's default layout,
one row per order item with the order's columns on every row) read as online orders: raw with its
broken line quarantined, staging orders with known amounts, statuses and UTC times, lines, the
billing person as an identity record, a re-export read once (whole and keyed alike), erasure and
suppression at ingest. The fixtures have the plugin's real header (fixtures/vendors/README.md) with
made-up people and numbers."""

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.raw import load_partition
from cdp_pipeline.lib.raw.file_kinds import POS_ORDERS, WOOCOMMERCE_ORDERS, classify_csv, normalise_header
from cdp_pipeline.lib.raw.ledger import ledger_balance
from cdp_pipeline.lib.staging.build import build_staging
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.raw.vendor_landing import q, staged_landing_day

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vendors" / "woocommerce"
ORDERS = FIXTURES / "orders-2026-10-01.csv"
# the next day's export: order 1001 again as it was, 1003 now refunded in full
REEXPORT = FIXTURES / "orders-2026-10-02.csv"
DAY, NEXT = "2026-10-01", "2026-10-02"
HEADER = ORDERS.read_text(encoding="utf-8").splitlines()[0]
TABLES = ("identity_records", "orders", "order_lines")


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = staged_landing_day(tmp_path_factory.mktemp("woocommerce_orders"), DAY, {("pos", ORDERS.name): ORDERS})
    yield c
    c.close()


def test_the_header_is_a_woocommerce_order_export_and_shopifys_is_not():
    keys = {normalise_header(h.strip('"')) for h in HEADER.split(",")}
    assert classify_csv("pos", ORDERS.name, keys) is WOOCOMMERCE_ORDERS
    # its "Name" is an item's: the same header without the order columns is no Woo export
    shopify = {"name", "email", "financial_status", "lineitem_name", "lineitem_price"}
    assert classify_csv("pos", "orders_export.csv", shopify) is POS_ORDERS
    assert WOOCOMMERCE_ORDERS.table == POS_ORDERS.table


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Order Number", "name"),
        ("Name", "lineitem_name"),
        ("Email (Billing)", "email"),
        ("Phone (Billing)", "billing_phone"),
        ("Address 1&2 (Billing)", "billing_street"),
        ("Postcode (Billing)", "billing_zip"),
        # the optional one-field name and the 1.x labels
        ("Full Name (Billing)", "billing_name"),
        ("Zip (Billing)", "billing_zip"),
        ("Address 1 (Billing)", "billing_street"),
        ("Cart Discount Amount", "discount_amount"),
        ("Discount Amount", "discount_amount"),
        ("Payment Method Title", None),
    ],
)
def test_woocommerce_columns_are_the_orders_columns(header, column):
    assert WOOCOMMERCE_ORDERS.canonical(header) == column


def test_rows_are_loaded_and_the_broken_line_quarantined_with_its_reason(con):
    assert q(
        con, "SELECT file_kind, status, rows_read, rows_loaded, rows_quarantined FROM audit.files WHERE source = 'pos'"
    ) == [("woocommerce_orders", "loaded", 7, 6, 1)]
    assert q(con, "SELECT file, line_number, reason FROM audit.quarantine") == [
        (f"pos/{DAY}/{ORDERS.name}", 5, "wrong number of fields: expected 48, found 4")
    ]
    balance = ledger_balance(con, "pos", "pos_orders")
    assert balance["balanced"] and balance["raw_matches"] and balance["raw_rows"] == 6
    # the order's discount is Cart Discount Amount; the coupon's Discount Amount and the columns
    # not read stay in _extra, as received
    assert q(
        con,
        "SELECT name, lineitem_name, discount_amount, _extra->>'Discount Amount', _extra->>'Payment Method Title' "
        "FROM raw.pos_orders WHERE name = '1003'",
    ) == [("1003", "Cap", "10.00", "10.00", "Swish")]


def test_orders_amounts_statuses_and_times_in_utc(con):
    rows = q(
        con,
        "SELECT order_id, channel, ordered_at, currency, subtotal, shipping, taxes, discount, total, refunded_amount, "
        "financial_status, email, dq_flags FROM staging.orders ORDER BY order_id",
    )
    anna, jan, lea, olle = (f"{n}@fjordpost.{d}" for n, d in (("anna.svensson", "se"), ("jan.vdberg", "nl"),
                                                             ("lea.nilsson", "se"), ("olle.berg", "se")))  # fmt: skip
    assert rows == [
        # 12:00 in Stockholm in September (CEST, UTC+2); two items; no Currency column: SEK
        ("order:1001", "online", dt.datetime(2026, 9, 30, 10, 0), "SEK", Decimal("319.20"), Decimal("49.00"),
         Decimal("79.80"), Decimal("0.00"), Decimal("448.00"), Decimal("0.00"), "paid", anna, []),
        ("order:1002", "online", dt.datetime(2026, 9, 30, 16, 30), "SEK", Decimal("47.92"), Decimal("0.00"),
         Decimal("11.98"), Decimal("0.00"), Decimal("59.90"), Decimal("59.90"), "refunded", jan, []),
        # 09:05 in January (CET, UTC+1); Completed with 20.00 refunded; a 10.00 coupon
        ("order:1003", "online", dt.datetime(2026, 1, 15, 8, 5), "SEK", Decimal("120.00"), Decimal("0.00"),
         Decimal("27.50"), Decimal("10.00"), Decimal("137.50"), Decimal("20.00"), "partially_refunded", lea, []),
        # Cancelled: voided, no sale (create_customer_traits.sql)
        ("order:1004", "online", dt.datetime(2026, 10, 1, 6, 15), "SEK", Decimal("80.00"), Decimal("0.00"),
         Decimal("20.00"), Decimal("0.00"), Decimal("100.00"), Decimal("0.00"), "voided", anna, []),
        # On hold; a date (month 13) and a total ("n/a") not read: NULL and flagged, the order kept
        ("order:1005", "online", None, "SEK", Decimal("40.00"), Decimal("0.00"), Decimal("10.00"), Decimal("0.00"),
         None, Decimal("0.00"), "pending", olle, ["unreadable_ordered_at", "unreadable_total"]),
    ]  # fmt: skip


def test_each_row_is_a_line_priced_by_its_item_cost(con):
    assert q(
        con, "SELECT order_id, line_no, sku, item_name, quantity, unit_price, line_total FROM staging.order_lines "
        "ORDER BY ALL"
    ) == [
        ("order:1001", 1, "TS-1", "T-shirt", Decimal("1.000"), Decimal("159.20"), Decimal("159.20")),
        ("order:1001", 2, "MUG-2", "Mug", Decimal("2.000"), Decimal("80.00"), Decimal("160.00")),
        ("order:1002", 1, "SOCK-3", "Socks", Decimal("1.000"), Decimal("47.92"), Decimal("47.92")),
        ("order:1003", 1, "CAP-4", "Cap", Decimal("1.000"), Decimal("120.00"), Decimal("120.00")),
        ("order:1004", 1, "MUG-2", "Mug", Decimal("1.000"), Decimal("80.00"), Decimal("80.00")),
        ("order:1005", 1, "PEN-5", "Pen", Decimal("4.000"), Decimal("10.00"), Decimal("40.00")),
    ]  # fmt: skip


def test_the_billing_person_is_the_orders_identity_record(con):
    rows = q(
        con,
        "SELECT source_record_id, first_name, last_name, email, phone, street, postcode, city, country "
        "FROM staging.identity_records ORDER BY source_record_id",
    )
    assert rows == [
        # the first and last name as written in their two fields (not split from one)
        ("order:1001", "Anna", "Svensson", "anna.svensson@fjordpost.se", "+46701234567", "Storgatan 1", "211 19",
         "Malmö", "SE"),
        ("order:1002", "Jan", "van der Berg", "jan.vdberg@fjordpost.nl", "+31305550123", "Oudegracht 12", "3511 AB",
         "Utrecht", "NL"),
        ("order:1003", "Lea", "Nilsson", "lea.nilsson@fjordpost.se", "+46707654321", "Lilla torget 3", "411 18",
         "Göteborg", "SE"),
        ("order:1004", "Anna", "Svensson", "anna.svensson@fjordpost.se", "+46701234567", "Storgatan 1", "211 19",
         "Malmö", "SE"),
        ("order:1005", "Olle", "Berg", "olle.berg@fjordpost.se", None, "Ringvägen 5", "117 26", "Stockholm", "SE"),
    ]  # fmt: skip


def _build_all(c, full_refresh=False):
    modes = {build_staging(c, SQL_DIR, t, get_settings(), full_refresh=full_refresh)[1].mode for t in TABLES}
    assert len(modes) == 1
    return modes.pop()


def test_a_re_export_is_read_once_and_a_later_refund_replaces_the_order_whole_and_keyed(tmp_path):
    """The next day's export repeats order 1001 and writes 1003 refunded in full: 1001 keeps its two
    lines (not four), 1003 is refunded, and the keyed build of that night equals the whole build."""
    landing = tmp_path / "landing"
    for day, src in ((DAY, ORDERS), (NEXT, REEXPORT)):
        (landing / "pos" / day).mkdir(parents=True)
        shutil.copy(src, landing / "pos" / day / src.name)
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    load_partition(c, landing, "pos", DAY, suppression=set())
    assert _build_all(c) == "full"
    load_partition(c, landing, "pos", NEXT, suppression=set())
    assert _build_all(c) == "incremental"
    keyed = {t: q(c, f"SELECT * FROM staging.{t} ORDER BY ALL") for t in TABLES}
    assert q(c, "SELECT order_id, total, refunded_amount, financial_status FROM staging.orders "
             "WHERE order_id IN ('order:1001', 'order:1003') ORDER BY 1") == [
        ("order:1001", Decimal("448.00"), Decimal("0.00"), "paid"),
        ("order:1003", Decimal("137.50"), Decimal("137.50"), "refunded"),
    ]  # fmt: skip
    assert q(c, "SELECT count(*) FROM staging.order_lines WHERE order_id = 'order:1001'") == [(2,)]
    assert q(c, "SELECT count(*) FROM staging.orders") == [(5,)]
    c.execute("CHECKPOINT")
    c.close()
    shutil.copy(tmp_path / "b.duckdb", tmp_path / "full.duckdb")
    full = duckdb.connect(str(tmp_path / "full.duckdb"))
    assert _build_all(full, full_refresh=True) == "full"
    assert {t: q(full, f"SELECT * FROM staging.{t} ORDER BY ALL") for t in TABLES} == keyed
    full.close()


@pytest.mark.parametrize(
    ("status", "refunded", "financial_status"),
    [
        ("Completed", "0", "paid"),
        ("Processing", "", "paid"),
        ("Processing", "5.00", "partially_refunded"),
        ("On hold", "0", "pending"),
        ("Pending payment", "0", "pending"),
        ("Refunded", "59.90", "refunded"),
        ("Cancelled", "0", "voided"),
        ("Failed", "0", "voided"),
        ("Draft", "0", "voided"),
        # a status a shop added (a plugin's) is kept as written, lower case
        ("Awaiting Pickup", "0", "awaiting pickup"),
    ],
)
def test_woocommerce_status_names_are_financial_statuses(tmp_path, status, refunded, financial_status):
    lines = ORDERS.read_text(encoding="utf-8").splitlines()
    row = (
        lines[3]
        .replace("1002,Refunded,", f"1002,{status},")
        .replace(",59.90,59.90,11.98,", f",{refunded},59.90,11.98,")
    )
    assert row != lines[3] or status == "Refunded"
    c = staged_landing_day(tmp_path, DAY, {("pos", ORDERS.name): "\n".join([lines[0], row]) + "\n"})
    assert q(c, "SELECT financial_status FROM staging.orders") == [(financial_status,)]
    c.close()


def test_cdp_forget_erases_her_orders_and_a_redelivery_is_suppressed_at_ingest(cdp_env):
    """Anna erased by her address: her raw rows go (orders 1001 and 1004, every item row, with the
    names and address on them); the same export delivered the next day loads the others only."""
    from cdp_pipeline.lib.audit import queue_erasure, run_pending_erasures
    from cdp_pipeline_tests.lib.raw.vendor_landing import build_staging as build_every_table

    con = duckdb.connect(str(cdp_env.build_db))
    for day in (DAY, NEXT):
        folder = cdp_env.landing_dir / "pos" / day
        folder.mkdir(parents=True)
        # the second delivery differs by a byte (the same bytes are a duplicate, never re-read)
        (folder / ORDERS.name).write_bytes(ORDERS.read_bytes() + (b"\n" if day != DAY else b""))
    load_partition(con, cdp_env.landing_dir, "pos", DAY, settings=cdp_env)
    build_every_table(con)
    queue_erasure("anna.svensson@fjordpost.se", cdp_env.inbox_dir)
    run_pending_erasures(con, cdp_env)
    orders = "SELECT DISTINCT name FROM raw.pos_orders WHERE _landing_date = ? ORDER BY 1"
    assert q(con, orders, [DAY]) == [("1002",), ("1003",), ("1005",)]
    assert q(con, "SELECT count(*) FROM raw.pos_orders WHERE billing_last_name = 'Svensson'") == [(0,)]

    load_partition(con, cdp_env.landing_dir, "pos", NEXT, settings=cdp_env)
    assert q(con, orders, [NEXT]) == [("1002",), ("1003",), ("1005",)]
    assert q(
        con, "SELECT file_kind, rows_read, rows_loaded, rows_quarantined, rows_suppressed, rows_erased "
        "FROM audit.files ORDER BY file"
    ) == [
        ("woocommerce_orders", 7, 6, 1, 0, 3),  # erased after the load: counted against its file
        ("woocommerce_orders", 7, 3, 1, 3, 0),  # the redelivery: her three item rows suppressed at ingest
    ]  # fmt: skip
    assert ledger_balance(con, "pos", "pos_orders")["balanced"]
    con.close()
