"""Consent precedence: latest signal wins, but a protected opt-out only yields to a later explicit signal."""

import random
from datetime import date, datetime

import duckdb
import pytest

from cdp_pipeline.lib.golden.build import build_golden
from cdp_pipeline.lib.golden.consent import CONSENT_STRENGTH, EXPLICIT, IMPLIED, PROTECTED
from cdp_pipeline_tests.lib.golden.conftest import golden_row
from cdp_pipeline_tests.lib.golden.world import create_contract_tables, insert

SOURCE_OF = {
    "subscribed": "esp",
    "unsubscribed": "esp",
    "cleaned": "esp",
    "accepts_marketing": "pos",
    "crm_opt_in": "crm",
    "crm_opt_out": "crm",
    "sms_stop": "sms",
    "sms_start": "sms",
    "klaviyo_consent": "esp",
    "klaviyo_unsubscribed": "esp",
}
STATE_OF = {
    "subscribed": "granted",
    "unsubscribed": "revoked",
    "cleaned": "revoked",
    "accepts_marketing": None,
    "crm_opt_in": "granted",
    "crm_opt_out": "revoked",
    "sms_stop": "revoked",
    "sms_start": "granted",
}


def consent_after(signals: list[tuple], channel: str = "email", as_of: date = date(2025, 2, 1)) -> tuple:
    """signals: (day of January, reason[, state]) -> (state, day, source) of the customer's consent."""
    con = duckdb.connect()
    create_contract_tables(con)
    insert(
        con,
        "staging.identity_records",
        [dict(source="crm", source_record_id="1", email="a@x.se", phone="+46701234567")],
    )
    sources = {("crm", "1")}
    for day, reason, *state in signals:
        source = SOURCE_OF[reason]
        srid = f"{source}-{day}"
        if (source, srid) not in sources:
            sources.add((source, srid))
            insert(con, "staging.identity_records", [dict(source=source, source_record_id=srid)])
        insert(
            con,
            "staging.consent_events",
            [
                dict(
                    source=source,
                    source_record_id=srid,
                    channel=channel,
                    # the customer's golden address or number: their consent is its ledger row
                    identifier="a@x.se" if channel == "email" else "+46701234567",
                    state=state[0] if state else STATE_OF[reason],
                    reason=reason,
                    event_time=datetime(2025, 1, day, 12, 0),
                )
            ],
        )
    insert(con, "identity.customer_map", [dict(source=s, source_record_id=r, customer_id="C") for s, r in sources])
    build_golden(con, as_of, tz="UTC")
    row = golden_row(con, "C")
    at = row[f"{channel}_consent_at"]
    return (
        row[f"{channel}_consent"],
        at.day if at else None,
        row[f"{channel}_consent_source"],
        row[f"{channel}_contactable"],
    )


def test_strengths_are_documented_tiers():
    assert {r for r, s in CONSENT_STRENGTH.items() if s == PROTECTED} == {
        "unsubscribed",
        "cleaned",
        "sms_stop",
        "bounce",
        "klaviyo_unsubscribed",
        "klaviyo_suppressed",
        "klaviyo_suppression",
        "crm_unsubscribed",
    }
    assert CONSENT_STRENGTH["nonsubscribed"] == EXPLICIT
    assert {r for r, s in CONSENT_STRENGTH.items() if s == IMPLIED} == {"accepts_marketing"}
    assert CONSENT_STRENGTH["subscribed"] == CONSENT_STRENGTH["sms_start"] == CONSENT_STRENGTH["crm_opt_in"] == EXPLICIT


@pytest.mark.parametrize(
    "signals, expected",
    [
        ([], ("unknown", None, None)),
        ([(1, "subscribed")], ("granted", 1, "esp")),
        ([(1, "accepts_marketing", "granted")], ("granted", 1, "pos")),
        # Latest wins between ordinary signals.
        ([(1, "subscribed"), (5, "crm_opt_out")], ("revoked", 5, "crm")),
        ([(1, "crm_opt_out"), (5, "accepts_marketing", "granted")], ("granted", 5, "pos")),
        # A later implied grant does not re-grant an unsubscribed or cleaned address ...
        ([(1, "subscribed"), (3, "unsubscribed"), (7, "accepts_marketing", "granted")], ("revoked", 3, "esp")),
        (
            [
                (1, "klaviyo_consent", "granted"),
                (3, "klaviyo_unsubscribed", "revoked"),
                (7, "accepts_marketing", "granted"),
            ],
            ("revoked", 3, "esp"),
        ),
        (
            [(3, "cleaned"), (7, "accepts_marketing", "granted"), (9, "accepts_marketing", "granted")],
            ("revoked", 3, "esp"),
        ),
        # ... but a later explicit subscribe or CRM opt-in does, and implied grants count again after it.
        ([(3, "unsubscribed"), (5, "subscribed")], ("granted", 5, "esp")),
        ([(3, "cleaned"), (5, "crm_opt_in"), (7, "accepts_marketing", "granted")], ("granted", 7, "pos")),
        # An older signal never overrides: order of arrival does not matter, time does.
        ([(9, "unsubscribed"), (2, "subscribed"), (4, "accepts_marketing", "granted")], ("revoked", 9, "esp")),
        # An implied revocation is still the latest word.
        ([(1, "subscribed"), (4, "accepts_marketing", "revoked")], ("revoked", 4, "pos")),
        # An implied grant ignored after an opt-out leaves the latest signal not ignored, an implied revocation too.
        (
            [(3, "unsubscribed"), (5, "accepts_marketing", "revoked"), (7, "accepts_marketing", "granted")],
            ("revoked", 5, "pos"),
        ),
        # Only the latest explicit signal before an implied grant decides: an opt-out before an opt-in does not.
        ([(2, "unsubscribed"), (4, "crm_opt_in"), (6, "accepts_marketing", "granted")], ("granted", 6, "pos")),
        ([(2, "crm_opt_in"), (4, "unsubscribed"), (6, "accepts_marketing", "granted")], ("revoked", 4, "esp")),
    ],
)
def test_email_precedence(signals, expected):
    assert consent_after(signals)[:3] == expected


def test_sms_stop_yields_only_to_a_later_start():
    assert consent_after([(1, "crm_opt_in"), (2, "sms_stop")], "sms")[:3] == ("revoked", 2, "sms")
    assert consent_after([(2, "sms_stop"), (3, "accepts_marketing", "granted")], "sms")[:3] == ("revoked", 2, "sms")
    assert consent_after([(2, "sms_stop"), (4, "sms_start")], "sms") == ("granted", 4, "sms", True)


def test_a_tie_on_time_goes_to_the_opt_out():
    assert consent_after([(5, "subscribed"), (5, "unsubscribed")])[:2] == ("revoked", 5)


def test_grants_after_the_as_of_day_are_ignored_and_opt_outs_after_it_count():
    # The customer's columns read the ledger, which counts an opt-out dated after the cutoff at the cutoff
    # (its own time shown) and a grant only once the cutoff passes its time.
    assert consent_after([(1, "subscribed"), (20, "unsubscribed")], as_of=date(2025, 1, 10)) == (
        "revoked",
        20,
        "esp",
        False,
    )
    assert consent_after([(1, "subscribed"), (20, "crm_opt_in")], as_of=date(2025, 1, 10)) == (
        "granted",
        1,
        "esp",
        True,
    )
    assert consent_after([(1, "crm_opt_out"), (20, "subscribed")], as_of=date(2025, 1, 10)) == (
        "revoked",
        1,
        "crm",
        False,
    )


def test_contactable_needs_consent_and_a_good_address(world):
    rows = dict(
        world.execute("SELECT customer_id, [email_contactable, sms_contactable] FROM golden.customers").fetchall()
    )
    # C1: email revoked, SMS re-granted by START. C2: implied email grant, junk phone. C3: cleaned then CRM opt-in,
    # then a CRM opt-out dated after the cutoff: it counts at the cutoff, so the address is blocked tonight.
    assert rows == {"C1": [False, True], "C2": [True, False], "C3": [False, False], "C4": [False, False]}


def test_world_consent_provenance(world):
    c1, c3 = golden_row(world, "C1"), golden_row(world, "C3")
    assert (c1["email_consent"], c1["email_consent_source"], c1["email_consent_at"]) == (
        "revoked",
        "esp",
        datetime(2025, 1, 4, 10),
    )
    assert (c1["sms_consent"], c1["sms_consent_source"]) == ("granted", "sms")
    # C3's CRM opt-out on 2025-01-11 is after the as-of day: it counts at the cutoff, shown at its own time.
    assert (c3["email_consent"], c3["email_consent_source"], c3["email_consent_at"]) == (
        "revoked",
        "crm",
        datetime(2025, 1, 11, 10),
    )
    assert golden_row(world, "C4")["email_consent"] == "unknown"


def _settled(signals: list[tuple]) -> tuple | None:
    """The rule, one signal at a time: (time, state, strength, source, source_record_id) -> the winner's
    (state, time, source). An implied grant is ignored when the latest explicit signal before it, by
    (time, revocation, strength), is a protected opt-out; the latest signal not ignored wins."""

    def k3(s):
        return (s[0], s[1] == "revoked", s[2])

    kept = []
    for s in signals:
        if s[1] == "granted" and s[2] < EXPLICIT:
            before = [e for e in signals if e[2] >= EXPLICIT and k3(e) < k3(s)]
            latest = max(before, key=k3, default=None)
            if latest is not None and latest[1] == "revoked" and latest[2] >= PROTECTED:
                continue
        kept.append(s)
    if not kept:
        return None
    w = max(kept, key=lambda s: (*k3(s), s[3], s[4]))
    return (w[1], w[0], w[3])


def test_many_random_signal_histories_settle_as_the_rule_says():
    """Random histories (ties on time included), one customer each, against the rule applied signal by signal."""
    rng = random.Random(7)
    con = duckdb.connect()
    create_contract_tables(con)
    reasons = list(STATE_OF)  # accepts_marketing either way
    expected, events, mapped = {}, [], {}
    for n in range(300):
        customer, history = f"C{n:03d}", []
        for _ in range(rng.randint(1, 7)):
            reason = rng.choice(reasons)
            state = STATE_OF.get(reason) or rng.choice(["granted", "revoked"])
            source, srid = SOURCE_OF[reason], f"{customer}-{rng.randint(0, 2)}"
            at = datetime(2025, 1, rng.randint(1, 4), rng.choice([9, 12]))
            history.append((at, state, CONSENT_STRENGTH.get(reason, EXPLICIT), source, srid))
            events.append(
                dict(
                    source=source,
                    source_record_id=srid,
                    channel="email",
                    identifier=f"{customer}@x.se",
                    state=state,
                    reason=reason,
                    event_time=at,
                )
            )
            mapped[(source, srid)] = customer
        expected[customer] = _settled(history)
    # each customer's records carry their address: the customer's consent is its ledger row
    insert(
        con,
        "staging.identity_records",
        [dict(source=s, source_record_id=r, email=f"{c}@x.se") for (s, r), c in mapped.items()],
    )
    insert(con, "staging.consent_events", events)
    insert(
        con,
        "identity.customer_map",
        [dict(source=s, source_record_id=r, customer_id=c) for (s, r), c in mapped.items()],
    )
    build_golden(con, date(2025, 2, 1), tz="UTC")
    got = {
        c: (s, t, src) if s != "unknown" else None
        for c, s, t, src in con.execute(
            "SELECT customer_id, email_consent, email_consent_at, email_consent_source FROM golden.customers"
        ).fetchall()
    }
    assert got == expected
    assert {v[0] for v in expected.values() if v} == {"granted", "revoked"}
