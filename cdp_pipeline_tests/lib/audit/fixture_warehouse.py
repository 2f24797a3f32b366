"""A small build database with two people in every layer, and their export files.

Anna (the person to erase) and Bo (who must survive untouched). Bo's order total is
``1001``, the same text as Anna's CRM id, so a sloppy erasure would take it too.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from cdp_pipeline.lib.activation.destinations import Destination
from cdp_pipeline.lib.activation.exporter import write_export
from cdp_pipeline.lib.activation.hashing import hashed_email
from cdp_pipeline.lib.raw.ledger import ensure_ingest_tables

ANNA = {
    "email": "anna.s@posten.se",
    "raw_email": " Anna.S@Posten.se ",
    "phone": "+46701234567",
    "raw_phone": "070-123 45 67",
    "sms_phone": "0046701234567",
    "crm_id": "1001",
    "card": "LC-000111",
    "customer_id": "C-aaaaaaaaaaaa",
    "cookie": "ck.1111111111",
    "name": "Anna",
    # a number of hers too short to read: it names nobody, but it is hers (staging.phone_lookup)
    "unreadable_phone": "070-12",
}
BO = {
    "email": "bo.b@telia.se",
    "raw_email": "bo.b@telia.se",
    "phone": "+46702222333",
    "raw_phone": "+46 70 222 23 33",
    "sms_phone": "+46702222333",
    "crm_id": "1002",
    "card": "LC-000222",
    "customer_id": "C-bbbbbbbbbbbb",
    "cookie": "ck.2222222222",
    "name": "Bo",
}
PEOPLE = (ANNA, BO)
RUN_DATE = dt.date(2026, 10, 1)
ESP = Destination("newsletter", "esp", ("all",), ("email",))
POS = Destination("stores", "pos", ("all",), ())
META = Destination("meta", "meta_audience", ("all",), ("email",))


def _insert(con, table: str, rows: list[dict]) -> None:
    for row in rows:
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))


def build(con: duckdb.DuckDBPyConnection, export_dir: Path | None = None) -> None:
    ensure_ingest_tables(con)
    meta = {
        "_file": "crm/2026-10-01/c.csv",
        "_file_sha256": "x",
        "_line": 2,
        "_landing_date": RUN_DATE,
        "_loaded_at": dt.datetime(2026, 10, 1),
    }
    for p in PEOPLE:
        _insert(
            con,
            "raw.crm_customers",
            [
                {
                    "customer_id": p["crm_id"],
                    "email": p["raw_email"],
                    "phone": p["raw_phone"],
                    "first_name": p["name"],
                    "loyalty_card_id": p["card"],
                    "address_phone": p.get("unreadable_phone"),
                    "_extra": json.dumps({"nickname": p["name"]}),
                    **meta,
                }
            ],
        )
        _insert(
            con,
            "raw.sms_messages",
            [{"from": "+46700000000", "to": p["sms_phone"], "body": "Hej!", "direction": "outbound-api", **meta}],
        )
        _insert(
            con,
            "raw.web_events",
            [
                {
                    "user_id": p["crm_id"],
                    "user_pseudo_id": p["cookie"],
                    "event_name": "login",
                    "event_json": json.dumps({"user_id": p["crm_id"], "user_pseudo_id": p["cookie"]}),
                    **meta,
                }
            ],
        )
        _insert(
            con,
            "raw.pos_receipts",
            [
                {
                    "receipt_id": f"R{p['crm_id']}",
                    "store_id": "S1",
                    "loyalty_card_id": p["card"],
                    "line_no": "1",
                    "sku": "A",
                    **meta,
                }
            ],
        )
    order = {"name": "#5001", "email": ANNA["raw_email"], "total": "99.00", "lineitem_name": "Socks", **meta}
    _insert(
        con,
        "raw.pos_orders",
        [
            order,
            {"name": "#5001", "lineitem_name": "Hat", **meta},
            {"name": "#5002", "email": BO["email"], "total": "1001", "lineitem_name": "Coat", **meta},
        ],
    )
    con.execute(
        "INSERT INTO audit.quarantine (source, file, line_number, reason, raw_record, landing_date, "
        "file_sha256, file_kind, quarantined_at) VALUES ('crm', 'crm/x.csv', 9, 'unbalanced quote', ?, "
        "DATE '2026-10-01', 'x', 'crm_customers', TIMESTAMP '2026-10-01')",
        [f'"{ANNA["email"]},broken'],
    )

    fill_phone_lookup(con)
    con.execute("""CREATE TABLE staging.identity_records (source VARCHAR, source_record_id VARCHAR, email VARCHAR,
                   phone VARCHAR, loyalty_card_id VARCHAR, crm_customer_id VARCHAR, web_user_id VARCHAR,
                   cookies VARCHAR[], email_is_junk BOOLEAN, phone_is_junk BOOLEAN, first_name VARCHAR)""")
    con.execute("CREATE TABLE identity.customer_map (source VARCHAR, source_record_id VARCHAR, customer_id VARCHAR)")
    con.execute("""CREATE TABLE identity.links (customer_id VARCHAR, record_l VARCHAR, record_r VARCHAR,
                   identifier_kind VARCHAR, identifier_value VARCHAR, match_weights JSON)""")
    con.execute("""CREATE TABLE golden.customers (customer_id VARCHAR, first_name VARCHAR, email VARCHAR, phone VARCHAR,
                   emails VARCHAR[], phones VARCHAR[], loyalty_card_ids VARCHAR[], crm_customer_ids VARCHAR[],
                   web_user_ids VARCHAR[], cookies VARCHAR[], total_spend DECIMAL(18,2), email_consent VARCHAR)""")
    con.execute("""CREATE TABLE golden.customer_timeline (customer_id VARCHAR, event_time TIMESTAMP, channel VARCHAR,
                   event_type VARCHAR, summary VARCHAR, source VARCHAR, source_record_id VARCHAR)""")
    con.execute(
        "CREATE TABLE staging.orders (order_id VARCHAR, source_record_id VARCHAR, email VARCHAR, total DECIMAL(18,2))"
    )
    con.execute("""CREATE TABLE staging.consent_events (source VARCHAR, source_record_id VARCHAR, channel VARCHAR,
                   identifier VARCHAR, state VARCHAR, event_time TIMESTAMP)""")
    con.execute("CREATE TABLE segments.membership (segment VARCHAR, customer_id VARCHAR, since DATE)")
    con.execute("CREATE TABLE segments.history (segment VARCHAR, customer_id VARCHAR, entered_at DATE, exited_at DATE)")
    con.execute("CREATE TABLE segments.sizes (run_date DATE, segment VARCHAR, members BIGINT)")
    con.execute("""CREATE TABLE activation.export_members (destination VARCHAR, run_date DATE, customer_id VARCHAR,
                   row_key VARCHAR, row_values VARCHAR, sent_email BOOLEAN, sent_phone BOOLEAN)""")
    con.execute(
        (
            Path(__file__).resolve().parents[3] / "cdp_pipeline/lib/activation/sql/create_activation_export_log.sql"
        ).read_text()
    )
    con.execute("INSERT INTO segments.sizes VALUES (DATE '2026-10-01', 'all', 2)")
    t = dt.datetime(2026, 10, 1, 12)
    for p in PEOPLE:
        recs = [("crm", p["crm_id"]), ("web", p["crm_id"]), ("pos", f"receipt:S1:R{p['crm_id']}"), ("sms", p["phone"])]
        for s, r in recs:
            con.execute(
                "INSERT INTO staging.identity_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, false, false, ?)",
                [
                    s,
                    r,
                    p["email"] if s == "crm" else None,
                    p["phone"] if s in ("crm", "sms") else None,
                    p["card"] if s in ("crm", "pos") else None,
                    p["crm_id"] if s == "crm" else None,
                    p["crm_id"] if s == "web" else None,
                    [p["cookie"]] if s == "web" else [],
                    p["name"],
                ],
            )
            con.execute("INSERT INTO identity.customer_map VALUES (?, ?, ?)", [s, r, p["customer_id"]])
        con.execute(
            "INSERT INTO identity.links VALUES (?, ?, ?, 'email', ?, ?)",
            [p["customer_id"], f"crm:{p['crm_id']}", f"web:{p['crm_id']}", p["email"], json.dumps({"mw_email": 8.0})],
        )
        con.execute(
            "INSERT INTO golden.customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 99.00, 'granted')",
            [
                p["customer_id"],
                p["name"],
                p["email"],
                p["phone"],
                [p["email"]],
                [p["phone"]],
                [p["card"]],
                [p["crm_id"]],
                [p["crm_id"]],
                [p["cookie"]],
            ],
        )
        con.execute(
            "INSERT INTO golden.customer_timeline VALUES (?, ?, 'sms', 'sms_sent', ?, 'sms', ?)",
            [p["customer_id"], t, f"SMS to {p['phone']}", p["phone"]],
        )
        con.execute(
            "INSERT INTO staging.consent_events VALUES ('crm', ?, 'email', ?, 'granted', ?)",
            [p["crm_id"], p["email"], t],
        )
        con.execute("INSERT INTO segments.membership VALUES ('all', ?, DATE '2026-10-01')", [p["customer_id"]])
        con.execute("INSERT INTO segments.history VALUES ('all', ?, DATE '2026-10-01', NULL)", [p["customer_id"]])
        row = {"email": p["email"], "first_name": p["name"], "tags": "all"}
        con.execute(
            "INSERT INTO activation.export_members VALUES ('newsletter', ?, ?, ?, ?, true, false)",
            [RUN_DATE, p["customer_id"], p["email"], json.dumps(row)],
        )
    con.execute(
        "INSERT INTO staging.orders VALUES ('order:#5001', 'order:#5001', ?, 99), "
        "('order:#5002', 'order:#5002', ?, 1001)",
        [ANNA["email"], BO["email"]],
    )
    con.execute(
        "INSERT INTO identity.customer_map VALUES ('pos', 'order:#5001', ?), ('pos', 'order:#5002', ?)",
        [ANNA["customer_id"], BO["customer_id"]],
    )
    if export_dir is not None:
        write_exports(con, export_dir)


def fill_phone_lookup(con: duckdb.DuckDBPyConnection) -> None:
    """``staging.phone_lookup`` as a night's staging leaves it: every raw phone text read."""
    from cdp_pipeline.lib.common.sql_files import run_sql
    from cdp_pipeline.lib.staging.accounting import SQL_DIR
    from cdp_pipeline.lib.staging.phone_lookup import RAW_PHONE_COLUMNS, ensure_lookup
    from cdp_pipeline.lib.staging.udfs import register_udfs

    register_udfs(con)
    ensure_lookup(con, "SE")
    for table in RAW_PHONE_COLUMNS:
        run_sql(con, SQL_DIR, "create_raw_input_view", table=table, relation=f"raw.{table}")
    run_sql(con, SQL_DIR, "add_sms_phones")
    run_sql(con, SQL_DIR, "add_consent_phones")
    # identity_records reads the CRM's address number where the phone is blank; here, as it
    # would, every CRM number in no country
    con.execute("""INSERT INTO staging.phone_lookup
                   SELECT std_phone_text(p), NULL, c.value, c.flags, c.is_junk
                   FROM (SELECT DISTINCT address_phone AS p, std_phone_checked_junk(address_phone, NULL) AS c
                         FROM raw.crm_customers WHERE address_phone IS NOT NULL)""")
    for table in RAW_PHONE_COLUMNS:
        con.execute(f"DROP VIEW temp.raw_{table}")


def write_exports(con, export_dir: Path) -> None:
    """Export files for both people, logged in activation.export_log like the exporter does."""
    for dest, rows in (
        (ESP, {p["email"]: {"email": p["email"], "first_name": p["name"], "tags": "all"} for p in PEOPLE}),
        (POS, {p["card"]: {"loyalty_card_id": p["card"], "all": 1} for p in PEOPLE}),
        (META, {p["email"]: {"email": hashed_email(p["email"]), "phone": ""} for p in PEOPLE}),
    ):
        files = write_export(export_dir, dest, RUN_DATE, rows, None, None)
        entries = [(k, files.directory / i["file"], i["rows"], i["sha256"]) for k, i in files.files.items()]
        entries.append(("manifest", files.manifest_path, len(rows), files.manifest_sha256))
        for kind, path, n, sha in entries:
            con.execute(
                "INSERT INTO activation.export_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'rule', NULL, ?)",
                [
                    dest.name,
                    dest.kind,
                    RUN_DATE,
                    kind,
                    str(path),
                    n,
                    sha,
                    list(dest.segments),
                    list(dest.required_consent),
                    dt.datetime(2026, 10, 1),
                ],
            )


def identifiers_of(p: dict) -> list[str]:
    return [p["email"], p["phone"], p["raw_phone"], p["card"], p["customer_id"], p["cookie"], hashed_email(p["email"])]
