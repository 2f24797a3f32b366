"""Opt-outs that vendor exports carry in their own columns: HubSpot's "Unsubscribed from all
email", Square's older "Email Unsubscribed" and Klaviyo's "Email Suppressions". Each, through
ingest, staging and the consent ledger, blocks its address even when another source granted
it; a value meaning "not unsubscribed" grants nothing. And a canonical column wins over its
alias whatever the header order."""

import datetime as dt

import duckdb
import pytest

from cdp_pipeline.defs.staging.assets import SQL_DIR, STAGING_TABLES
from cdp_pipeline.lib.golden.consent import build_identifier_consent
from cdp_pipeline.lib.raw import load_partition
from cdp_pipeline.lib.raw.csv_reader import read_csv_text
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.raw.vendor_landing import q, staged_landing_day

DAY = "2026-10-01"
LANDED = dt.datetime(2026, 10, 1)

FILES = {
    # a HubSpot contacts export (every field quoted; Record ID first, properties alphabetical)
    ("crm", "hubspot-crm-exports-all-contacts-2026-10-01.csv"): (
        '"Record ID","First Name","Last Name","Email","Phone Number","Unsubscribed from all email"\n'
        '"501","Elin","Sandberg","elin.sandberg@fjordpost.se","","true"\n'
        '"502","Ola","Nordmann","ola.nordmann@fjordpost.no","","false"\n'
        '"503","Kari","Lie","kari.lie@fjordpost.no","",""\n'
    ),
    # an older Square customer export: Email Unsubscribed instead of Email Subscription Status
    ("crm", "export-20261001-093012.csv"): (
        "Reference ID,First Name,Last Name,Email Address,Phone Number,Square Customer ID,Email Unsubscribed\n"
        ",Karin,Ek,karin.ek@fjordpost.se,,SQ1,Yes\n"
        ",Jonas,Berg,jonas.berg@fjordpost.se,,SQ2,No\n"
    ),
    # Klaviyo profiles: consent SUBSCRIBED yet suppressed after a hard bounce (the same day as the
    # file lands, after midnight), unsubscribed, and an empty suppression list
    ("esp", "profiles_export.csv"): (
        "Email,Klaviyo ID,First Name,Last Name,Email Marketing Consent,Email Marketing Consent Timestamp,"
        "Email Suppressions\n"
        "nomsa.dlamini@kaapmail.co.za,K1,Nomsa,Dlamini,SUBSCRIBED,2026-10-01 06:30:00,[HARD_BOUNCE]\n"
        "olle.nyberg@fjordpost.se,K2,Olle,Nyberg,SUBSCRIBED,2026-09-02 07:45:00,[]\n"
        'mia.holm@fjordpost.se,K3,Mia,Holm,,,"[UNSUBSCRIBE, SPAM_REPORT]"\n'
    ),
    # Mailchimp grants for every address above (confirmed before the exports landed)
    ("esp", "subscribed_members_export_2f8c1a9d3e.csv"): (
        "Email Address,First Name,Last Name,CONFIRM_TIME,LEID\n"
        "elin.sandberg@fjordpost.se,Elin,Sandberg,2026-09-20 10:00:00,1\n"
        "ola.nordmann@fjordpost.no,Ola,Nordmann,2026-09-20 10:00:00,2\n"
        "kari.lie@fjordpost.no,Kari,Lie,2026-09-20 10:00:00,3\n"
        "karin.ek@fjordpost.se,Karin,Ek,2026-09-20 10:00:00,4\n"
        "jonas.berg@fjordpost.se,Jonas,Berg,2026-09-20 10:00:00,5\n"
        "mia.holm@fjordpost.se,Mia,Holm,2026-09-20 10:00:00,6\n"
    ),
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = staged_landing_day(tmp_path_factory.mktemp("vendor_optouts"), DAY, FILES)
    yield c
    c.close()


def test_opt_out_columns_are_email_opt_out_events(con):
    events = q(
        con,
        """SELECT source, source_record_id, identifier, state, reason, event_time FROM staging.consent_events
           WHERE reason <> 'subscribed' ORDER BY ALL""",
    )
    assert events == [
        # HubSpot true and Square Yes: opt-outs dated by the landing day (no time in the export);
        # HubSpot false / empty and Square No make no event
        ("crm", "501", "elin.sandberg@fjordpost.se", "revoked", "crm_unsubscribed", LANDED),
        ("crm", "SQ1", "karin.ek@fjordpost.se", "revoked", "crm_unsubscribed", LANDED),
        # Klaviyo: the SUBSCRIBED grant stays, the suppression is dated by its consent time when
        # that is later than the landing day's midnight; an empty list suppresses nothing
        ("esp", "K1", "nomsa.dlamini@kaapmail.co.za", "granted", "klaviyo_subscribed", dt.datetime(2026, 10, 1, 6, 30)),
        ("esp", "K1", "nomsa.dlamini@kaapmail.co.za", "revoked", "klaviyo_suppression",
         dt.datetime(2026, 10, 1, 6, 30)),
        ("esp", "K2", "olle.nyberg@fjordpost.se", "granted", "klaviyo_subscribed", dt.datetime(2026, 9, 2, 7, 45)),
        ("esp", "K3", "mia.holm@fjordpost.se", "revoked", "klaviyo_suppression", LANDED),
    ]  # fmt: skip


def test_the_ledger_blocks_the_opted_out_addresses_whatever_another_source_granted(con):
    build_identifier_consent(
        con,
        {"consent_events": "staging.consent_events", "email_activity": "staging.email_activity"},
        dt.datetime(2026, 10, 2),
    )
    ledger = {
        identifier: (consent, blocked, reason)
        for identifier, consent, blocked, reason in q(
            con, "SELECT identifier, consent, blocked, reason FROM _golden_identifier_consent WHERE channel = 'email'"
        )
    }
    assert ledger == {
        "elin.sandberg@fjordpost.se": ("revoked", True, "crm_unsubscribed"),
        "karin.ek@fjordpost.se": ("revoked", True, "crm_unsubscribed"),
        # a revocation wins a tie with the row's own grant
        "nomsa.dlamini@kaapmail.co.za": ("revoked", True, "klaviyo_suppression"),
        "mia.holm@fjordpost.se": ("revoked", True, "klaviyo_suppression"),
        # not unsubscribed: Mailchimp's grant stands
        "ola.nordmann@fjordpost.no": ("granted", False, "subscribed"),
        "kari.lie@fjordpost.no": ("granted", False, "subscribed"),
        "jonas.berg@fjordpost.se": ("granted", False, "subscribed"),
        "olle.nyberg@fjordpost.se": ("granted", False, "klaviyo_subscribed"),
    }


def test_the_opt_out_flags_are_raw_columns_not_extra(con):
    rows = q(con, "SELECT customer_id, email_unsubscribed, _extra FROM raw.crm_customers ORDER BY 1")
    assert [(r[0], r[1]) for r in rows] == [
        ("501", "true"),
        ("502", "false"),
        ("503", ""),
        ("SQ1", "Yes"),
        ("SQ2", "No"),
    ]
    assert all("nsubscribed" not in (r[2] or "") for r in rows)
    assert q(
        con, "SELECT klaviyo_id, email_suppressions FROM raw.esp_members WHERE klaviyo_id IS NOT NULL ORDER BY 1"
    ) == [
        ("K1", "[HARD_BOUNCE]"),
        ("K2", "[]"),
        ("K3", "[UNSUBSCRIBE, SPAM_REPORT]"),
    ]


@pytest.mark.parametrize(
    "header,row",
    [
        ("Record ID,Customer ID,Email", "9001,C-7,a@example.se"),
        ("Customer ID,Record ID,Email", "C-7,9001,a@example.se"),
        ("Email,Square Customer ID,customer_id", "a@example.se,9001,C-7"),
    ],
)
def test_a_canonical_column_wins_over_its_alias_whatever_the_order(header, row):
    parsed = read_csv_text(f"{header}\n{row}\n", source="crm", file_name="contacts.csv", encoding="utf-8")
    assert parsed.columns["customer_id"] == ["C-7"]
    # the alias is kept in _extra under its own name
    assert '"9001"' in parsed.extra[0]


def test_two_aliases_of_one_column_the_first_in_the_header_wins():
    parsed = read_csv_text(
        "Customer ID,Postal Code,Zip\nC-1,111 51,99999\n", source="crm", file_name="c.csv", encoding="utf-8"
    )
    assert parsed.columns["postcode"] == ["111 51"]
    assert '"Zip": "99999"' in parsed.extra[0]


def test_a_flag_loaded_before_it_was_read_is_read_from_extra(tmp_path):
    """A HubSpot or Klaviyo row loaded by the code before this one has its flag in _extra (the raw
    columns are added empty to an existing warehouse): it opts out just the same."""
    landing = tmp_path / "landing"
    for (source, name), text in FILES.items():
        if name != "subscribed_members_export_2f8c1a9d3e.csv":
            (landing / source / DAY).mkdir(parents=True, exist_ok=True)
            (landing / source / DAY / name).write_text(text, encoding="utf-8")
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    for source in ("crm", "esp"):
        load_partition(c, landing, source, DAY, suppression=set())
    # what the earlier loader wrote: the vendor's column in _extra, the canonical column empty
    c.execute(
        """UPDATE raw.crm_customers SET _extra = json_object('Unsubscribed from all email', email_unsubscribed),
                  email_unsubscribed = NULL WHERE customer_id = '501'"""
    )
    c.execute(
        """UPDATE raw.esp_members SET _extra = json_object('Email Suppressions', email_suppressions),
                  email_suppressions = NULL WHERE klaviyo_id = 'K3'"""
    )
    for table in STAGING_TABLES:
        build_staging_table(c, SQL_DIR, table, get_settings())
    assert q(
        c,
        "SELECT source_record_id, state, reason, event_time FROM staging.consent_events "
        "WHERE source_record_id IN ('501', 'K3') ORDER BY 1",
    ) == [("501", "revoked", "crm_unsubscribed", LANDED), ("K3", "revoked", "klaviyo_suppression", LANDED)]
    c.close()
