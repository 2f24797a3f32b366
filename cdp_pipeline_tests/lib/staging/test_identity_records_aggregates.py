"""staging.identity_records' per-order and per-user aggregates over hand-made raw rows, with
answers by hand: an order's fields are each the first non-blank value in line order of its
latest delivery (not the first row stored, not a blank one); a user's cookies are each listed
once, sorted, without NULL, and NULL when there is none. (create_identity_records_located.sql
reads them with a window and list_sort rather than ordered aggregates, whose states DuckDB
holds in memory.)"""

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.settings import get_settings


def _insert(con, table: str, rows: list[dict], day: str, file: str) -> None:
    for row in rows:
        row = {"_file": file, "_landing_date": day, "_file_sha256": "x", **row}
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"INSERT INTO raw.{table} ({cols}) VALUES ({marks})", list(row.values()))


def _build(con):
    build_staging_table(con, SQL_DIR, "identity_records", get_settings(), full_refresh=True)


def test_order_fields_are_the_first_non_blank_in_line_order_of_the_latest_delivery(con):
    # stored out of line order: the row stored first is not the first line
    _insert(
        con,
        "pos_orders",
        [
            {
                "_line": 4,
                "name": "#7",
                "email": "b4@example.se",
                "billing_name": "Bo Ek",
                "billing_phone": "46704444444",
            },
            {
                "_line": 2,
                "name": "#7",
                "email": "   ",
                "billing_name": None,
                "billing_phone": "",
                "billing_city": " ",
                "shipping_country": "NO",
                "created_at": "2026-09-06 10:00:00 +0200",
            },
            {
                "_line": 3,
                "name": " #7",
                "email": "B3@Example.se",
                "billing_name": "Ann Ek",
                "billing_phone": "46703333333",
                "billing_city": "Oslo",
                "billing_country": "  ",
                "created_at": "2026-09-07 10:00:00 +0200",
            },
            # an order whose only numbers are the contact and the recipient's: the contact's wins
            {"_line": 5, "name": "#8", "phone": None, "shipping_phone": "46705555555"},
            {"_line": 6, "name": "#8", "phone": "46706666666", "shipping_phone": "46707777777"},
        ],
        day="2026-10-02",
        file="pos/2026-10-02/orders.csv",
    )
    # the earlier delivery of order #7: replaced whole by the later one
    _insert(
        con,
        "pos_orders",
        [{"_line": 2, "name": "#7", "email": "old@example.se", "billing_name": "Old Name", "billing_city": "Bergen"}],
        day="2026-10-01",
        file="pos/2026-10-01/orders.csv",
    )
    _build(con)
    rows = con.execute(
        "SELECT source_record_id, record_time, first_name, last_name, email, phone, city, country "
        "FROM staging.identity_records WHERE source = 'pos' ORDER BY 1"
    ).fetchall()
    assert [r[:1] + r[2:] for r in rows] == [
        ("order:#7", "Ann", "Ek", "b3@example.se", "+46703333333", "Oslo", "NO"),
        ("order:#8", None, None, None, "+46706666666", None, None),
    ]
    assert str(rows[0][1]) == "2026-09-06 08:00:00"  # line 2's time, not line 3's


def test_a_users_cookies_are_listed_once_sorted_without_null(con):
    def ev(user, cookie, ts):
        return {"user_id": user, "user_pseudo_id": cookie, "event_timestamp": str(ts), "event_name": "page_view"}

    _insert(
        con,
        "web_events",
        [
            {"_line": 1, **ev("U1", "ck2", 1_000_000)},
            {"_line": 2, **ev(" U1 ", "ck1", 3_000_000)},
            {"_line": 3, **ev("U1", "ck2", 2_000_000)},
            {"_line": 4, **ev("U1", None, 1_500_000)},
            {"_line": 5, **ev("U2", None, 4_000_000)},
            {"_line": 6, **ev("  ", "ck3", 5_000_000)},
        ],
        day="2026-10-02",
        file="web/2026-10-02/events.jsonl",
    )
    _build(con)
    rows = con.execute(
        "SELECT source_record_id, cookies, CAST(record_time AS VARCHAR) FROM staging.identity_records "
        "WHERE source = 'web' ORDER BY 1"
    ).fetchall()
    assert rows == [("U1", ["ck1", "ck2"], "1970-01-01 00:00:03"), ("U2", None, "1970-01-01 00:00:04")]


def test_an_order_whose_latest_delivery_carries_no_field_is_a_record_without_values(con):
    # the window reads only rows with a field; an order with none keeps its record (NULL values,
    # dated by its landing day), and an earlier delivery's fields do not come back
    _insert(
        con,
        "pos_orders",
        [{"_line": 2, "name": "#9", "email": "old@example.se", "billing_name": "Old Name", "phone": "46708888888"}],
        day="2026-10-01",
        file="pos/2026-10-01/orders.csv",
    )
    _insert(
        con,
        "pos_orders",
        [
            {"_line": 1, "name": "#9", "email": "  ", "lineitem_name": "Tea"},
            {"_line": 2, "name": "#9", "lineitem_name": "Cup"},
            {"_line": 3, "name": "#10", "lineitem_name": "Pot"},
        ],
        day="2026-10-02",
        file="pos/2026-10-02/orders.csv",
    )
    _build(con)
    rows = con.execute(
        "SELECT source_record_id, CAST(record_time AS VARCHAR), first_name, last_name, email, phone, city, country "
        "FROM staging.identity_records WHERE source = 'pos' ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("order:#10", "2026-10-02 00:00:00", None, None, None, None, None, None),
        ("order:#9", "2026-10-02 00:00:00", None, None, None, None, None, None),
    ]
