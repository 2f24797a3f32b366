"""Issue 15.1: consent per address and number (golden.identifier_consent), whatever customer carries it."""

from __future__ import annotations

from datetime import date

import duckdb

from cdp_pipeline.lib.golden import incremental
from cdp_pipeline.lib.golden.build import build_golden
from cdp_pipeline_tests.lib.golden.conftest import golden_row
from cdp_pipeline_tests.lib.golden.world import create_contract_tables, insert, ts

AS_OF = date(2026, 9, 20)


def ledger(con) -> dict[tuple[str, str], tuple]:
    return {
        (c, i): tuple(rest)
        for c, i, *rest in con.execute(
            "SELECT channel, identifier, consent, blocked, reason, source, source_record_id "
            "FROM golden.identifier_consent ORDER BY ALL"
        ).fetchall()
    }


def test_the_ledger_of_the_hand_made_world(world):
    assert ledger(world) == {
        # unsubscribed at the ESP: blocked, whatever customer has the address
        ("email", "anna.new@mail.se"): ("revoked", True, "unsubscribed", "esp", "leid-a"),
        # only a checkout tick box (its own address, not the unsubscribed one): granted
        ("email", "anna@crm.se"): ("granted", False, "accepts_marketing", "pos", "order:#1001"),
        ("email", "bo@x.se"): ("granted", False, "accepts_marketing", "pos", "order:#2001"),
        # cleaned, then an explicit CRM opt-in; the CRM opt-out dated after the cutoff counts at the cutoff
        ("email", "cecilia@mail.se"): ("revoked", True, "crm_opt_out", "crm", "300"),
        ("sms", "+46701111111"): ("granted", False, "sms_start", "sms", "+46701111111"),
    }


def _world(records: list[tuple], consent: list[tuple], activity: list[tuple] = ()) -> duckdb.DuckDBPyConnection:
    """records: (customer, source, source_record_id, record_time, attrs); consent: (source, srid, channel,
    identifier, state, reason, time); activity: (source_record_id, email, action, time)."""
    con = duckdb.connect()
    create_contract_tables(con)
    for customer, source, srid, when, attrs in records:
        insert(con, "identity.customer_map", [dict(source=source, source_record_id=srid, customer_id=customer)])
        insert(
            con, "staging.identity_records", [dict(source=source, source_record_id=srid, record_time=ts(when), **attrs)]
        )
    insert(
        con,
        "staging.consent_events",
        [
            dict(source=s, source_record_id=r, channel=c, identifier=i, state=st, reason=why, event_time=ts(t))
            for s, r, c, i, st, why, t in consent
        ],
    )
    insert(
        con,
        "staging.email_activity",
        [
            dict(activity_id=f"a{n}", source="esp", source_record_id=r, email=e, action=a, event_time=ts(t))
            for n, (r, e, a, t) in enumerate(activity)
        ],
    )
    return con


def _split_person() -> duckdb.DuckDBPyConnection:
    # The same address on two customers identity resolution kept apart ("Stina" vs "Kristina"):
    # unsubscribed at the ESP on customer A's record, a 2022 CRM opt-in on customer B's.
    return _world(
        [
            (
                "A",
                "esp",
                "leid-1",
                "2026-09-16 08:00",
                dict(first_name="Stina", last_name="Palm", email="kristina.palm@live.se"),
            ),
            (
                "B",
                "crm",
                "77",
                "2022-03-01 10:00",
                dict(first_name="Kristina", last_name="Palm", email="kristina.palm@live.se", phone="+46701234567"),
            ),
        ],
        [
            ("esp", "leid-1", "email", "kristina.palm@live.se", "granted", "subscribed", "2021-01-01 10:00"),
            ("esp", "leid-1", "email", "kristina.palm@live.se", "revoked", "unsubscribed", "2026-09-16 08:00"),
            ("crm", "77", "email", "kristina.palm@live.se", "granted", "crm_opt_in", "2022-03-01 10:00"),
            ("crm", "77", "sms", "+46701234567", "granted", "crm_opt_in", "2022-03-01 10:00"),
        ],
    )


def test_an_unsubscribe_on_one_customer_blocks_the_address_on_another():
    con = _split_person()
    build_golden(con, AS_OF, tz="UTC")
    assert ledger(con)[("email", "kristina.palm@live.se")] == ("revoked", True, "unsubscribed", "esp", "leid-1")
    b = golden_row(con, "B")
    # B's own signals say granted, but the address is blocked: B's consent is the address's ledger row, revoked
    # by A's unsubscribe, and not contactable by email (SMS is untouched)
    assert (b["email"], b["email_consent"], b["email_consent_source"], b["email_contactable"]) == (
        "kristina.palm@live.se",
        "revoked",
        "esp",
        False,
    )
    assert b["sms_contactable"] is True
    assert golden_row(con, "A")["email_contactable"] is False


def test_work_address_unsubscribed_at_six_personal_opt_in_at_ten():
    # The ESP record (work address) is the most recent record, so most_recent alone would pick it.
    con = _world(
        [
            ("C", "esp", "leid-w", "2026-09-19 06:00", dict(first_name="Eva", email="eva@work.se")),
            ("C", "crm", "5", "2026-09-19 05:00", dict(first_name="Eva", email="eva@home.se")),
        ],
        [
            ("esp", "leid-w", "email", "eva@work.se", "granted", "subscribed", "2025-01-01 10:00"),
            ("esp", "leid-w", "email", "eva@work.se", "revoked", "unsubscribed", "2026-09-19 06:00"),
            ("crm", "5", "email", "eva@home.se", "granted", "crm_opt_in", "2026-09-19 10:00"),
        ],
    )
    build_golden(con, AS_OF, tz="UTC")
    c = golden_row(con, "C")
    assert (c["email"], c["email_source"], c["email_consent"], c["email_contactable"]) == (
        "eva@home.se",
        "crm",
        "granted",
        True,
    )
    assert ledger(con)[("email", "eva@work.se")][1] is True
    assert ledger(con)[("email", "eva@home.se")][1] is False


def test_when_every_address_is_blocked_none_is_contactable():
    con = _world(
        [
            ("C", "esp", "leid-w", "2026-09-19 06:00", dict(email="eva@work.se")),
            ("C", "crm", "5", "2026-09-19 05:00", dict(email="eva@home.se")),
        ],
        [
            ("esp", "leid-w", "email", "eva@work.se", "revoked", "unsubscribed", "2026-09-19 06:00"),
            ("crm", "5", "email", "eva@home.se", "revoked", "crm_opt_out", "2026-09-19 07:00"),
            ("crm", "5", "email", "eva@work.se", "granted", "crm_opt_in", "2026-09-19 10:00"),
        ],
    )
    build_golden(con, AS_OF, tz="UTC")
    # the work address's later explicit CRM opt-in lifts its unsubscribe; the home address is opted out
    assert ledger(con)[("email", "eva@work.se")] == ("granted", False, "crm_opt_in", "crm", "5")
    c = golden_row(con, "C")
    assert (c["email"], c["email_contactable"]) == ("eva@work.se", True)


def test_a_bounce_blocks_the_address_and_the_customer_reads_it():
    con = _world(
        [("C", "esp", "leid-b", "2026-01-01 10:00", dict(email="old@mail.se"))],
        [
            ("esp", "leid-b", "email", "old@mail.se", "granted", "subscribed", "2026-01-01 10:00"),
            ("pos", "order:1", "email", "old@mail.se", "granted", "accepts_marketing", "2026-09-10 10:00"),
        ],
        [
            ("leid-b", "old@mail.se", "open", "2026-02-01 10:00"),
            ("leid-b", "old@mail.se", "bounce", "2026-09-01 10:00"),
        ],
    )
    build_golden(con, AS_OF, tz="UTC")
    # a later checkout tick box (implied) does not lift the bounce
    assert ledger(con)[("email", "old@mail.se")] == ("revoked", True, "bounce", "esp", "leid-b")
    c = golden_row(con, "C")
    # the customer's consent is the address's ledger row: revoked by the bounce (not a staging consent event)
    assert (c["email_consent"], c["email_consent_at"], c["email_contactable"]) == (
        "revoked",
        ts("2026-09-01 10:00"),
        False,
    )


def test_an_identifier_without_any_signal_is_not_in_the_ledger_and_consent_decides():
    con = _world(
        [("C", "crm", "1", "2026-01-01 10:00", dict(email="a@x.se"))],
        [("crm", "1", "sms", "+46700000001", "granted", "crm_opt_in", "2026-01-01 10:00")],
    )
    build_golden(con, AS_OF, tz="UTC")
    assert ("email", "a@x.se") not in ledger(con)
    assert golden_row(con, "C")["email_contactable"] is False  # no email consent at all


def test_an_unsubscribe_on_another_customer_redoes_this_customer_incrementally(monkeypatch):
    monkeypatch.setattr(incremental, "MAX_AFFECTED_SHARE", 1.0)
    con = _split_person()
    con.execute("DELETE FROM staging.consent_events WHERE reason = 'unsubscribed'")
    build_golden(con, AS_OF, tz="UTC")
    assert golden_row(con, "B")["email_contactable"] is True
    # tonight only A's ESP record changes; B's records are untouched
    insert(
        con,
        "staging.consent_events",
        [
            dict(
                source="esp",
                source_record_id="leid-1",
                channel="email",
                identifier="kristina.palm@live.se",
                state="revoked",
                reason="unsubscribed",
                event_time=ts("2026-09-16 08:00"),
            )
        ],
    )
    got = build_golden(con, AS_OF, tz="UTC")
    assert got.mode == "incremental" and got.customers_rebuilt == 2
    assert golden_row(con, "B")["email_contactable"] is False


def test_ties_go_by_source_record_then_reason_with_no_reason_last():
    # Equal in time, state and strength (an unknown reason and no reason both count 2): the ledger's
    # ranking then takes the greater source_record_id, then the greater reason, a missing reason last.
    person = ("A", "crm", "c-1", "2026-09-01 08:00", dict(first_name="Ada", email="ada@mail.se"))
    ties = [
        ("crm", "10", "email", "ada@mail.se", "granted", "zz_unknown", "2026-09-10 08:00"),
        ("crm", "9", "email", "ada@mail.se", "granted", None, "2026-09-10 08:00"),
        ("crm", "9", "email", "ada@mail.se", "granted", "aa_unknown", "2026-09-10 08:00"),
        ("crm", "9", "sms", "+46702222222", "granted", None, "2026-09-10 08:00"),
    ]
    con = _world([person], ties)
    build_golden(con, AS_OF, full_refresh=True)
    assert ledger(con) == {
        ("email", "ada@mail.se"): ("granted", False, "aa_unknown", "crm", "9"),
        ("sms", "+46702222222"): ("granted", False, None, "crm", "9"),
    }
    assert con.execute("SELECT signals FROM golden.identifier_consent WHERE channel = 'email'").fetchall() == [(3,)]


def _ledger_times(con) -> dict[tuple[str, str], tuple]:
    return {
        (c, i): (consent, reason, str(at))
        for c, i, consent, reason, at in con.execute(
            "SELECT channel, identifier, consent, reason, event_at FROM golden.identifier_consent"
        ).fetchall()
    }


def _future_world() -> duckdb.DuckDBPyConnection:
    # As of 2026-09-20 (UTC): the cutoff is 2026-09-21 00:00.
    return _world(
        [("A", "crm", "1", "2026-01-01 10:00", dict(first_name="Ada", email="ada@x.se", phone="+46700000001"))],
        [
            ("crm", "1", "email", "ada@x.se", "granted", "crm_opt_in", "2026-01-01 10:00"),
            ("crm", "1", "sms", "+46700000001", "granted", "crm_opt_in", "2026-01-01 10:00"),
            # a wrong year: an unsubscribe written as 2099
            ("esp", "leid-1", "email", "ada@x.se", "revoked", "unsubscribed", "2099-09-20 08:00"),
            # a STOP half an hour after the cutoff (clock skew, a time-zone error), re-granted that morning
            ("sms", "+46700000001", "sms", "+46700000001", "revoked", "sms_stop", "2026-09-21 00:30"),
            ("sms", "+46700000001", "sms", "+46700000001", "granted", "sms_start", "2026-09-21 10:00"),
            # opted out, then a grant dated after the cutoff: it grants nothing yet
            ("crm", "1", "email", "bo@x.se", "revoked", "crm_opt_out", "2026-09-01 10:00"),
            ("crm", "1", "email", "bo@x.se", "granted", "crm_opt_in", "2026-09-22 10:00"),
        ],
    )


def test_an_opt_out_dated_after_the_cutoff_blocks_tonight_and_keeps_its_own_time():
    con = _future_world()
    build_golden(con, AS_OF, tz="UTC")
    assert _ledger_times(con) == {
        ("email", "ada@x.se"): ("revoked", "unsubscribed", "2099-09-20 08:00:00"),
        ("sms", "+46700000001"): ("revoked", "sms_stop", "2026-09-21 00:30:00"),
        ("email", "bo@x.se"): ("revoked", "crm_opt_out", "2026-09-01 10:00:00"),
    }
    a = golden_row(con, "A")
    assert (a["email_contactable"], a["sms_contactable"]) == (False, False)


def test_an_opt_out_counted_at_the_cutoff_is_settled_again_on_later_nights(monkeypatch):
    """Night by night, an incremental build gives the ledger of a whole build: the STOP counted at
    tonight's cutoff is re-settled when the cutoff passes it (and the START after it), the 2099
    unsubscribe each night, the future grant once its time is before the cutoff."""
    monkeypatch.setattr(incremental, "MAX_AFFECTED_SHARE", 1.0)
    con = _future_world()
    build_golden(con, AS_OF, tz="UTC")
    for day, expected in [
        (date(2026, 9, 21), {"sms": ("granted", "sms_start"), "bo": ("revoked", "crm_opt_out")}),
        (date(2026, 9, 22), {"sms": ("granted", "sms_start"), "bo": ("granted", "crm_opt_in")}),
    ]:
        got = build_golden(con, day, tz="UTC")
        assert got.mode == "incremental"
        whole = _future_world()
        build_golden(whole, day, tz="UTC", full_refresh=True)
        assert _ledger_times(con) == _ledger_times(whole)
        rows = _ledger_times(con)
        assert rows[("sms", "+46700000001")][:2] == expected["sms"]
        assert rows[("email", "bo@x.se")][:2] == expected["bo"]
        assert rows[("email", "ada@x.se")] == ("revoked", "unsubscribed", "2099-09-20 08:00:00")
        assert (
            con.execute("SELECT * FROM golden._identifier_state ORDER BY ALL").fetchall()
            == whole.execute("SELECT * FROM golden._identifier_state ORDER BY ALL").fetchall()
        )
