"""A date that could be day-first or month-first (03/04/2026) is read in its file's order: a POS
file whose other dates can only be month-first (04/13/2026), and none only day-first, is a
month-first file. Through the real path: files dropped in landing days, loaded into raw and staged
on a DuckDB file (vendor_landing.py), on a first night and on a keyed one."""

from datetime import datetime

import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.raw import load_partition
from cdp_pipeline.lib.staging.build import build_staging
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.raw.vendor_landing import q, staged_landing_day

HEADER = "receipt_id;store_id;ts_local;tz;loyalty_card_id;line_no;sku;qty;unit_price;discount;vat_rate\n"
# a US till: 10/13 can only be 13 October, so 10/03 is 3 October (not 10 March)
US = HEADER + (
    "a;us;10/13/2026 14:00:00;UTC;LA;1;A;1;10,00;0,00;25\n"
    "b;us;10/03/2026 09:00:00;UTC;LB;1;A;1;10,00;0,00;25\n"
    "b;us;10/03/2026 09:00:00;UTC;LB;2;A;1;10,00;0,00;25\n"
)
# a European till: 13/10 is day-first, and so is 03/10 (3 October)
EU = HEADER + (
    "c;eu;13/10/2026 14:00:00;UTC;LC;1;A;1;10,00;0,00;25\nd;eu;03/10/2026 09:00:00;UTC;LD;1;A;1;10,00;0,00;25\n"
)
# no evidence either way: the default, day-first (3 October)
NONE = HEADER + "e;no;03/10/2026 09:00:00;UTC;LE;1;A;1;10,00;0,00;25\n"
# both kinds: each value as it can be read, ambiguous ones day-first
MIXED = HEADER + (
    "f;mx;13/10/2026 14:00:00;UTC;LF;1;A;1;10,00;0,00;25\n"
    "g;mx;10/14/2026 14:00:00;UTC;LG;1;A;1;10,00;0,00;25\n"
    "h;mx;03/10/2026 09:00:00;UTC;LH;1;A;1;10,00;0,00;25\n"
)
ORDERS = (
    "Name,Email,Financial Status,Created at,Cancelled at,Lineitem quantity,Lineitem name,Lineitem price,Total\n"
    "#1,a@firma.se,paid,10/13/2026 09:00:00 -0400,,1,Sockor,10.00,10.00\n"
    "#2,b@firma.se,paid,10/02/2026 09:00:00 -0400,10/05/2026 10:00:00 -0400,1,Sockor,10.00,10.00\n"
)


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("date_order")
    con = staged_landing_day(
        tmp,
        "2026-10-20",
        {
            ("pos", "receipts_us_20261020.csv"): US,
            ("pos", "receipts_eu_20261020.csv"): EU,
            ("pos", "receipts_no_20261020.csv"): NONE,
            ("pos", "receipts_mx_20261020.csv"): MIXED,
            ("pos", "orders_export_20261020.csv"): ORDERS,
        },
    )
    yield tmp, con
    con.close()


def _times(con, table, column, key):
    return dict(q(con, f"SELECT {key}, {column} FROM staging.{table} WHERE source = 'pos' ORDER BY 1"))


def test_an_ambiguous_date_is_read_in_its_files_order(night):
    _, con = night
    ordered = _times(con, "orders", "ordered_at", "order_id")
    assert ordered["receipt:us:a"] == datetime(2026, 10, 13, 14, 0)
    assert ordered["receipt:us:b"] == datetime(2026, 10, 3, 9, 0)  # was 10 March
    assert ordered["receipt:eu:d"] == datetime(2026, 10, 3, 9, 0)
    assert ordered["receipt:no:e"] == datetime(2026, 10, 3, 9, 0)
    assert ordered["receipt:mx:g"] == datetime(2026, 10, 14, 14, 0)
    assert ordered["receipt:mx:h"] == datetime(2026, 10, 3, 9, 0)
    # a Shopify export: 10/13 decides 10/02 (2 October, 13:00 UTC) and its cancellation
    assert ordered["order:#2"] == datetime(2026, 10, 2, 13, 0)
    assert q(con, "SELECT cancelled_at FROM staging.orders WHERE order_id = 'order:#2'") == [
        (datetime(2026, 10, 5, 14, 0),)
    ]
    assert q(con, "SELECT count(*) FROM staging.orders WHERE len(dq_flags) > 0") == [(0,)]


def test_the_identity_records_of_orders_are_dated_as_the_orders(night):
    _, con = night
    assert (
        q(
            con,
            "SELECT o.order_id FROM staging.orders o JOIN staging.identity_records r "
            "ON r.source = 'pos' AND r.source_record_id = o.order_id WHERE r.record_time IS DISTINCT FROM o.ordered_at",
        )
        == []
    )
    assert _times(con, "identity_records", "record_time", "source_record_id")["receipt:us:b"] == datetime(
        2026, 10, 3, 9
    )


def test_a_keyed_night_reading_part_of_an_old_file_decides_by_the_whole_file(night):
    # a later file re-sends receipt b's second line: the keyed night reads only b's rows of the
    # US file (both ambiguous), and still reads them month-first, as the whole file says
    tmp, con = night
    day = "2026-10-21"
    folder = tmp / "landing" / "pos" / day
    folder.mkdir(parents=True)
    (folder / "receipts_us_20261021.csv").write_text(
        HEADER + "b;us;2026-10-03 09:00:00;UTC;LB;2;A;1;10,00;0,00;25\n", encoding="utf-8"
    )
    load_partition(con, tmp / "landing", "pos", day, suppression=set())
    for table in ("identity_records", "orders"):
        _, plan = build_staging(con, SQL_DIR, table, get_settings())
        assert plan.mode == "incremental"
    assert _times(con, "orders", "ordered_at", "order_id")["receipt:us:b"] == datetime(2026, 10, 3, 9, 0)
    assert _times(con, "identity_records", "record_time", "source_record_id")["receipt:us:b"] == datetime(
        2026, 10, 3, 9
    )
