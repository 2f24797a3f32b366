"""Session 43: one source of truth for consent. A customer's consent columns, contactability and the
export gate all read the consent ledger (golden.identifier_consent); known answers on a DuckDB file,
built whole and then incrementally."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from cdp_pipeline.lib.activation.consent_gate import ConsentedIdentifiers
from cdp_pipeline.lib.golden import incremental
from cdp_pipeline.lib.golden.build import build_golden
from cdp_pipeline_tests.lib.golden.world import create_contract_tables, insert, ts

AS_OF = date(2026, 9, 20)  # cutoff 2026-09-21 00:00 UTC

RECORDS = [
    # (customer, source, source_record_id, record_time, email, phone)
    # F: subscribed; an unsubscribe dated 2099 (a wrong year) arrives: it counts at the cutoff
    ("F", "esp", "leid-f", "2026-01-01 10:00", "f@x.se", None),
    # T: two addresses; the older one unsubscribed after the newer one was subscribed
    ("T", "esp", "leid-t1", "2026-01-01 10:00", "t.old@x.se", None),
    ("T", "esp", "leid-t2", "2026-02-01 10:00", "t.new@x.se", None),
    # R: unsubscribed, then subscribed again (explicitly)
    ("R", "esp", "leid-r", "2026-01-01 10:00", "r@x.se", None),
    # K: unsubscribed their ESP address, then ticked "Accepts Marketing" at checkout with another one
    ("K", "esp", "leid-k", "2026-01-01 10:00", "k.esp@x.se", None),
    ("K", "pos", "order:k", "2026-09-10 10:00", "k.shop@x.se", None),
    # L: as K, but the shop address was opted in at the CRM after the unsubscribe: the tick box stands
    ("L", "esp", "leid-l", "2026-01-01 10:00", "l.esp@x.se", None),
    ("L", "crm", "l", "2026-01-01 10:00", "l.shop@x.se", None),
    ("L", "pos", "order:l", "2026-09-10 10:00", "l.shop@x.se", None),
    # O: subscribed; the same address unsubscribed on another customer's record (P)
    ("O", "crm", "o", "2026-01-01 10:00", "shared@x.se", "+46700000001"),
    ("P", "esp", "leid-p", "2026-01-01 10:00", "shared@x.se", None),
    # S: SMS opted in at the CRM, then texted STOP (read as an opt-out: "Stopp tack")
    ("S", "sms", "+46700000002", "2026-01-01 10:00", None, "+46700000002"),
    ("S", "crm", "s", "2026-01-01 10:00", "s@x.se", "+46700000002"),
]
SIGNALS = [
    ("esp", "leid-f", "email", "f@x.se", "granted", "subscribed", "2026-01-01 10:00"),
    ("esp", "leid-f", "email", "f@x.se", "revoked", "unsubscribed", "2099-09-16 08:00"),
    ("esp", "leid-t2", "email", "t.new@x.se", "granted", "subscribed", "2026-02-01 10:00"),
    ("esp", "leid-t1", "email", "t.old@x.se", "granted", "subscribed", "2026-01-01 10:00"),
    ("esp", "leid-t1", "email", "t.old@x.se", "revoked", "unsubscribed", "2026-03-01 10:00"),
    ("esp", "leid-r", "email", "r@x.se", "revoked", "unsubscribed", "2026-02-01 10:00"),
    ("esp", "leid-r", "email", "r@x.se", "granted", "subscribed", "2026-03-01 10:00"),
    ("esp", "leid-k", "email", "k.esp@x.se", "revoked", "unsubscribed", "2026-09-01 10:00"),
    ("pos", "order:k", "email", "k.shop@x.se", "granted", "accepts_marketing", "2026-09-10 10:00"),
    ("esp", "leid-l", "email", "l.esp@x.se", "revoked", "unsubscribed", "2026-09-01 10:00"),
    ("crm", "l", "email", "l.shop@x.se", "granted", "crm_opt_in", "2026-09-05 10:00"),
    ("pos", "order:l", "email", "l.shop@x.se", "granted", "accepts_marketing", "2026-09-10 10:00"),
    ("crm", "o", "email", "shared@x.se", "granted", "crm_opt_in", "2026-01-01 10:00"),
    ("crm", "o", "sms", "+46700000001", "granted", "crm_opt_in", "2026-01-01 10:00"),
    ("esp", "leid-p", "email", "shared@x.se", "revoked", "unsubscribed", "2026-05-01 10:00"),
    ("crm", "s", "sms", "+46700000002", "granted", "crm_opt_in", "2026-01-01 10:00"),
    ("crm", "s", "email", "s@x.se", "granted", "crm_opt_in", "2026-01-01 10:00"),
    ("sms", "+46700000002", "sms", "+46700000002", "revoked", "sms_stop", "2026-06-01 10:00"),
]
# customer -> (email, email_consent, its time, its source, email_contactable, sms_consent, sms_contactable)
EXPECTED = {
    "F": ("f@x.se", "revoked", "2099-09-16 08:00", "esp", False, "unknown", False),
    "T": ("t.new@x.se", "granted", "2026-02-01 10:00", "esp", True, "unknown", False),
    "R": ("r@x.se", "granted", "2026-03-01 10:00", "esp", True, "unknown", False),
    # the shop address is granted by its tick box alone, which does not lift K's earlier unsubscribe
    "K": ("k.shop@x.se", "revoked", "2026-09-01 10:00", "esp", False, "unknown", False),
    "L": ("l.shop@x.se", "granted", "2026-09-10 10:00", "pos", True, "unknown", False),
    "O": ("shared@x.se", "revoked", "2026-05-01 10:00", "esp", False, "granted", True),
    "P": ("shared@x.se", "revoked", "2026-05-01 10:00", "esp", False, "unknown", False),
    "S": ("s@x.se", "granted", "2026-01-01 10:00", "crm", True, "revoked", False),
}


def _world(path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    create_contract_tables(con)
    for customer, source, srid, when, email, phone in RECORDS:
        insert(con, "identity.customer_map", [dict(source=source, source_record_id=srid, customer_id=customer)])
        insert(
            con,
            "staging.identity_records",
            [dict(source=source, source_record_id=srid, record_time=ts(when), email=email, phone=phone)],
        )
    _signals(con, SIGNALS)
    return con


def _signals(con, signals) -> None:
    insert(
        con,
        "staging.consent_events",
        [
            dict(source=s, source_record_id=r, channel=c, identifier=i, state=st, reason=why, event_time=ts(t))
            for s, r, c, i, st, why, t in signals
        ],
    )


def _customers(con) -> dict[str, tuple]:
    return {
        c: (email, consent, at.strftime("%Y-%m-%d %H:%M") if at else None, *rest)
        for c, email, consent, at, *rest in con.execute(
            "SELECT customer_id, email, email_consent, email_consent_at, email_consent_source, email_contactable, "
            "sms_consent, sms_contactable FROM golden.customers ORDER BY customer_id"
        ).fetchall()
    }


def _exportable(con) -> set[tuple[str, str]]:
    """What the export gate lets any destination send (plain identifiers, per channel)."""
    with ConsentedIdentifiers(con, ["email", "phone"]) as allowed:
        email = con.execute(
            f"SELECT value FROM {allowed.table((True, False), ['email'])} WHERE identifier_kind = 'email'"
        )
        emails = {("email", v) for (v,) in email.fetchall()}
        phone = con.execute(
            f"SELECT value FROM {allowed.table((False, True), ['phone'])} WHERE identifier_kind = 'phone'"
        )
        return emails | {("sms", v) for (v,) in phone.fetchall()}


def _readings_agree(con) -> None:
    """Every reading of consent agrees with the ledger: a contactable customer's golden address or number is
    granted there; a customer's consent column is its ledger row's (or revoked by the tick-box rule); and
    nothing the export gate allows has a latest signal that is an opt-out."""
    assert (
        con.execute("""
        SELECT count(*) FROM golden.customers c
        LEFT JOIN golden.identifier_consent le ON le.channel = 'email' AND le.identifier = c.email
        LEFT JOIN golden.identifier_consent lp ON lp.channel = 'sms' AND lp.identifier = c.phone
        WHERE (c.email_contactable AND le.consent IS DISTINCT FROM 'granted')
           OR (c.sms_contactable AND lp.consent IS DISTINCT FROM 'granted')
           OR (c.email_consent <> coalesce(le.consent, 'unknown') AND NOT (c.email_consent = 'revoked' AND le.reason = 'accepts_marketing'))
           OR c.sms_consent <> coalesce(lp.consent, 'unknown')""").fetchall()[0][0]
        == 0
    )
    blocked = set(con.execute("SELECT channel, identifier FROM golden.identifier_consent WHERE blocked").fetchall())
    assert not _exportable(con) & blocked


def test_every_consent_reading_is_the_ledgers(tmp_path):
    con = _world(tmp_path / "w.duckdb")
    build_golden(con, AS_OF, tz="UTC")
    assert _customers(con) == EXPECTED
    _readings_agree(con)
    # the export gate sends exactly the contactable customers' granted addresses and numbers
    assert _exportable(con) == {
        ("email", "t.new@x.se"),
        ("email", "r@x.se"),
        ("email", "s@x.se"),
        ("email", "l.shop@x.se"),
        ("sms", "+46700000001"),
    }


@pytest.mark.parametrize("whole", [False, True])
def test_a_later_night_reads_the_ledger_as_a_whole_build_does(tmp_path, monkeypatch, whole):
    monkeypatch.setattr(incremental, "MAX_AFFECTED_SHARE", 1.0)
    con = _world(tmp_path / "w.duckdb")
    build_golden(con, AS_OF, tz="UTC")
    # the next night: an unsubscribe of T's new address dated next year (on T's own record), O's number
    # STOPped on P's record, and K subscribes the shop address explicitly (lifting the tick-box rule)
    _signals(
        con,
        [
            ("esp", "leid-t2", "email", "t.new@x.se", "revoked", "unsubscribed", "2027-09-21 09:00"),
            ("esp", "leid-p", "sms", "+46700000001", "revoked", "sms_stop", "2026-09-21 09:00"),
            ("pos", "order:k", "email", "k.shop@x.se", "granted", "subscribed", "2026-09-21 11:00"),
        ],
    )
    night = build_golden(con, date(2026, 9, 21), tz="UTC", full_refresh=whole)
    assert night.mode == ("full" if whole else "incremental")
    got = _customers(con)
    assert got["T"] == ("t.new@x.se", "revoked", "2027-09-21 09:00", "esp", False, "unknown", False)
    assert got["O"][5:] == ("revoked", False)
    assert got["K"] == ("k.shop@x.se", "granted", "2026-09-21 11:00", "pos", True, "unknown", False)
    _readings_agree(con)
    assert _exportable(con) == {
        ("email", "r@x.se"),
        ("email", "s@x.se"),
        ("email", "k.shop@x.se"),
        ("email", "l.shop@x.se"),
    }
