"""Identity hard cases in the sample (`cdp sample --hard-cases`, generate_sample(hard_cases=True)):
each case type is generated with the properties that make it hard, and labelled in the truth's
companion file, which only a sample with hard cases has."""

import csv
import hashlib
import json
import random
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from cdp_pipeline.lib.sample_data import generate_sample
from cdp_pipeline.lib.sample_data.generate import build_records, cases_path
from cdp_pipeline.lib.sample_data.hardcases import CASE_TYPES, case_rows
from cdp_pipeline.lib.sample_data.output import Output
from cdp_pipeline.lib.sample_data.variation import (
    DOMAIN_TYPOS,
    HARD_CASE_NICKNAMES,
    NICKNAMES,
    double_name_short,
    email_typo,
    match_key,
    nicknames,
)

SEED, CUSTOMERS, DAYS, START = 1, 600, 5, date(2026, 10, 1)


@pytest.fixture(scope="module")
def built():
    out = Output(Path("/nonexistent"), SEED, hard_cases=True)
    b = build_records(out, customers=CUSTOMERS, days=DAYS, seed=SEED, start_date=START)
    people = {p.person_id: p for p in b["people"]}
    kept = defaultdict(list)
    for rec in b["records"]:
        if not rec.dropped:
            kept[rec.person.person_id].append(rec)
    cases = case_rows(b["people"], b["records"])
    by_type = defaultdict(list)
    for person_id, case_type, group in cases:
        by_type[case_type].append((people[person_id], group))
    return {"people": people, "kept": kept, "cases": cases, "by_type": by_type}


def _groups(built, case_type):
    groups = defaultdict(list)
    for person, group in built["by_type"][case_type]:
        groups[group].append(person)
    return groups


def test_every_case_type_appears(built):
    assert set(built["by_type"]) == set(CASE_TYPES)
    for case_type, rows in built["by_type"].items():
        assert 0 < len(rows) <= CUSTOMERS * 0.05, case_type  # a small share of people each


def test_twins_share_surname_birth_date_and_address_not_first_name(built):
    groups = _groups(built, "twins")
    assert groups
    alike_in_crm = 0
    for group, (a, b) in groups.items():
        assert group.startswith("twins:")
        assert a.last_name == b.last_name and a.birth_date == b.birth_date
        assert (a.street, a.postcode, a.city) == (b.street, b.postcode, b.city)
        assert match_key(a.first_name) != match_key(b.first_name)
        assert a.email != b.email
        crm = [[r for r in built["kept"][t.person_id] if r.kind == "crm"] for t in (a, b)]
        assert crm[0] and crm[1]  # the CRM carries surname, birth date and address: the risk is real
        alike_in_crm += any(
            x.last == y.last
            and x.birth_date == y.birth_date
            and x.birth_date
            and x.street == y.street
            and match_key(x.first) != match_key(y.first)
            for x in crm[0]
            for y in crm[1]
        )
    assert alike_in_crm


def test_same_name_parent_and_child(built):
    groups = _groups(built, "parent_child")
    assert groups
    parent_orders = 0
    for _, pair in groups.items():
        parent, child = sorted(pair, key=lambda p: p.birth_date)
        assert (parent.first_name, parent.last_name) == (child.first_name, child.last_name)
        assert (parent.street, parent.postcode) == (child.street, child.postcode)
        assert (child.birth_date - parent.birth_date).days > 18 * 365.25
        assert parent.email != child.email
        assert parent.phone != child.phone or parent.phone is None
        orders = [r for r in built["kept"][parent.person_id] if r.kind == "order"]
        assert all(r.birth_date is None for r in orders)
        parent_orders += len(orders)
    assert parent_orders


def test_households_share_a_family_inbox_or_landline_on_their_records(built):
    groups = _groups(built, "household")
    assert groups
    nameless_family_subscription = False
    for _, members in groups.items():
        shared = {v for m in members for v in (m.shared_email, m.shared_phone) if v}
        assert shared and all(
            {m.shared_email, m.shared_phone} == {members[0].shared_email, members[0].shared_phone} for m in members
        )
        on_records = [
            r
            for m in members
            for r in built["kept"][m.person_id]
            if r.email in shared and r.email_flag == "shared" or r.phone in shared and r.phone_flag == "shared"
        ]
        assert on_records
        nameless_family_subscription |= any(r.kind == "esp" and r.first is None and r.last is None for r in on_records)
    assert nameless_family_subscription
    # the designed family-inbox households: one email on several people's records
    several = [
        g
        for g, members in groups.items()
        if len({m.person_id for m in members for r in built["kept"][m.person_id] if r.email_flag == "shared"}) >= 2
    ]
    assert several


def test_nicknames_on_some_records_with_identifiers_agreeing(built):
    people = built["by_type"]["nickname"]
    assert people
    designed = 0
    for person, _ in people:
        records = built["kept"][person.person_id]
        short = [r for r in records if r.data.get("name_kind") == "nickname"]
        assert short and all(r.first in nicknames(person.first_name) for r in short)
        assert all(
            r.email in (None, person.email, person.alt_email, person.shared_email) or r.email_flag == "junk"
            for r in short
        )
        designed += person.nickname is not None
    assert designed


def test_swapped_billing_names(built):
    people = built["by_type"]["swapped_name"]
    assert people
    orders = 0
    for person, _ in people:
        swapped = [r for r in built["kept"][person.person_id] if r.data.get("name_kind") == "swapped"]
        assert swapped and all((r.first, r.last) == (person.last_name, person.first_name) for r in swapped)
        orders += sum(r.kind == "order" for r in swapped)
    assert orders  # "Berglund Mikael" as the billing name


def test_double_names_and_their_short_forms(built):
    people = built["by_type"]["double_name"]
    assert people
    for person, _ in people:
        assert re.search(r"[- ]", person.first_name)
        parts = re.split(r"[- ]", person.first_name)
        forms = {r.first for r in built["kept"][person.person_id] if r.data.get("name_kind") == "double_short"}
        allowed = {parts[0], " ".join(parts), "-".join(parts), "-".join(p[0] for p in parts)}
        assert forms and forms <= allowed - {person.first_name}


def test_married_name_change_keeps_email_or_phone_and_birth_date(built):
    people = built["by_type"]["married_name"]
    assert people
    for person, _ in people:
        records = built["kept"][person.person_id]
        crm = [r for r in records if r.kind == "crm"]
        later = [r for r in records if r.kind != "crm" and r.last]
        assert person.former_last_name and person.former_last_name != person.last_name
        assert all(
            r.last in (person.former_last_name, person.former_last_name.upper(), person.first_name)
            or r.data["name_kind"] == "typo"
            for r in crm
        )
        assert any(r.last in (person.last_name, person.last_name.lower()) for r in later)
        assert all(r.birth_date in (None, person.birth_date) for r in records)
        assert any(r.birth_date == person.birth_date for r in later if r.kind == "esp") or not any(
            r.kind == "esp" for r in later
        )


def test_moves_show_both_addresses(built):
    people = built["by_type"]["moved"]
    assert people
    for person, _ in people:
        streets = {r.street for r in built["kept"][person.person_id]}
        assert person.old_address[0] in streets and person.street in streets


def test_email_typo_on_one_record(built):
    people = built["by_type"]["email_typo"]
    assert people
    for person, _ in people:
        typoed = [r for r in built["kept"][person.person_id] if r.email == person.email_typo]
        assert len(typoed) == 1 and typoed[0].kind == "order"
        assert person.email_typo != person.email


def test_missing_birth_dates(built):
    people = built["by_type"]["missing_birth_date"]
    assert people
    for person, _ in people:
        records = built["kept"][person.person_id]
        assert len(records) >= 2 and all(r.birth_date is None for r in records)


@pytest.mark.parametrize("seed", range(40))
def test_email_typo_is_a_different_well_formed_address(seed):
    rng = random.Random(seed)
    for email in ("anna.berg@gmail.com", "p.holm@kth.se", "bo@telia.com", "a.b.c@spray.se", "lars_o@web.de"):
        typo = email_typo(rng, email)
        local, _, domain = typo.partition("@")
        assert typo != email
        assert re.fullmatch(r"[a-z0-9_]+([.][a-z0-9_]+)*", local), typo
        assert (
            domain == email.partition("@")[2]
            or domain in DOMAIN_TYPOS.get(email.partition("@")[2], ())
            or domain == email.partition("@")[2][0] + email.partition("@")[2]
        )


def test_double_name_short_forms():
    forms = {double_name_short(random.Random(seed), "Per-Olof") for seed in range(30)}
    assert forms == {"Per", "Per Olof", "P-O"}
    forms = {double_name_short(random.Random(seed), "Karl Johan") for seed in range(30)}
    assert forms == {"Karl", "Karl-Johan"}


def test_companion_file_beside_the_truth(tmp_path):
    truth = tmp_path / "truth" / "truth.csv"
    summary = generate_sample(
        tmp_path / "landing", customers=CUSTOMERS, days=DAYS, seed=SEED, truth_file=truth, hard_cases=True
    )
    companion = cases_path(truth)
    assert companion == tmp_path / "truth" / "truth_cases.csv" and summary["cases_file"] == str(companion)
    lines = companion.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "person_id,case_type,case_group"
    rows = list(csv.DictReader(lines))
    keys = [(r["person_id"], r["case_type"]) for r in rows]
    assert keys == sorted(set(keys))
    with truth.open(encoding="utf-8") as handle:
        persons = {r["person_id"] for r in csv.DictReader(handle)}
    assert {r["person_id"] for r in rows} <= persons
    assert {r["case_type"] for r in rows} == set(CASE_TYPES)
    assert all(bool(r["case_group"]) == (r["case_type"] in ("twins", "parent_child", "household")) for r in rows)
    assert summary["hard_cases"] == {t: sum(r["case_type"] == t for r in rows) for t in CASE_TYPES}


def test_companion_only_with_hard_cases(tmp_path):
    truth = tmp_path / "truth" / "truth.csv"
    summary = generate_sample(tmp_path / "landing", customers=60, days=2, seed=SEED, truth_file=truth)
    assert not cases_path(truth).exists()
    assert "cases_file" not in summary and "hard_cases" not in summary
    assert "hard_cases" not in json.loads((truth.parent / "manifest.json").read_text(encoding="utf-8"))
    # An earlier sample's companion beside the truth would be scored against people it never named.
    generate_sample(tmp_path / "landing2", customers=60, days=2, seed=SEED, truth_file=truth, hard_cases=True)
    assert cases_path(truth).exists()
    generate_sample(tmp_path / "landing3", customers=60, days=2, seed=SEED, truth_file=truth)
    assert not cases_path(truth).exists()


def test_no_hard_cases_without_the_option():
    b = build_records(Output(Path("/nonexistent"), SEED), customers=CUSTOMERS, days=DAYS, seed=SEED, start_date=START)
    assert not any(p.hard_case or p.family_inbox or p.nickname for p in b["people"])
    # The ordinary variation keeps its short-form table: no record shortens a name only the
    # hard cases' table knows (Maria → Mia, Therese → Tessan, ...).
    extra = {form for forms in HARD_CASE_NICKNAMES.values() for form in forms} - {
        form for forms in NICKNAMES.values() for form in forms
    }
    assert not any(r.first in extra and r.first != r.person.first_name for r in b["records"])


def test_known_answers_with_hard_cases(tmp_path):
    truth = tmp_path / "truth" / "truth.csv"
    summary = generate_sample(tmp_path / "landing", customers=200, days=5, seed=42, truth_file=truth, hard_cases=True)
    with truth.open(encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    assert (summary["identity_records"], summary["files"]) == (485, 72)
    assert first == {"source": "crm", "source_record_id": "100941", "person_id": "P0000140"}
    # Every byte, companion included, as the generator writes them since columns.py; change only on purpose.
    digest = hashlib.sha256()
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        digest.update(
            path.relative_to(tmp_path).as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest()
        )
    assert digest.hexdigest() == "a4b96a1903f4dafa50cb1e5d37126a5eb1952b8bdca20e66b3238d42c9b6d0ab"


def test_cdp_sample_hard_cases_option(cdp_env, tmp_path, capsys):
    from cdp_pipeline import cli

    args = ["sample", "--customers", "80", "--days", "2", "--seed", "3", "--out", str(tmp_path / "landing")]
    truth = tmp_path / "truth" / "truth.csv"
    assert cli.main([*args, "--truth", str(truth), "--hard-cases"]) == 0
    assert cases_path(truth).is_file() and "hard_case_persons" in capsys.readouterr().out
    truth_plain = tmp_path / "plain" / "truth.csv"
    plain_args = [*args[:-1], str(tmp_path / "landing_plain"), "--truth", str(truth_plain)]
    assert cli.main(plain_args) == 0
    assert truth_plain.is_file() and not cases_path(truth_plain).exists()
