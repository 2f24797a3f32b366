"""Which unread rows can hide an opt-out, which channels a destination uses, acknowledgements."""

import datetime as dt

import pytest

from cdp_pipeline.lib.activation.destinations import load_destinations
from cdp_pipeline.lib.activation.holds import (
    ACKNOWLEDGEMENTS_FILE_NAME,
    BlockingFile,
    UnreadFile,
    destination_channels,
    export_holds,
    is_acknowledged,
    read_acknowledgements,
    row_may_hide_opt_out,
)


@pytest.mark.parametrize(
    "source, kind, name, raw, ids, expected",
    [
        # SMS: only an opt-out keyword reply withdraws consent
        ("sms", "sms_messages_csv", "sms_log.csv", '+4670,+4671,"Hej! Ring mig,received,inbound', (), False),
        ("sms", "sms_messages_csv", "sms_log.csv", '+4670,+4671,"stop,received,inbound', (), True),
        ("sms", "sms_messages_jsonl", "messages.jsonl", '{"body": "UNSUBSCRIBE", "from": "+4670"', (), True),
        # the Swedish/Norwegian STOPP is a keyword (lib/staging/consent.py): a row holding the word may hide one
        ("sms", "sms_messages_csv", "sms_log.csv", '+4670,+4671,"Stopp i leveransen?,received', (), True),
        ("sms", "sms_messages_csv", "sms_log.csv", '+4670,+4671,"opt-out please,received', (), True),
        ("sms", "sms_messages_csv", "sms_log.csv", '+4670,+4671,"Tack! Stoppade ni paketet?,received', (), False),
        # ESP activity: opens and clicks carry no consent, a bounce does
        ("esp", "esp_activity", "campaign_activity.csv", 'a@x.se,open,"2026-10-01', (), False),
        ("esp", "esp_activity", "campaign_activity.csv", 'a@x.se,click,"https://x', (), False),
        ("esp", "esp_activity", "campaign_activity.csv", 'a@x.se,bounce,"2026-10-01', (), True),
        # ESP members: a subscribed export holds only grants; any other may be an unsubscribe or cleaning
        ("esp", "esp_members", "subscribed_members_export_ab12.csv", 'a@x.se,Kim,"note', (), False),
        ("esp", "esp_members", "unsubscribed_members_export_ab12.csv", 'a@x.se,Kim,"note', (), True),
        ("esp", "esp_members", "cleaned_email_audience_export_ab12.csv", 'a@x.se,Kim,"note', (), True),
        ("esp", "esp_members", "members.csv", 'a@x.se,Kim,"note', (), True),
        ("esp", None, "whatever.csv", "a@x.se", (), True),
        # CRM: a damaged copy of a row the same file delivers readable does not hold; any other row does
        ("crm", "crm_customers", "customers.csv", "106644,Lea,Pulkkinen,l.p@x.fi,+35", {"106644"}, False),
        ("crm", "crm_customers", "customers.csv", "106645,Lea,Pulkkinen,l.p@x.fi,+35", {"106644"}, True),
        ("crm", "crm_customers", "customers.csv", "'106644;Lea;Pulkkinen", {"106644"}, True),  # wrong delimiter
        ("crm", None, "customers.csv", "", {"106644"}, True),
    ],
)
def test_which_unread_rows_can_hide_an_opt_out(source, kind, name, raw, ids, expected):
    assert row_may_hide_opt_out(source, kind, name, raw, ids, ",")[0] is expected


def test_a_crm_row_read_with_its_files_delimiter():
    assert row_may_hide_opt_out("crm", "crm_customers", "c.csv", "'106644;Lea;Pulkkinen", {"106644"}, ";")[0] is False


def test_channels_of_the_shipped_destinations_follow_what_their_files_carry():
    channels = {d.name: destination_channels(d) for d in load_destinations()}
    assert channels == {
        "newsletter": ("email",),
        "sms_offers": ("sms",),
        "meta_top_spenders": ("email", "sms"),
        "google_winback": ("email", "sms"),
        "pos_loyalty_flags": (),
    }


def test_holds_per_destination_and_channel(tmp_path):
    esp = BlockingFile("esp", "esp/2026-10-01/u.csv", "u.csv", "ab" * 32, dt.date(2026, 10, 1), ("email",), "x")
    holds = export_holds(load_destinations(), [esp], tmp_path)
    assert [(h.destination, h.channel) for h in holds] == [
        ("newsletter", "email"),
        ("meta_top_spenders", "email"),
        ("google_winback", "email"),
    ]
    assert "esp/2026-10-01/u.csv" in holds[0].release and ACKNOWLEDGEMENTS_FILE_NAME in holds[0].release


def test_acknowledgements_by_path_or_checksum(tmp_path):
    (tmp_path / ACKNOWLEDGEMENTS_FILE_NAME).write_text(
        "\ufeffFile,SHA256,acknowledged_by,note\n"
        "crm/2026-10-01/a.csv,,ops,test file\n"
        ",CD" + "cd" * 31 + ",ops,\n"
        ",,nobody,no file named\n",
        encoding="utf-8",
    )
    acks = read_acknowledgements(tmp_path)
    assert [(a.file, a.sha256, a.line) for a in acks] == [("crm/2026-10-01/a.csv", None, 2), (None, "cd" * 32, 3)]

    def unread(file, sha):
        return UnreadFile("crm", file, sha, dt.date(2026, 10, 1), "rejected", 0, True, "")

    assert is_acknowledged(unread("crm/2026-10-01/a.csv", "ef" * 32), acks)
    assert is_acknowledged(unread("crm/2026-10-02/b.csv", "cd" * 32), acks)
    assert not is_acknowledged(unread("crm/2026-10-02/a.csv", "ef" * 32), acks)  # same name, another day
    assert read_acknowledgements(tmp_path / "nowhere") == []
