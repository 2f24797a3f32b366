"""Issue 14: two people whose first names are two known names one edit apart (Ali / Alin, Said /
Zaid), twins or brothers at one address (fixtures/identity_near_names/, README
there; the world-names set's false customers, benchmarks/results/2026-12-07-s44-ident-world.md).

The model grades such names "typo" (+7 to +8 bits), which beside a surname, an address and a birth
date or a family inbox made one customer of two people. Each case is put among the hard-case
fixture and the synthetic background (as ``test_parent_child_twins_risks`` does) and resolved by
the real ``resolve_identities`` once. Known answers: each twin, and each brother, is one customer
of his own, also brothers who share only the family inbox and the family landline beside their
own mobiles or none; one person whose name was mistyped into another known name ("eLon" beside
Leon) on one mailbox that spells no name is one customer. Two known names one typo apart are two
names to the household cannot-link when neither mailbox spells the other's name and their
contacts say two people: a phone each, or no e-mail in common and no phone in common but a fixed
line, or a mailbox each and one record without a phone (``stitching.two_known_names_sql``); and
to the two-names-one-household level (``splink_model.TWO_REAL_NAMES``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cdp_pipeline_tests.lib.identity import test_hard_cases
from cdp_pipeline_tests.lib.identity.fixture_resolution import resolve_cases

FIXTURE = Path(__file__).parents[2] / "fixtures" / "identity_near_names" / "records.csv"
TWINS = ("HC-NEAR-A", "HC-NEAR-B")
# brothers at one address (Said / Zaid on a family inbox beside their own mobiles; Yasin / Yasir on
# the family inbox, Yasin with the family landline or no phone; Ali / Alin on the family landline)
BROTHERS = ("HC-NEAR-C", "HC-NEAR-D", "HC-NEAR-E", "HC-NEAR-F", "HC-NEAR-G", "HC-NEAR-H")


def near_name_records() -> list[dict]:
    """The fixture's rows as staged identity records, read as ``test_hard_cases`` reads its own."""
    return test_hard_cases.hard_case_records(FIXTURE)


def _resolve(con) -> dict:
    """Per fixture person: how many customers hold its records, and the persons in them; and per
    fixture record (source, record id): the persons in its customer."""
    from cdp_pipeline.lib.identity.config import PACKAGED_CONFIG_PATH, load_identity_config

    config = load_identity_config(PACKAGED_CONFIG_PATH, match_threshold=0.99).with_splink(
        u_max_pairs=5e4, em_max_pairs=None
    )
    per_person, per_record = resolve_cases(con, near_name_records(), config)
    return per_person | per_record


@pytest.fixture(scope="module")
def resolved():
    """One resolve for the module's known answers (a resolve of this population takes seconds)."""
    con = duckdb.connect(":memory:")
    try:
        yield _resolve(con)
    finally:
        con.close()


@pytest.mark.parametrize("person", TWINS)
def test_each_twin_is_one_customer_of_their_own(resolved, person):
    assert resolved[person] == (1, {person})


@pytest.mark.parametrize("person", BROTHERS)
def test_each_brother_is_one_customer_of_his_own(resolved, person):
    # Said's second account on the family inbox carries his mobile, Zaid's records there his own
    # (a phone each); Yasin's account carries the family landline beside the inbox, his order no
    # phone, Yasir's order his mobile; Ali's order and Alin's account share only the landline
    # (and Alin's account no e-mail), Alin's order his mobile beside the inbox
    assert resolved[person] == (1, {person})


def test_a_name_mistyped_into_another_on_one_mailbox_is_one_person(resolved):
    # "eLon" (a known name) and Leon on ldymarczyk@ (no name spelled), one birth date, one of the
    # two with a phone: nothing says two people (a mailbox each, or a phone each, would)
    assert resolved["HC-NEAR-I"] == (1, {"HC-NEAR-I"})


def test_without_the_rule_the_near_names_merge(monkeypatch):
    """Proves the tests above test the rule: with two known names one typo apart read as one name
    (the grade "typo", as before), Ali and Alin, Said and Zaid are merged."""
    from cdp_pipeline.lib.identity import splink_model, stitching

    monkeypatch.setattr(splink_model, "TWO_REAL_NAMES", "false")
    monkeypatch.setattr(stitching, "TWO_REAL_NAMES", "false")
    con = duckdb.connect(":memory:")
    try:
        resolved = _resolve(con)
    finally:
        con.close()
    assert resolved["HC-NEAR-A"][1] == {"HC-NEAR-A", "HC-NEAR-B"}
    assert resolved[("crm", "HC-NEAR-C")] == {"HC-NEAR-C", "HC-NEAR-D"}
    assert resolved["HC-NEAR-F"][1] == {"HC-NEAR-E", "HC-NEAR-F"}
    assert resolved["HC-NEAR-G"][1] == {"HC-NEAR-G", "HC-NEAR-H"}
