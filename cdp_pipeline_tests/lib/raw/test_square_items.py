"""Square's Items Detail export (a row per item sold or refunded) read as store receipts: raw with
its broken line quarantined, staging orders and lines with known amounts, refunds and UTC times,
the Square customer key carried to identity, an overlapping re-export and a later refund built
alike whole and keyed. The fixture has Square's real 29-column header (fixtures/vendors/README.md)
with made-up values; the Square customer export beside it is the s42 fixture."""

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.raw import load_partition
from cdp_pipeline.lib.raw.file_kinds import POS_SQUARE_ITEMS, classify_csv, normalise_header
from cdp_pipeline.lib.raw.ledger import ledger_balance
from cdp_pipeline.lib.staging.build import build_staging
from cdp_pipeline.lib.staging.zones import iana_zone, rails_zones
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.raw.vendor_landing import q, staged_landing_day

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vendors" / "square"
ITEMS = FIXTURES / "items-2026-07-01-2026-07-31.csv"
CUSTOMERS = FIXTURES / "export-20261001-093012.csv"
DAY = "2026-08-01"
KARIN, JONAS = "7ZQ2KX0J1H3BVMC5W8R6T4N9PA", "3MFK8D2QWX5Y7RJ9TZB4C6HNE0"  # Square Customer IDs
LATTE, JACKET, TEA = (
    "square:Kt9Qm2XwY7aB4cD1eF6gH8jL3nP",
    "square:Rw5Tx6Uy7Vz8Wa9Xb0Yc1Zd2Ae3",
    "square:Mn4Op5Qr6St7Uv8Wx9Yz0Ab1Cd2",
)
HEADER = ITEMS.read_text(encoding="utf-8").splitlines()[0]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("square_items")
    c = staged_landing_day(tmp, DAY, {("crm", CUSTOMERS.name): CUSTOMERS, ("pos", ITEMS.name): ITEMS})
    yield c
    c.close()


def test_the_header_is_the_items_detail_kind():
    keys = {normalise_header(h) for h in HEADER.split(",")}
    assert classify_csv("pos", ITEMS.name, keys) is POS_SQUARE_ITEMS


def test_rows_are_loaded_and_the_broken_line_quarantined_with_its_reason(con):
    assert q(
        con, "SELECT file_kind, status, rows_read, rows_loaded, rows_quarantined FROM audit.files WHERE source = 'pos'"
    ) == [("pos_square_items", "loaded", 6, 5, 1)]
    assert q(con, "SELECT file, line_number, reason FROM audit.quarantine") == [
        (f"pos/{DAY}/{ITEMS.name}", 4, "wrong number of fields: expected 29, found 4")
    ]
    balance = ledger_balance(con, "pos", "pos_square_items")
    assert balance["balanced"] and balance["raw_matches"] and balance["raw_rows"] == 5
    # columns not read stay in _extra, as received
    assert q(con, "SELECT _extra->>'Customer Name' FROM raw.pos_square_items WHERE _line = 2") == [("Karin Ek",)]


def test_orders_amounts_refund_and_times_in_utc(con):
    rows = q(
        con,
        "SELECT order_id, channel, ordered_at, currency, subtotal, discount, taxes, total, refunded_amount, "
        "financial_status, store_id FROM staging.orders ORDER BY order_id",
    )
    # The US sales tax comes on top of the net sales (Net Sales = Gross Sales - Discounts): it is in the total, what
    # the customer paid (session 45; it was left out: 11.50, 3.00 and 45.00), and a refund's tax in the refund
    assert rows == [
        # 12:59:30 Eastern Time in July (EDT, UTC-4); two lines, a $1.00 discount off the croissants
        (LATTE, "store", dt.datetime(2026, 7, 18, 16, 59, 30), "USD", Decimal("12.50"), Decimal("1.00"),
         Decimal("1.02"), Decimal("12.52"), None, "paid", "Main Street"),
        # 08:00 Eastern, no customer: an anonymous sale
        (TEA, "store", dt.datetime(2026, 7, 21, 12, 0), "USD", Decimal("3.00"), Decimal("0.00"),
         Decimal("0.27"), Decimal("3.27"), None, "paid", "Main Street"),
        # 09:15 Pacific (PDT, UTC-7); its Refund row the next day ($45.00 and its $4.00 tax) is the refunded amount
        (JACKET, "store", dt.datetime(2026, 7, 19, 16, 15), "USD", Decimal("45.00"), Decimal("0.00"),
         Decimal("4.00"), Decimal("49.00"), Decimal("49.00"), "refunded", "Harbor"),
    ]  # fmt: skip


def test_lines_unit_price_is_gross_sales_over_qty(con):
    # every line read: no dq_flags
    assert q(con, "SELECT * EXCLUDE (dq_flags) FROM staging.order_lines ORDER BY order_id, line_no") == [
        (LATTE, 1, "LAT-12", "Latte, Regular", Decimal("1.000"), Decimal("4.50"), Decimal("0.00"), Decimal("4.50")),
        (LATTE, 2, "CRS-01", "Croissant", Decimal("2.000"), Decimal("4.00"), Decimal("1.00"), Decimal("7.00")),
        (TEA, 1, None, "Green Tea", Decimal("1.000"), Decimal("3.00"), Decimal("0.00"), Decimal("3.00")),
        (
            JACKET,
            1,
            "JKT-M",
            "Rain Jacket, Medium",
            Decimal("1.000"),
            Decimal("45.00"),
            Decimal("0.00"),
            Decimal("45.00"),
        ),
    ]
    assert q(con, "SELECT DISTINCT dq_flags FROM staging.order_lines") == [([],)]
    assert q(con, "SELECT DISTINCT dq_flags FROM staging.orders") == [([],)]


def test_a_transaction_with_a_customer_id_carries_the_square_customer_key(con):
    """The Square customer export's key (Square Customer ID) is the CRM record's customer id; a
    transaction's Customer ID is carried as the same identifier (kind crm_customer), so identity
    links the two. A sale without a customer is no identity record."""
    assert q(
        con,
        "SELECT source, source_record_id, crm_customer_id, record_time FROM staging.identity_records "
        "WHERE crm_customer_id IN (?, ?) ORDER BY crm_customer_id, source",
        [JONAS, KARIN],
    ) == [
        ("crm", JONAS, JONAS, dt.datetime(2026, 8, 1)),
        ("pos", JACKET, JONAS, dt.datetime(2026, 7, 19, 16, 15)),
        ("crm", KARIN, KARIN, dt.datetime(2026, 8, 1)),
        ("pos", LATTE, KARIN, dt.datetime(2026, 7, 18, 16, 59, 30)),
    ]
    assert q(con, "SELECT count(*) FROM staging.identity_records WHERE source_record_id = ?", [TEA]) == [(0,)]
    # the transaction's Customer Name (in _extra) is the record's name, split as a billing name (it was not read)
    assert q(
        con,
        "SELECT source_record_id, first_name, last_name FROM staging.identity_records WHERE source = 'pos' ORDER BY 1",
    ) == [(LATTE, "Karin", "Ek"), (JACKET, "Jonas", "Berg")]
    # orders name their identity record
    assert q(
        con, "SELECT order_id, source_record_id FROM staging.orders WHERE source_record_id IS NOT NULL ORDER BY 1"
    ) == [
        (LATTE, LATTE),
        (JACKET, JACKET),
    ]


ROW = "{date},{time},{zone},Tea,Green Tea,1.0,,,,$3.00,$0.00,$3.00,$0.27,{tid},P1,iPad,,,Payment,Main Street,,,,,ea,1,,$0.00,\n"


@pytest.mark.parametrize(
    ("date", "time", "zone", "utc"),
    [
        ("2026-01-15", "08:00:00", "Eastern Time (US & Canada)", dt.datetime(2026, 1, 15, 13, 0)),  # EST, UTC-5
        ("2026-01-15", "8:00:00 AM", "Eastern Time (US & Canada)", dt.datetime(2026, 1, 15, 13, 0)),  # 12-hour
        ("2026-07-15", "2:30:00 PM", "(GMT-06:00) Central Time (US & Canada)", dt.datetime(2026, 7, 15, 19, 30)),
        ("2026-07-15", "14:30:00", "London", dt.datetime(2026, 7, 15, 13, 30)),  # BST
        ("2026-07-15", "14:30:00", "Australia/Sydney", dt.datetime(2026, 7, 15, 4, 30)),  # an IANA name as is
        ("2026-07-15", "14:30:00", "", dt.datetime(2026, 7, 15, 12, 30)),  # no zone: CDP_TIMEZONE (Stockholm)
        ("2026-07-15", "14:30:00", "Central European Time", dt.datetime(2026, 7, 15, 12, 30)),  # unknown: as no zone
    ],
)
def test_date_time_and_zone_are_one_utc_time(tmp_path, date, time, zone, utc):
    text = HEADER + "\n" + ROW.format(date=date, time=time, zone=zone, tid="T1")
    con = staged_landing_day(tmp_path, DAY, {("pos", "items-2026-07-15-2026-07-15.csv"): text})
    assert q(con, "SELECT ordered_at FROM staging.orders") == [(utc,)]
    con.close()


def test_a_tax_included_in_the_prices_is_not_added_again(tmp_path):
    # A VAT or GST price includes its tax: Square's Net Sales is then Gross Sales less Discounts and Tax (100.00 gross,
    # 20.00 of it VAT, net 80.00), and the customer paid the gross: the total is 100.00, not 120.00
    row = ROW.format(date="2026-07-15", time="14:30:00", zone="London", tid="V1")
    row = row.replace("$3.00,$0.00,$3.00,$0.27", "€100.00,€0.00,€80.00,€20.00")
    con = staged_landing_day(tmp_path, DAY, {("pos", "items-2026-07-15-2026-07-15.csv"): HEADER + "\n" + row})
    assert q(con, "SELECT currency, subtotal, taxes, total FROM staging.orders") == [
        ("EUR", Decimal("100.00"), Decimal("20.00"), Decimal("100.00"))
    ]
    con.close()


def test_an_unknown_time_zone_name_is_read_as_cdp_timezone_and_flagged(tmp_path):
    # "Central European Time" is no Rails or IANA name: the time is read in CDP_TIMEZONE (Stockholm), as a blank
    # zone is, but the order says so in dq_flags (it did not: a few hours off without a trace); a blank zone is
    # not flagged (nothing was written)
    rows = ROW.format(date="2026-07-15", time="14:30:00", zone="Central European Time", tid="Z1") + ROW.format(
        date="2026-07-15", time="14:30:00", zone="", tid="Z2"
    )
    con = staged_landing_day(tmp_path, DAY, {("pos", "items-2026-07-15-2026-07-15.csv"): HEADER + "\n" + rows})
    assert q(con, "SELECT order_id, ordered_at, dq_flags FROM staging.orders ORDER BY order_id") == [
        ("square:Z1", dt.datetime(2026, 7, 15, 12, 30), ["unknown_time_zone"]),
        ("square:Z2", dt.datetime(2026, 7, 15, 12, 30), []),
    ]
    con.close()


def test_an_amount_or_quantity_it_cannot_read_is_null_with_its_reason(tmp_path):
    # T2's Gross Sales and T3's Qty are written but are no amounts: the order and the line are kept,
    # the value NULL and named in dq_flags (as a receipt's); T1 is read as usual
    rows = [
        ROW.format(date="2026-07-15", time="14:30:00", zone="London", tid=tid).replace(old, new, 1)
        for tid, old, new in (("T1", "", ""), ("T2", "$3.00,$0.00,$3.00", "n/a,$0.00,$3.00"), ("T3", ",1.0,", ",one,"))
    ]
    con = staged_landing_day(tmp_path, DAY, {("pos", "items-2026-07-15-2026-07-15.csv"): HEADER + "\n" + "".join(rows)})
    assert q(con, "SELECT order_id, subtotal, total, dq_flags FROM staging.orders ORDER BY order_id") == [
        ("square:T1", Decimal("3.00"), Decimal("3.27"), []),  # with its $0.27 sales tax
        ("square:T2", None, None, ["unreadable_line_amount"]),
        ("square:T3", Decimal("3.00"), Decimal("3.27"), []),
    ]
    assert q(con, "SELECT order_id, quantity, unit_price, dq_flags FROM staging.order_lines ORDER BY order_id") == [
        ("square:T1", Decimal("1.000"), Decimal("3.00"), []),
        ("square:T2", Decimal("1.000"), None, ["unreadable_unit_price"]),
        ("square:T3", None, None, ["unreadable_quantity"]),
    ]
    con.close()


def test_rails_zone_names_come_from_activesupport_and_name_real_zones():
    zones = rails_zones()
    assert len(zones) >= 150 and zones["Eastern Time (US & Canada)"] == "America/New_York"
    assert {iana_zone(z) for z in zones} == set(zones.values())  # every target is a zone zoneinfo has
    assert iana_zone("  pacific time (us & canada) ") == "America/Los_Angeles"
    assert iana_zone("Europe/Oslo") == "Europe/Oslo"
    assert iana_zone(" ") is iana_zone("Central European Time") is None


def _build_all(c, full_refresh=False):
    modes = {build_staging(c, SQL_DIR, t, get_settings(), full_refresh=full_refresh)[1].mode for t in TABLES}
    assert len(modes) == 1
    return modes.pop()


TABLES = ("identity_records", "orders", "order_lines")


def test_an_overlapping_re_export_and_a_later_refund_whole_and_keyed(tmp_path):
    """The next day's export repeats the latte sale (an export of overlapping days) and adds a
    refund of one croissant: the sale counts once, the refund is the order's refunded amount, and
    the keyed build of that night equals the whole build."""
    landing = tmp_path / "landing"
    for source, day, src in (("crm", DAY, CUSTOMERS), ("pos", DAY, ITEMS)):
        (landing / source / day).mkdir(parents=True, exist_ok=True)
        shutil.copy(src, landing / source / day / src.name)
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    for source in ("crm", "pos"):
        load_partition(c, landing, source, DAY, suppression=set())
    assert _build_all(c) == "full"
    lines = ITEMS.read_text(encoding="utf-8").splitlines()
    refund = lines[2].replace("Payment", "Refund").replace("2026-07-18,12:59:30", "2026-08-01,10:00:00")
    refund = refund.replace("2.0,,CRS-01,,$8.00,-$1.00,$7.00,$0.62", "-1.0,,CRS-01,,-$4.00,$0.50,-$3.50,-$0.31")
    nxt = "2026-08-02"
    (landing / "pos" / nxt).mkdir()
    (landing / "pos" / nxt / "items-2026-07-18-2026-08-01.csv").write_text(
        "\n".join([lines[0], lines[1], lines[2], refund]) + "\n", encoding="utf-8"
    )
    load_partition(c, landing, "pos", nxt, suppression=set())
    assert _build_all(c) == "incremental"
    keyed = {t: q(c, f"SELECT * FROM staging.{t} ORDER BY ALL") for t in TABLES}
    assert q(c, "SELECT subtotal, discount, total, refunded_amount, financial_status FROM staging.orders "
             "WHERE order_id = ?", [LATTE]) == [
        # the sales tax on top: 11.50 + 1.02 paid, 3.50 + 0.31 refunded
        (Decimal("12.50"), Decimal("1.00"), Decimal("12.52"), Decimal("3.81"), "partially_refunded")
    ]  # fmt: skip
    assert q(c, "SELECT count(*) FROM staging.order_lines WHERE order_id = ?", [LATTE]) == [(2,)]
    c.execute("CHECKPOINT")
    c.close()
    shutil.copy(tmp_path / "b.duckdb", tmp_path / "full.duckdb")
    full = duckdb.connect(str(tmp_path / "full.duckdb"))
    assert _build_all(full, full_refresh=True) == "full"
    assert {t: q(full, f"SELECT * FROM staging.{t} ORDER BY ALL") for t in TABLES} == keyed
    full.close()


def test_a_regulars_thousand_square_sales_still_link_her_by_her_customer_id():
    """Every sale of a Square customer carries her id: a regular's thousand sales over the years
    do not make the id over-shared (identity.yaml max_records_per_identifier, as a loyalty card's
    5000), so they still link her CRM record. At 500, the limit before s44, the id was excluded."""
    from cdp_pipeline.lib.identity.config import load_identity_config
    from cdp_pipeline.lib.identity.junk_guard import find_excluded_identifiers
    from cdp_pipeline.lib.identity.name_keys import write_first_name_table
    from cdp_pipeline.lib.identity.name_variants import load_name_variants
    from cdp_pipeline.lib.identity.records import RECORDS, build_identifiers, build_records
    from cdp_pipeline_tests.lib.identity.synthetic import record, write_records

    c = duckdb.connect()
    crm = record("crm", KARIN, first_name="karin", last_name="ek", crm_customer_id=KARIN)
    write_records(c, [crm] + [record("pos", f"square:T{i}", crm_customer_id=KARIN) for i in range(1000)])
    build_records(c)
    write_first_name_table(c, f"SELECT DISTINCT first_name_match FROM {RECORDS}", load_name_variants())
    build_identifiers(c)
    find_excluded_identifiers(c, load_identity_config())
    assert q(c, "SELECT count(*) FROM temp._id_usable_identifiers WHERE kind = 'crm_customer'") == [(1001,)]
    assert q(c, "SELECT count(*) FROM temp._id_excluded") == [(0,)]
    c.close()
