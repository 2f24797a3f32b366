"""benchmarks/nordic_multisource.py, the independent labelled Nordic set: its phone forms, its
determinism, a truth that names the records the landing files hold, the hard cases as built, and
file headers the ingest reads as the intended kinds (no identity column left in ``_extra``).
Nothing here runs the pipeline."""

import csv
import gzip
import importlib.util
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

import phonenumbers
import pytest

from cdp_pipeline.lib.raw.file_kinds import (
    CRM_CUSTOMERS,
    ESP_MEMBERS,
    POS_ORDERS,
    POS_RECEIPTS,
    SMS_MESSAGES_CSV,
    classify_csv,
    normalise_header,
)

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
_spec = importlib.util.spec_from_file_location("_bench_nordic", BENCHMARKS / "nordic_multisource.py")
nordic = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = nordic
_spec.loader.exec_module(nordic)


@pytest.mark.parametrize(
    ("country", "nsn", "landline"),
    [("SE", "701234567", False), ("SE", "81234567", True), ("NO", "41234567", False), ("DK", "21234567", False)]
    + [("FI", "401234567", False)],
)
def test_every_written_form_of_a_number_is_that_number(country, nsn, landline):
    rng = random.Random(1)
    forms = {nordic.phone_written(rng, country, nsn, landline) for _ in range(300)}
    assert len(forms) >= 3
    want = nordic.e164(country, nsn)
    for form in forms:
        if form in (nsn, "46" + nsn) and country == "SE":
            continue  # the spreadsheet forms: read by the pipeline's own rules, not phonenumbers'
        parsed = phonenumbers.parse(form, country)
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == want, form


def test_known_forms():
    assert nordic.e164("FI", "401234567") == "+358401234567"
    assert nordic.national("SE", "701234567") == "0701234567"
    assert nordic.national("NO", "41234567") == "41234567"
    assert nordic.fold("Sjöström-Ærø") == "Sjostrom-Aero"
    assert nordic.birth_typo(random.Random(3), nordic.dt.date(1916, 10, 27)) != nordic.dt.date(1916, 10, 27)


def _build(tmp_path: Path, name: str, seed: int = 5, names: str = "nordic"):
    info = nordic.build(
        tmp_path / name / "landing", tmp_path / name / "truth" / "truth.csv", seed=seed, persons=400, names=names
    )
    return info, tmp_path / name


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    _, a = _build(tmp_path, "a")
    _, b = _build(tmp_path, "b")
    _, c = _build(tmp_path, "c", seed=6)
    assert _files(a) == _files(b)
    assert _files(a) != _files(c)


def _csv(path: Path, encoding="utf-8-sig", delimiter=","):
    with open(path, encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def test_world_names_same_seed_same_bytes_and_not_the_nordic_set(tmp_path):
    _, a = _build(tmp_path, "a", names="world")
    _, b = _build(tmp_path, "b", names="world")
    _, c = _build(tmp_path, "c")
    assert _files(a) == _files(b)
    assert _files(a / "landing") != _files(c / "landing")
    with pytest.raises(ValueError):
        nordic.Builder(5, 400, "klingon")


def test_world_names_hard_cases_as_built(tmp_path):
    b = nordic.Builder(5, 600, "world")
    b.make_people()
    groups = defaultdict(list)
    for p in b.people:
        for case, group in p.cases:
            groups[(case, group or p.pid)].append(p)
    twins = [tuple(m.first for m in g) for (case, _), g in groups.items() if case == "twins"]
    assert len(twins) == 20 and set(twins) == {(a, b_) for a, _, b_, _ in nordic.WORLD_TWIN_NAMES}
    households = [[m.first for m in g] for (case, _), g in groups.items() if case == "household"]
    # the son or brother one edit or so from the man's name (Umair beside Omar) in most households of three
    near = [h for h in households if len(h) == 3 and (h[0], h[1], h[2]) in set(nordic.WORLD_HOUSEHOLDS)]
    assert len(near) >= len([h for h in households if len(h) == 3]) / 2 > 0
    translit = [g[0] for (case, _), g in groups.items() if case == "transliteration"]
    assert len(translit) == 70 and {p.first for p in translit} <= set(nordic.TRANSLITERATIONS)
    assert not [g for (case, _), g in groups.items() if case == "nickname"]
    # most people's names are from other cultures' tables, not the four Nordic ones
    nordic_firsts = set()
    for f in b.fakers.values():
        nordic_firsts |= set(f.provider("faker.providers.person").first_names)
    plain = [p for p in b.people if not p.cases]
    assert sum(p.first not in nordic_firsts for p in plain) > 0.6 * len(plain)
    b.make_records()
    # a transliteration person's CRM record has the name, some ESP member of theirs another spelling
    person_of = {(t[0], t[1]): t[2] for t in b.truth}
    ids = {p.pid for p in translit}
    forms = {n for p in translit for n in nordic.TRANSLITERATIONS[p.first]}
    esp_names = [r["First Name"].strip() for rs in b.esp.values() for r in rs if person_of[("esp", r["LEID"])] in ids]
    assert sum(n in forms for n in esp_names) >= len(esp_names) / 3 > 0


@pytest.mark.parametrize("names", nordic.NAME_PROFILES)
def test_the_truth_names_exactly_the_identity_records_the_files_hold(tmp_path, names):
    info, root = _build(tmp_path, "t", names=names)
    land = root / "landing"
    truth = _csv(root / "truth" / "truth.csv")
    keys = defaultdict(set)
    for t in truth:
        keys[t["source"]].add(t["source_record_id"])
    assert sum(len(v) for v in keys.values()) == len(truth) == info["records"]  # no key twice
    assert keys["crm"] == {r["customer_id"] for f in land.glob("crm/*/*.csv") for r in _csv(f, delimiter=";")}
    assert keys["esp"] == {r["LEID"] for f in land.glob("esp/*/*.csv") for r in _csv(f)}
    orders = {"order:" + r["Name"] for f in land.glob("pos/*/orders_export_*.csv") for r in _csv(f)}
    receipts = {
        f"receipt:{r['store_id']}:{r['receipt_id']}"
        for f in land.glob("pos/*/kassa_*.csv")
        for r in _csv(f, encoding="cp1252", delimiter=";")
    }
    assert keys["pos"] == orders | receipts
    numbers = set()
    for f in land.glob("sms/*/*.csv"):
        numbers |= {r["To"] if r["Direction"] != "inbound" else r["From"] for r in _csv(f)}
    for f in land.glob("sms/*/*.json.gz"):
        for line in gzip.decompress(f.read_bytes()).decode().splitlines():
            m = json.loads(line)
            numbers.add(m["to"] if m["direction"] != "inbound" else m["from"])
    assert keys["sms"] == numbers


def test_twins_and_parent_child_are_two_people_who_share_what_they_should(tmp_path):
    b = nordic.Builder(5, 400)
    b.make_people()
    groups = defaultdict(list)
    for p in b.people:
        for case, group in p.cases:
            if group:
                groups[(case, group)].append(p)
    twins = [g for (case, _), g in groups.items() if case == "twins"]
    pc = [g for (case, _), g in groups.items() if case == "parent_child"]
    assert len(twins) == 20 and len(pc) == 20
    for a, c in twins:
        assert (a.last, a.birth, a.street) == (c.last, c.birth, c.street) and a.first != c.first
        assert a.email != c.email and a.mobile != c.mobile
    for par, kid in pc:
        assert (par.first, par.last) == (kid.first, kid.last)
        assert (kid.birth - par.birth).days >= 22 * 365 and par.email != kid.email


def test_headers_are_read_as_the_intended_file_kinds():
    keys = lambda header: {normalise_header(h) for h in header}  # noqa: E731
    assert classify_csv("crm", "kundregister_20261001.csv", keys(nordic.CRM_HEADER)) is CRM_CUSTOMERS
    esp = "unsubscribed_email_audience_export_x.csv"
    assert classify_csv("esp", esp, keys(nordic.MAILCHIMP_HEADER + nordic.UNSUB_EXTRA)) is ESP_MEMBERS
    assert classify_csv("pos", "orders_export_1.csv", keys(nordic.SHOPIFY_HEADER)) is POS_ORDERS
    assert classify_csv("pos", "kassa_S014_20261001.csv", keys(nordic.RECEIPT_HEADER)) is POS_RECEIPTS
    assert classify_csv("sms", "twilio_message_log_2026-10-01.csv", keys(nordic.TWILIO_HEADER)) is SMS_MESSAGES_CSV
    # every identity-bearing column is a contract column (none only in _extra)
    for header in ("customer_id", "first_name", "last_name", "email", "mobile", "street", "zip", "city"):
        assert CRM_CUSTOMERS.canonical(header), header
    for header in ("country", "date_of_birth", "loyalty_card_id"):
        assert CRM_CUSTOMERS.canonical(header), header
    for header in ("Email Address", "First Name", "Last Name", "Address", "Zip", "City", "Phone Number"):
        assert ESP_MEMBERS.canonical(header), header
    assert ESP_MEMBERS.canonical("Date of Birth") and ESP_MEMBERS.canonical("CC")
