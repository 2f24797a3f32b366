"""The vendor conformance corpus (fixtures/vendors/, see its README): each export as the vendor
writes it, through ingest and staging, gives known rows, consent events, E.164 phones read in
their row's country, and Shopify discounts."""

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR, STAGING_TABLES
from cdp_pipeline.lib.golden.consent import build_identifier_consent
from cdp_pipeline.lib.raw import load_partition
from cdp_pipeline.lib.staging.build import build_staging
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.raw.vendor_landing import q, staged_landing_day

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
DAY = "2026-10-01"
LANDED = dt.datetime(2026, 10, 1)

# landing folder -> corpus files dropped there
DROPS = {
    "pos": ["shopify/orders_export_1.csv", "shopify/orders_export_2021.csv"],
    "crm": ["shopify/customers_export.csv", "shopify/customers_export_legacy.csv"],
    "esp": [
        "klaviyo/newsletter_list_export.csv",
        "klaviyo/profiles_export.csv",
        "mailchimp/subscribed_email_audience_export_4f2a9c1e7b.csv",
    ],
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = staged_landing_day(
        tmp_path_factory.mktemp("vendors"),
        DAY,
        {(source, Path(f).name): VENDORS / f for source, files in DROPS.items() for f in files},
    )
    yield c
    c.close()


def test_every_file_is_accepted_as_its_kind(con):
    kinds = {
        Path(file).name: rest
        for file, *rest in q(con, "SELECT file, status, file_kind, rows_read, rows_quarantined FROM audit.files")
    }
    assert kinds == {
        "orders_export_1.csv": ["loaded", "pos_orders", 4, 0],
        "orders_export_2021.csv": ["loaded", "pos_orders", 1, 0],
        "customers_export.csv": ["loaded", "crm_customers", 2, 0],
        "customers_export_legacy.csv": ["loaded", "shopify_customers_legacy", 2, 0],
        "newsletter_list_export.csv": ["loaded", "esp_klaviyo_profiles", 3, 0],
        "profiles_export.csv": ["loaded", "esp_klaviyo_profiles", 3, 0],
        "subscribed_email_audience_export_4f2a9c1e7b.csv": ["loaded", "esp_members", 1, 0],
    }


def test_shopify_discounts_are_read_and_the_lines_add_up_to_the_subtotal(con):
    orders = q(
        con,
        """SELECT order_id, currency, subtotal, discount, total FROM staging.orders
                       WHERE channel = 'online' ORDER BY order_id""",
    )
    assert orders == [
        ("order:#1041", "SEK", Decimal("270.00"), Decimal("30.00"), Decimal("319.00")),
        ("order:#2001", "ZAR", Decimal("450.00"), Decimal("50.00"), Decimal("510.00")),
        ("order:#2002", "BDT", Decimal("1200.00"), Decimal("0.00"), Decimal("1200.00")),
        ("order:#2003", "EUR", Decimal("35.00"), Decimal("0.00"), Decimal("39.90")),
    ]
    lines = q(
        con,
        "SELECT order_id, line_no, quantity, unit_price, discount, line_total FROM staging.order_lines "
        "WHERE order_id = 'order:#2001' ORDER BY line_no",
    )
    assert lines == [
        ("order:#2001", 1, Decimal("2.000"), Decimal("200.00"), Decimal("40.00"), Decimal("360.00")),
        ("order:#2001", 2, Decimal("1.000"), Decimal("100.00"), Decimal("10.00"), Decimal("90.00")),
    ]
    disagreeing = q(
        con,
        """SELECT o.order_id FROM staging.orders o JOIN staging.order_lines l USING (order_id)
                            WHERE o.channel = 'online' GROUP BY o.order_id, o.subtotal, o.discount
                            HAVING sum(l.line_total) <> o.subtotal OR sum(l.discount) <> o.discount""",
    )
    assert disagreeing == []


def test_shopify_order_numbers_are_identifiers_in_the_orders_country(con):
    records = q(
        con,
        """SELECT source_record_id, phone, country, email FROM staging.identity_records
                        WHERE source = 'pos' ORDER BY 1""",
    )
    assert records == [
        ("order:#1041", "+46701234567", "SE", "astrid.lund@fjordpost.se"),
        ("order:#2001", "+27821234567", "ZA", "thandi.nkosi@kaapmail.co.za"),  # Billing Phone, Billing Country
        ("order:#2002", "+8801712345678", "BD", "rahim.uddin@dhakamail.com.bd"),  # Phone, Billing Country
        ("order:#2003", "+4915112345678", "DE", "lena.schmidt@posteo-mail.de"),  # Shipping Phone, Shipping Country
    ]


def test_shopify_customers_ids_addresses_and_phones(con):
    records = q(
        con,
        """SELECT source_record_id, crm_customer_id, first_name, email, phone, street, city, country
                        FROM staging.identity_records WHERE source = 'crm' ORDER BY 1""",
    )
    assert records == [
        # the spreadsheet apostrophe is gone; Default Address columns are the address
        (
            "5207765762223",
            "5207765762223",
            "Thandi",
            "thandi.nkosi@kaapmail.co.za",
            "+27821234567",
            "12 Long Street",
            "Cape Town",
            "ZA",
        ),
        # no Phone: the Default Address Phone, read in the default address's country
        (
            "5207765762224",
            "5207765762224",
            "Rahim",
            "rahim.uddin@dhakamail.com.bd",
            "+8801712345678",
            "House 5, Road 2",
            "Dhaka",
            "BD",
        ),
        # a legacy export has no Customer ID: keyed by the address; Country is written as a name
        (
            "email:astrid.lund@fjordpost.se",
            None,
            "Astrid",
            "astrid.lund@fjordpost.se",
            "+46701234567",
            "Storgatan 1",
            "Stockholm",
            "SE",
        ),
        (
            "email:lena.schmidt@posteo-mail.de",
            None,
            "Lena",
            "lena.schmidt@posteo-mail.de",
            "+491712345678",
            "Hauptstraße 5",
            "Berlin",
            "DE",
        ),
    ]


def test_esp_phones_are_read_in_the_members_country(con):
    records = q(
        con,
        """SELECT source_record_id, email, phone, country FROM staging.identity_records
                        WHERE source = 'esp' ORDER BY 1""",
    )
    assert records == [
        # the profile's latest version is the record: the profiles export, which has no phone
        ("01HZX4B7K2M9Q3R5T7V9W1Y3Z5", "nomsa.dlamini@kaapmail.co.za", None, "ZA"),
        ("01HZX4B7K2M9Q3R5T7V9W1Y3Z6", "karim.hossain@dhakamail.com.bd", "+8801812345678", "BD"),
        ("01HZX4B7K2M9Q3R5T7V9W1Y3Z7", "erik.berg@fjordpost.se", "+46709876543", "SE"),  # Klaviyo Country "Sverige"
        ("01HZX4B7K2M9Q3R5T7V9W1Y3Z8", "olle.nyberg@fjordpost.se", None, "SE"),
        ("01HZX4B7K2M9Q3R5T7V9W1Y3Z9", "mia.holm@fjordpost.se", None, "SE"),
        ("381004217", "sipho.mokoena@kaapmail.co.za", "+27827654321", "ZA"),  # Mailchimp CC
    ]


def test_consent_events_of_the_vendor_exports(con):
    events = q(
        con,
        """SELECT source, source_record_id, channel, identifier, state, reason, event_time
                       FROM staging.consent_events ORDER BY ALL""",
    )
    assert events == [
        # Shopify customers: an unticked box is an opt-out dated by the file's landing day; a
        # ticked one without a time is no grant (docs/sources.md)
        ("crm", "5207765762224", "email", "rahim.uddin@dhakamail.com.bd", "revoked", "crm_opt_out", LANDED),
        (
            "crm",
            "email:lena.schmidt@posteo-mail.de",
            "email",
            "lena.schmidt@posteo-mail.de",
            "revoked",
            "crm_opt_out",
            LANDED,
        ),
        # Klaviyo: Consent lists the channels (a grant at Date Added / SMS Consent Timestamp)...
        (
            "esp",
            "01HZX4B7K2M9Q3R5T7V9W1Y3Z5",
            "email",
            "nomsa.dlamini@kaapmail.co.za",
            "granted",
            "klaviyo_consent",
            dt.datetime(2026, 9, 1, 10, 0),
        ),
        # ...or Email Marketing Consent says it (an unsubscribe without a time: the landing day)
        (
            "esp",
            "01HZX4B7K2M9Q3R5T7V9W1Y3Z5",
            "email",
            "nomsa.dlamini@kaapmail.co.za",
            "revoked",
            "klaviyo_unsubscribed",
            LANDED,
        ),
        (
            "esp",
            "01HZX4B7K2M9Q3R5T7V9W1Y3Z5",
            "sms",
            "+27723456789",
            "granted",
            "klaviyo_consent",
            dt.datetime(2026, 9, 20, 8, 15),
        ),
        # no Consent: Shopify's Accepts Marketing, synced into Klaviyo
        (
            "esp",
            "01HZX4B7K2M9Q3R5T7V9W1Y3Z6",
            "email",
            "karim.hossain@dhakamail.com.bd",
            "revoked",
            "accepts_marketing",
            LANDED,
        ),
        (
            "esp",
            "01HZX4B7K2M9Q3R5T7V9W1Y3Z7",
            "email",
            "erik.berg@fjordpost.se",
            "granted",
            "klaviyo_consent",
            dt.datetime(2026, 7, 3, 9, 0),
        ),
        # a channel Consent does not list was not consented to
        ("esp", "01HZX4B7K2M9Q3R5T7V9W1Y3Z7", "sms", "+46709876543", "revoked", "klaviyo_consent", LANDED),
        (
            "esp",
            "01HZX4B7K2M9Q3R5T7V9W1Y3Z8",
            "email",
            "olle.nyberg@fjordpost.se",
            "granted",
            "klaviyo_subscribed",
            dt.datetime(2026, 6, 2, 7, 45),
        ),
        (
            "esp",
            "01HZX4B7K2M9Q3R5T7V9W1Y3Z9",
            "email",
            "mia.holm@fjordpost.se",
            "revoked",
            "klaviyo_never_subscribed",
            LANDED,
        ),
        (
            "esp",
            "381004217",
            "email",
            "sipho.mokoena@kaapmail.co.za",
            "granted",
            "subscribed",
            dt.datetime(2026, 8, 1, 9, 1, 10),
        ),
        # Shopify orders: a ticked Accepts Marketing at checkout
        (
            "pos",
            "order:#1041",
            "email",
            "astrid.lund@fjordpost.se",
            "granted",
            "accepts_marketing",
            dt.datetime(2021, 3, 2, 8, 9, 31),
        ),
        (
            "pos",
            "order:#2001",
            "email",
            "thandi.nkosi@kaapmail.co.za",
            "granted",
            "accepts_marketing",
            dt.datetime(2026, 9, 30, 8, 4, 12),
        ),
    ]


def test_the_consent_ledger_of_the_vendor_exports(con):
    """Per address and number: a Klaviyo unsubscribe after a Klaviyo grant blocks the address, a
    number whose Klaviyo Consent lacks SMS is blocked, Shopify's unticked boxes block."""
    build_identifier_consent(
        con,
        {"consent_events": "staging.consent_events", "email_activity": "staging.email_activity"},
        dt.datetime(2026, 10, 2),
    )
    ledger = {
        (channel, identifier): (consent, blocked, reason)
        for channel, identifier, consent, blocked, reason in q(
            con, "SELECT channel, identifier, consent, blocked, reason FROM _golden_identifier_consent"
        )
    }
    assert ledger == {
        ("email", "nomsa.dlamini@kaapmail.co.za"): ("revoked", True, "klaviyo_unsubscribed"),
        ("sms", "+27723456789"): ("granted", False, "klaviyo_consent"),
        ("email", "karim.hossain@dhakamail.com.bd"): ("revoked", True, "accepts_marketing"),
        ("email", "erik.berg@fjordpost.se"): ("granted", False, "klaviyo_consent"),
        ("sms", "+46709876543"): ("revoked", True, "klaviyo_consent"),
        ("email", "olle.nyberg@fjordpost.se"): ("granted", False, "klaviyo_subscribed"),
        ("email", "mia.holm@fjordpost.se"): ("revoked", True, "klaviyo_never_subscribed"),
        ("email", "sipho.mokoena@kaapmail.co.za"): ("granted", False, "subscribed"),
        ("email", "rahim.uddin@dhakamail.com.bd"): ("revoked", True, "crm_opt_out"),
        ("email", "lena.schmidt@posteo-mail.de"): ("revoked", True, "crm_opt_out"),
        ("email", "astrid.lund@fjordpost.se"): ("granted", False, "accepts_marketing"),
        ("email", "thandi.nkosi@kaapmail.co.za"): ("granted", False, "accepts_marketing"),
    }


def test_a_night_that_adds_exports_builds_the_same_staging_as_a_whole_rebuild(tmp_path):
    """The record keys of these exports (a Shopify id without its apostrophe, a legacy Shopify
    customer's address, a Klaviyo profile id) are the incremental build's keys too."""
    nights = {
        "2026-10-01": [
            "shopify/orders_export_2021.csv",
            "shopify/customers_export_legacy.csv",
            "klaviyo/newsletter_list_export.csv",
        ],
        "2026-10-02": [
            "shopify/orders_export_1.csv",
            "shopify/customers_export.csv",
            "klaviyo/profiles_export.csv",
            "mailchimp/subscribed_email_audience_export_4f2a9c1e7b.csv",
        ],
    }
    source_of = {f: source for source, files in DROPS.items() for f in files}
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    for day, files in nights.items():
        for f in files:
            folder = tmp_path / "landing" / source_of[f] / day
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(VENDORS / f, folder / Path(f).name)
        for source in sorted({source_of[f] for f in files}):
            load_partition(c, tmp_path / "landing", source, day, suppression=set())
        modes = {t: getattr(build_staging(c, SQL_DIR, t, get_settings())[1], "mode", None) for t in STAGING_TABLES}
    assert modes["identity_records"] == modes["consent_events"] == modes["orders"] == "incremental"
    nightly = {t: q(c, f"SELECT * FROM staging.{t} ORDER BY ALL") for t in STAGING_TABLES}
    for t in STAGING_TABLES:
        build_staging(c, SQL_DIR, t, get_settings(), full_refresh=True)
        assert q(c, f"SELECT * FROM staging.{t} ORDER BY ALL") == nightly[t], t
    assert len(nightly["identity_records"]) == 14 and len(nightly["consent_events"]) == 13
    c.close()
