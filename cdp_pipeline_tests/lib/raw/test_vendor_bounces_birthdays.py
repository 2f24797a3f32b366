"""Vendor columns read since s43: HubSpot's bounce and quarantine columns block the address as an ESP
bounce does (in the ledger, which a customer's consent columns read); a birthday without a year never
becomes a birth date, and Mailchimp's full "Date of Birth" wins over its year-less "Birthday"; and
JSON lines choose between two spellings of a column as CSV headers do (its own name wins)."""

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR, STAGING_TABLES
from cdp_pipeline.lib.golden.consent import build_identifier_consent
from cdp_pipeline.lib.raw import load_partition, parse_file
from cdp_pipeline.lib.raw.csv_reader import read_csv_text
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.lib.staging.dates import check_birth_date
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.raw.vendor_landing import q, staged_landing_day

DAY = "2026-10-01"
LANDED = dt.datetime(2026, 10, 1)
HUBSPOT = (
    Path(__file__).parents[2] / "fixtures" / "vendors" / "hubspot" / "hubspot-crm-exports-all-contacts-2026-10-01.csv"
)


def _hubspot_export() -> str:
    with HUBSPOT.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    contacts = [
        # a hard bounce's reason (the count says 1)
        {"Record ID": "601", "First Name": "Elin", "Last Name": "Sandberg", "Email": "elin.sandberg@fjordpost.se",
         "Email Address Quarantined": "false", "Email hard bounce reason": "550 5.1.1 mailbox unavailable",
         "Invalid email address": "false", "Marketing emails bounced": "1"},
        # quarantined by HubSpot
        {"Record ID": "602", "First Name": "Ola", "Last Name": "Nordmann", "Email": "ola.nordmann@fjordpost.no",
         "Email address quarantine reason": "UNDELIVERABLE_ADDRESS", "Email Address Quarantined": "true",
         "Invalid email address": "false", "Marketing emails bounced": "0"},
        # marked invalid
        {"Record ID": "603", "First Name": "Kari", "Last Name": "Lie", "Email": "kari.lie@fjordpost.no",
         "Email Address Quarantined": "false", "Invalid email address": "true", "Marketing emails bounced": "0"},
        # soft bounces counted, nothing else: HubSpot still sends
        {"Record ID": "604", "First Name": "Jonas", "Last Name": "Berg", "Email": "jonas.berg@fjordpost.se",
         "Email Address Quarantined": "false", "Invalid email address": "false", "Marketing emails bounced": "2"},
        {"Record ID": "605", "First Name": "Mia", "Last Name": "Holm", "Email": "mia.holm@fjordpost.se"},
    ]  # fmt: skip
    assert all(set(c) <= set(header) for c in contacts)  # HubSpot's own names
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([c.get(h, "") for h in header] for c in contacts)
    return out.getvalue()


FILES = {
    # HubSpot contacts export: the real 182-column header (fixtures/vendors/hubspot/), every field
    # quoted, made-up contacts with HubSpot's bounce and quarantine columns filled
    ("crm", "hubspot-crm-exports-all-contacts-2026-10-01.csv"): _hubspot_export(),
    # Square customer directory export: an Instant Profile's year-less birthday
    ("crm", "export-20261001-093012.csv"): (
        "Reference ID,First Name,Last Name,Email Address,Phone Number,Birthday,Square Customer ID\n"
        ",Karin,Ek,karin.ek@fjordpost.se,,0000-11-02,SQ1\n"
        ",Sven,Ek,sven.ek@fjordpost.se,,1984-05-02,SQ2\n"
    ),
    # Mailchimp: the DoSomething.org header's order (Birthday twice, Date of Birth after them);
    # Mailchimp grants for the five HubSpot addresses
    ("esp", "subscribed_members_export_2f8c1a9d3e.csv"): (
        "First Name,Last Name,Email Address,Graduation Year,Birthday,Phone Number,Full Name,Birthday,"
        "Completion URL,Untitled,Date of Birth,MEMBER_RATING,CONFIRM_TIME,LEID\n"
        "Elin,Sandberg,elin.sandberg@fjordpost.se,,,,,,,,,2,2026-09-20 10:00:00,1\n"
        "Ola,Nordmann,ola.nordmann@fjordpost.no,,,,,,,,,2,2026-09-20 10:00:00,2\n"
        "Kari,Lie,kari.lie@fjordpost.no,,,,,,,,,2,2026-09-20 10:00:00,3\n"
        "Jonas,Berg,jonas.berg@fjordpost.se,,,,,,,,,2,2026-09-20 10:00:00,4\n"
        "Mia,Holm,mia.holm@fjordpost.se,,,,,,,,,2,2026-09-20 10:00:00,5\n"
        "Alva,Strand,alva.strand@fjordpost.se,2017,03/14,,Alva Strand,03/14,,,1999-03-14,3,2026-09-20 10:00:00,6\n"
        "Nils,Strand,nils.strand@fjordpost.se,2019,07/02,,Nils Strand,07/02,,,,3,2026-09-20 10:00:00,7\n"
    ),
}

BOUNCED = {"elin.sandberg@fjordpost.se": "601", "ola.nordmann@fjordpost.no": "602", "kari.lie@fjordpost.no": "603"}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = staged_landing_day(tmp_path_factory.mktemp("vendor_bounces"), DAY, FILES)
    yield c
    c.close()


def test_every_row_is_loaded(con):
    # the ledger's balance: rows in = loaded + quarantined, none quarantined
    assert q(con, "SELECT count(*) FROM raw.crm_customers") == [(7,)]
    assert q(con, "SELECT count(*) FROM raw.esp_members") == [(7,)]
    assert q(con, "SELECT count(*) FROM audit.quarantine") == [(0,)]
    assert q(
        con,
        "SELECT sum(rows_read), sum(rows_loaded), count(*) FILTER (WHERE rows_read <> rows_loaded + rows_quarantined) "
        "FROM audit.files",
    ) == [(14, 14, 0)]


def test_hubspot_bounce_and_quarantine_columns_are_bounce_events(con):
    events = q(
        con,
        "SELECT source_record_id, identifier, state, reason, event_time FROM staging.consent_events "
        "WHERE source = 'crm' ORDER BY ALL",
    )
    # a hard bounce's reason, a quarantine, an invalid address: a bounce dated by the landing day
    # (HubSpot gives no time); a bounce count alone (604) and empty columns (605) make no event
    assert events == [
        (rid, email, "revoked", "bounce", LANDED) for email, rid in sorted(BOUNCED.items(), key=lambda x: x[1])
    ]


def test_the_ledger_blocks_a_hubspot_bounced_address_that_mailchimp_granted(con):
    build_identifier_consent(
        con,
        {"consent_events": "staging.consent_events", "email_activity": "staging.email_activity"},
        dt.datetime(2026, 10, 2),
    )
    ledger = dict(
        (identifier, (consent, blocked, reason))
        for identifier, consent, blocked, reason in q(
            con, "SELECT identifier, consent, blocked, reason FROM _golden_identifier_consent WHERE channel = 'email'"
        )
    )
    for email in BOUNCED:
        assert ledger[email] == ("revoked", True, "bounce")
    for email in ("jonas.berg@fjordpost.se", "mia.holm@fjordpost.se", "alva.strand@fjordpost.se"):
        assert ledger[email] == ("granted", False, "subscribed")


def test_the_hubspot_columns_are_raw_columns(con):
    assert q(
        con,
        "SELECT customer_id, email_hard_bounce_reason, email_quarantined, email_invalid FROM raw.crm_customers "
        "WHERE customer_id IN ('601', '602', '603') ORDER BY 1",
    ) == [
        ("601", "550 5.1.1 mailbox unavailable", "false", "false"),
        ("602", "", "true", "false"),
        ("603", "", "false", "true"),
    ]


def test_mailchimp_date_of_birth_wins_over_the_year_less_birthday(con):
    rows = q(
        con,
        "SELECT email_address, birthday, _extra FROM raw.esp_members WHERE email_address LIKE '%strand%' ORDER BY 1",
    )
    assert [(r[0], r[1]) for r in rows] == [
        ("alva.strand@fjordpost.se", "1999-03-14"),
        ("nils.strand@fjordpost.se", ""),
    ]
    # both Birthday columns are kept in _extra (the repeat under its numbered name)
    assert json.loads(rows[0][2])["Birthday"] == "03/14"
    records = q(
        con,
        "SELECT email, birth_date, dq_flags FROM staging.identity_records "
        "WHERE email IN ('alva.strand@fjordpost.se', 'nils.strand@fjordpost.se', 'karin.ek@fjordpost.se', "
        "'sven.ek@fjordpost.se') ORDER BY source, email",
    )
    assert records == [
        # Square's 0000-11-02 and a Mailchimp MM/DD: no birth date, and no error flag
        ("karin.ek@fjordpost.se", None, []),
        ("sven.ek@fjordpost.se", dt.date(1984, 5, 2), []),
        ("alva.strand@fjordpost.se", dt.date(1999, 3, 14), []),
        ("nils.strand@fjordpost.se", None, []),
    ]


@pytest.mark.parametrize("raw", ["03/14", "3/4", "14.03.", "0000-11-02", "--11-02", "--1102"])
def test_a_birthday_without_a_year_is_no_birth_date_and_no_error(raw):
    checked = check_birth_date(raw)
    assert (checked.value, checked.flags) == (None, ())


@pytest.mark.parametrize("raw", ["31/02/1990", "1990-13-01", "14/03/19", "0000-13-45x"])
def test_an_unreadable_date_is_still_flagged(raw):
    checked = check_birth_date(raw)
    assert (checked.value, checked.flags) == (None, ("invalid_date",))


def test_crm_date_of_birth_wins_over_birthday_whatever_the_order():
    parsed = read_csv_text(
        "Customer ID,Birthday,Date of Birth\nC-1,0000-11-02,1984-11-02\n",
        source="crm",
        file_name="c.csv",
        encoding="utf-8",
    )
    assert parsed.columns["birth_date"] == ["1984-11-02"]
    assert '"Birthday": "0000-11-02"' in parsed.extra[0]


SMS_HEADER = ("from", "to", "direction", "body")


@pytest.mark.parametrize(
    "keys",
    [
        ("date_sent", "sent_date"),  # the alias first: the column's own name still wins
        ("sent_date", "date_sent"),
    ],
)
def test_json_lines_choose_a_column_as_csv_headers_do(keys):
    values = {"date_sent": "Thu, 01 Oct 2026 08:00:00 +0000", "sent_date": "Thu, 01 Oct 2026 09:30:00 +0000"}
    base = {"from": "+46700000001", "to": "+46701234567", "direction": "outbound-api", "body": "Hej"}
    line = json.dumps({**base, **{k: values[k] for k in keys}})
    parsed = parse_file("sms", "messages_2026-10-01.jsonl", (line + "\n").encode()).to_lists()
    assert parsed.columns["sent_date"] == ["Thu, 01 Oct 2026 09:30:00 +0000"]
    assert json.loads(parsed.extra[0]) == {"date_sent": "Thu, 01 Oct 2026 08:00:00 +0000"}
    # the same fields as a CSV header choose the same column
    csv = ",".join((*base, *keys)) + "\n" + ",".join((*base.values(), *(f'"{values[k]}"' for k in keys))) + "\n"
    parsed_csv = read_csv_text(csv, source="sms", file_name="messages.csv", encoding="utf-8")
    assert parsed_csv.columns["sent_date"] == parsed.columns["sent_date"]


# A Swedish café's sale: prices include VAT, so Square writes Net Sales = Gross - Discounts - Tax
# (its glossary for VAT/GST regions) and the customer paid the Gross Sales, 45 kr.
SQUARE_ITEMS = (
    "Date,Time,Time Zone,Category,Item,Qty,Price Point Name,SKU,Modifiers Applied,Gross Sales,Discounts,Net Sales,"
    "Tax,Transaction ID,Payment ID,Device Name,Notes,Details,Event Type,Location,Dining Option,Customer ID,"
    "Customer Name,Customer Reference ID,Unit,Count,Itemization Type,Commission,Employee\n"
    '2026-10-01,10:15:00,Central European Time,Kaffe,Latte,1.0,Regular,LAT-1,,"kr 45,00","kr 0,00","kr 36,00",'
    '"kr 9,00",T9001,P9001,iPad,,,Payment,Södermalm,,SQ1,Karin Ek,,,1,Physical Good,"kr 0,00",\n'
)
SQUARE_TRANSACTIONS = (
    "Date,Time,Time Zone,Gross Sales,Discounts,Service Charges,Net Sales,Gift Card Sales,Tax,Tip,Partial Refunds,"
    "Total Collected,Source,Card,Card Entry Methods,Cash,Square Gift Card,Other Tender,Other Tender Type,"
    "Other Tender Note,Fees,Net Total,Transaction ID,Payment ID,Card Brand,PAN Suffix,Device Name,Staff Name,"
    "Staff ID,Details,Description,Event Type,Location,Dining Option,Customer ID,Customer Name,"
    "Customer Reference ID,Device Nickname,Transaction Status\n"
    '10/01/2026,10:15:00 AM,Central European Time,"kr 45,00","kr 0,00","kr 0,00","kr 45,00","kr 0,00","kr 9,00",'
    '"kr 0,00","kr 0,00","kr 45,00",Point of Sale,"kr 45,00",Tapped,"kr 0,00","kr 0,00","kr 0,00",,,"-kr 0,79",'
    '"kr 44,21",T9001,P9001,Visa,1234,iPad,,,,1 x Latte,Payment,Södermalm,,SQ1,Karin Ek,,,Complete\n'
)


def test_square_transactions_export_is_rejected_with_a_reason_that_names_it_and_items_detail_is_read(tmp_path):
    """The Transactions export (a row per payment, no lines) is still rejected with a reason naming
    it; the Items Detail export is read since s44 (test_square_items.py)."""
    con = staged_landing_day(
        tmp_path,
        DAY,
        {("pos", "items-2026-10-01.csv"): SQUARE_ITEMS, ("pos", "transactions-2026-10-01.csv"): SQUARE_TRANSACTIONS},
    )
    files = {
        Path(file).name: (status, kind, reason)
        for file, status, kind, reason in q(
            con, "SELECT file, status, file_kind, message FROM audit.files ORDER BY file"
        )
    }
    assert files["items-2026-10-01.csv"] == ("loaded", "pos_square_items", None)
    assert files["transactions-2026-10-01.csv"][0] == "rejected"
    assert files["transactions-2026-10-01.csv"][2].startswith(
        "unknown file kind for source 'pos': Square's Transactions export, which the platform does not read"
    )
    assert q(con, "SELECT count(*) FROM raw.pos_receipts UNION ALL SELECT count(*) FROM raw.pos_orders") == [(0,), (0,)]
    assert q(con, "SELECT order_id, currency, total, store_id FROM staging.orders") == [
        ("square:T9001", "SEK", Decimal("45.00"), "Södermalm")
    ]
    con.close()


def test_a_bounce_in_two_deliveries_of_a_timed_crm_row_does_not_repeat_its_consent_event(tmp_path):
    """A CRM row with its own time makes one consent event however often it is delivered; the
    bounce beside it (no time of its own) is one event per delivery that still says so."""
    text = (
        "customer_id,email,consent_email,updated_at,Email hard bounce reason\n"
        "C1,anna.lind@fjordpost.se,yes,2026-09-30 10:00:00,550 5.1.1 mailbox unavailable\n"
    )
    con = staged_landing_day(tmp_path, "2026-10-01", {("crm", "customers.csv"): text})
    # the row delivered again the next day, and staging built again
    (tmp_path / "landing" / "crm" / "2026-10-02").mkdir(parents=True)
    # (a file delivered twice byte for byte is skipped: HubSpot's reason text differs)
    again = text.replace("mailbox unavailable", "user unknown")
    (tmp_path / "landing" / "crm" / "2026-10-02" / "customers.csv").write_text(again, encoding="utf-8")
    load_partition(con, tmp_path / "landing", "crm", "2026-10-02", suppression=set())
    for table in STAGING_TABLES:
        build_staging_table(con, SQL_DIR, table, get_settings())
    assert q(con, "SELECT count(*) FROM raw.crm_customers") == [(2,)]
    assert q(
        con, "SELECT state, reason, count(*), min(event_time) FROM staging.consent_events GROUP BY ALL ORDER BY ALL"
    ) == [
        ("granted", "crm_opt_in", 1, dt.datetime(2026, 9, 30, 8, 0)),
        ("revoked", "bounce", 2, LANDED),
    ]
    assert q(con, "SELECT DISTINCT event_time FROM staging.consent_events WHERE reason = 'bounce' ORDER BY 1") == [
        (LANDED,),
        (dt.datetime(2026, 10, 2),),
    ]
    con.close()
