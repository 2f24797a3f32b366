"""Exports written to headers seen in real vendor files (fixtures/vendors/README.md): a Square
customer directory export and a HubSpot contacts export dropped in crm/, a Mailchimp segment
export from an account set to German, and a Mailchimp export whose list owner named the zip
merge field ``ZIP code``. Each through ingest and staging gives known rows, keys, addresses,
phones and consent."""

import datetime as dt
import json
from pathlib import Path

import pytest

from cdp_pipeline_tests.lib.raw.vendor_landing import q, staged_landing_day

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
DAY = "2026-10-01"
LANDED = dt.datetime(2026, 10, 1)

DROPS = {
    "crm": ["square/export-20261001-093012.csv", "hubspot/hubspot-crm-exports-all-contacts-2026-10-01.csv"],
    "esp": [
        "mailchimp/subscribed_segment_export_5d0c7e21aa.csv",
        "mailchimp/subscribed_members_export_2f8c1a9d3e.csv",
    ],
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = staged_landing_day(
        tmp_path_factory.mktemp("vendors_real_headers"),
        DAY,
        {(source, Path(f).name): VENDORS / f for source, files in DROPS.items() for f in files},
    )
    yield c
    c.close()


def test_every_file_is_accepted_as_its_kind(con):
    files = {
        Path(file).name: rest
        for file, *rest in q(con, "SELECT file, status, file_kind, rows_read, rows_quarantined FROM audit.files")
    }
    assert files == {
        # Square's customer id is the key: without the alias the file was rejected whole for a
        # missing customer_id
        "export-20261001-093012.csv": ["loaded", "crm_customers", 3, 0],
        # HubSpot's Record ID is the key: rejected before for a missing customer_id
        "hubspot-crm-exports-all-contacts-2026-10-01.csv": ["loaded", "crm_customers", 2, 0],
        # a segment's export and German headers: rejected before as an unknown file kind
        "subscribed_segment_export_5d0c7e21aa.csv": ["loaded", "esp_members", 2, 0],
        "subscribed_members_export_2f8c1a9d3e.csv": ["loaded", "esp_members", 2, 0],
    }
    assert q(con, "SELECT count(*) FROM audit.quarantine") == [(0,)]


def test_square_customers_are_crm_records_keyed_by_the_square_id(con):
    records = q(
        con,
        """SELECT source_record_id, crm_customer_id, first_name, last_name, email, phone, street, postcode,
                  city, birth_date
           FROM staging.identity_records WHERE source = 'crm' AND length(source_record_id) = 26 ORDER BY 1""",
    )
    assert records == [
        # an Instant Profile: a number only; Square's "0000-MM-DD" birthday has no year and is no date
        ("0J4W6XRB2N8T5KQ1VMC7ZD3HYF", "0J4W6XRB2N8T5KQ1VMC7ZD3HYF", None, None, None, "+46732223344", None, None,
         None, None),
        # a number without a country code is read in CDP_DEFAULT_REGION (a Square export has no country)
        ("3MFK8D2QWX5Y7RJ9TZB4C6HNE0", "3MFK8D2QWX5Y7RJ9TZB4C6HNE0", "Jonas", "Berg", "jonas.berg@fjordpost.se",
         "+46701112233", "Kungsgatan 3", "411 19", "Göteborg", None),
        ("7ZQ2KX0J1H3BVMC5W8R6T4N9PA", "7ZQ2KX0J1H3BVMC5W8R6T4N9PA", "Karin", "Ek", "karin.ek@fjordpost.se",
         "+46707654321", "Drottninggatan 12", "111 51", "Stockholm", dt.date(1984, 5, 2)),
    ]  # fmt: skip
    # the seller's own Reference ID and the rest of Square's columns are kept in raw
    extra = json.loads(
        q(con, "SELECT _extra FROM raw.crm_customers WHERE customer_id = '3MFK8D2QWX5Y7RJ9TZB4C6HNE0'")[0][0]
    )
    assert (extra["Reference ID"], extra["Lifetime Spend"], extra["Creation Source"]) == (
        "C-1002",
        "$89.50",
        "Third Party",
    )


def test_mailchimp_german_segment_export_and_zip_code_merge_field(con):
    records = q(
        con,
        """SELECT source_record_id, first_name, last_name, email, postcode, country
           FROM staging.identity_records WHERE source = 'esp' ORDER BY 1""",
    )
    assert records == [
        # Vorname / Nachname / Emailadresse; CC written in lower case
        ("33990001", "Anna", "Muster", "anna.muster@alpenpost.ch", None, "CH"),
        ("33990002", "Luca", "Bernasconi", "luca.bernasconi@alpenpost.ch", None, "CH"),
        # "ZIP code" is the zip (a Swedish one written as Sweden does); the one-field Name merge
        # field is not split into first and last names (kept in raw)
        ("44877801", None, None, "dana.whitfield@pugetpost.us", "98110", "US"),
        ("44877802", None, None, "ines.falk@fjordpost.se", "113 46", "SE"),
    ]
    # UNSUB_CAMPAIGN_ID and UNSUB_REASON are in the header twice: the first is the column, the
    # repeat is kept in raw's _extra
    extra = json.loads(q(con, "SELECT _extra FROM raw.esp_members WHERE leid = '44877801'")[0][0])
    assert extra["Name"] == "Dana Whitfield"
    assert {"UNSUB_CAMPAIGN_ID", "UNSUB_REASON"} <= extra.keys() and "UNSUB_TIME" not in extra


def test_consent_events_of_these_exports(con):
    events = q(
        con,
        """SELECT source, source_record_id, channel, identifier, state, reason, event_time
           FROM staging.consent_events ORDER BY ALL""",
    )
    assert events == [
        # HubSpot: Unsubscribed from all email = true is an opt-out dated by the landing day (the
        # export's Last Modified Date is not its time); an empty flag says nothing
        ("crm", "39779198735", "email", "elin.sandberg@fjordpost.se", "revoked", "crm_unsubscribed", LANDED),
        # Square: Unsubscribed without a time is an opt-out dated by the landing day; Subscribed
        # without a time grants nothing, Unknown says nothing
        ("crm", "3MFK8D2QWX5Y7RJ9TZB4C6HNE0", "email", "jonas.berg@fjordpost.se", "revoked", "crm_opt_out", LANDED),
        # the segment export's status is in its name: granted at CONFIRM_TIME (Mailchimp's UTC)
        ("esp", "33990001", "email", "anna.muster@alpenpost.ch", "granted", "subscribed",
         dt.datetime(2018, 2, 12, 18, 6, 58)),
        ("esp", "33990002", "email", "luca.bernasconi@alpenpost.ch", "granted", "subscribed",
         dt.datetime(2018, 2, 12, 16, 55, 49)),
        ("esp", "44877801", "email", "dana.whitfield@pugetpost.us", "granted", "subscribed",
         dt.datetime(2013, 6, 25, 17, 38, 27)),
        ("esp", "44877802", "email", "ines.falk@fjordpost.se", "granted", "subscribed",
         dt.datetime(2013, 6, 26, 8, 2, 11)),
    ]  # fmt: skip


def test_hubspot_contacts_are_crm_records_keyed_by_the_record_id(con):
    records = q(
        con,
        """SELECT source_record_id, first_name, last_name, email, phone, street, postcode, city, country, birth_date
           FROM staging.identity_records WHERE source = 'crm' AND source_record_id LIKE '3977919873%' ORDER BY 1""",
    )
    assert records == [
        # Street Address, Country/Region (a name) and Date of birth; the number read in Sweden
        ("39779198735", "Elin", "Sandberg", "elin.sandberg@fjordpost.se", "+46701234567", "Vaksalagatan 7", "753 20",
         "Uppsala", "SE", dt.date(1990, 4, 12)),
        # Phone Number is the phone (read in Norway); Mobile Phone Number, earlier in HubSpot's
        # alphabetical header, is kept in raw
        ("39779198736", "Ola", "Nordmann", "ola.nordmann@fjordpost.no", "+4755123456", "Bryggen 3", "5003", "Bergen",
         "NO", None),
    ]  # fmt: skip
    extra = json.loads(q(con, "SELECT _extra FROM raw.crm_customers WHERE customer_id = '39779198736'")[0][0])
    assert extra["Mobile Phone Number"] == "+47 412 34 567" and extra["Lifecycle Stage"] == "lead"
    # "Unsubscribed from all email" is an opt-out flag, read as raw.crm_customers.email_unsubscribed
    # (test_consent_events_of_these_exports has its opt-out)
    ((flag, extra),) = q(
        con, "SELECT email_unsubscribed, _extra FROM raw.crm_customers WHERE customer_id = '39779198735'"
    )
    extra = json.loads(extra)
    assert flag == "true" and "Unsubscribed from all email" not in extra and extra["höbbela"] == "ja"
