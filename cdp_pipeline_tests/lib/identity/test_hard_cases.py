"""Each identity hard case, with a known answer, through the real resolve (Splink trained on the data).

The hard cases are hand-written records (fixtures/identity_hard_cases/records.csv; the README
there says what each group is). Splink needs a population to train on, so they are put
among the synthetic background of ``synthetic.build_people``, whose people have other names,
addresses, emails and phones. The answer for every case person: all their records form one
customer, and that customer holds no other person's records (so twins, a same-name parent and
child, and a household sharing an inbox and a landline stay apart; a nickname, a swapped
billing name, a double name, a married name, a mistyped email, a missing birth date and a
birth date one typo apart link).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from cdp_pipeline.lib.identity import resolve_identities
from cdp_pipeline.lib.staging import (
    display_name,
    match_name,
    standardise_city,
    standardise_postcode,
    standardise_street,
)
from cdp_pipeline_tests.lib.identity.synthetic import (
    build_people,
    record,
    write_records,
)

FIXTURE = Path(__file__).parents[2] / "fixtures" / "identity_hard_cases" / "records.csv"

# Case persons the current model does not link yet (issue 14). Their records are still asserted
# to hold no one else; take a person out of here once they link. (HC-TYPO-SWAP, gmail -> gmial,
# links since the e-mail comparison counts two swapped neighbours as one typo.)
# (HC-HOME-C, Lena's order on the family landline with nothing else of hers, links since a
# household's value beside another one weighs nothing: it scored 0.988 to Lena's own records,
# the landline against her mobile, just under the 0.99 threshold.)
NOT_LINKED_YET: set[str] = set()


def hard_case_records(fixture: Path | None = None) -> list[dict]:
    """The rows of ``fixture`` (this module's ``FIXTURE`` by default; another fixture's records.csv
    of the same columns) as staged identity records (names, street, postcode and city standardised
    as staging does; emails and phones are written in their standard form)."""
    out = []
    with open(fixture or FIXTURE, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            row = {k: (v or None) for k, v in row.items()}
            out.append(
                record(
                    row["source"],
                    row["source_record_id"],
                    row["person_id"],
                    first_name=display_name(row["first_name"]),
                    first_name_match=match_name(row["first_name"]),
                    last_name=display_name(row["last_name"]),
                    last_name_match=match_name(row["last_name"]),
                    email=row["email"],
                    phone=row["phone"],
                    street=standardise_street(row["street"]),
                    postcode=standardise_postcode(row["postcode"], "SE"),
                    city=standardise_city(row["city"]),
                    country="SE",
                    birth_date=dt.date.fromisoformat(row["birth_date"]) if row["birth_date"] else None,
                    crm_customer_id=row["crm_customer_id"],
                )
                | {"_group": row["case_group"]}
            )
    return out


def test_the_fixture_holds_every_hard_case():
    groups = {}
    for r in hard_case_records():
        groups.setdefault(r["_group"], set()).add(r["_person"])
    assert groups == {
        "twins": {
            "HC-TWIN-A",
            "HC-TWIN-B",
            "HC-TWIN-C",
            "HC-TWIN-D",
            "HC-TWIN-E",
            "HC-TWIN-F",
            "HC-TWIN-G",
            "HC-TWIN-H",
            "HC-TWIN-I",
            "HC-TWIN-J",
            "HC-TWIN-K",
            "HC-TWIN-L",
            "HC-TWIN-M",
            "HC-TWIN-N",
            "HC-TWIN-O",
            "HC-TWIN-P",
            "HC-TWIN-Q",
            "HC-TWIN-R",
            "HC-TWIN-S",
            "HC-TWIN-T",
            "HC-TWIN-U",
            "HC-TWIN-V",
        },
        "parent_child": {
            "HC-PARENT",
            "HC-CHILD",
            "HC-PARENT-B",
            "HC-CHILD-B",
            "HC-PARENT-C",
            "HC-CHILD-C",
            "HC-PARENT-D",
            "HC-CHILD-D",
            "HC-PARENT-E",
            "HC-CHILD-E",
            "HC-PARENT-F",
            "HC-CHILD-F",
            "HC-PARENT-G",
            "HC-CHILD-G",
        },
        "birth_date_typo": {"HC-DOB-TYPO"},
        "household": {
            "HC-HOME-A",
            "HC-HOME-B",
            "HC-HOME-C",
            "HC-HOME-D",
            "HC-HOME-E",
            "HC-HOME-F",
            "HC-HOME-G",
            "HC-HOME-H",
            "HC-HOME-I",
            "HC-HOME-J",
            "HC-HOME-K",
            "HC-HOME-L",
            "HC-HOME-M",
            "HC-HOME-N",
            "HC-HOME-O",
            "HC-HOME-P",
            "HC-HOME-Q",
            "HC-HOME-R",
        },
        "nickname": {
            "HC-NICK",
            "HC-NICK-MAJA",
            "HC-NICK-PERRA",
            "HC-NICK-HINKE",
            "HC-NICK-RIKA",
            "HC-NICK-HONS",
            "HC-NICK-INEGGERD",
            "HC-NICK-BITTAN",
        },
        "swapped_name": {"HC-SWAP", "HC-SWAP-INITIAL"},
        "double_name": {"HC-DOUBLE", "HC-DOUBLE-INITIALS", "HC-DOUBLE-SHORT", "HC-DOUBLE-JOINED", "HC-DOUBLE-TYPO"},
        "married_name": {"HC-MARRIED", "HC-MARRIED-BILL", "HC-MARRIED-LNA"},
        "email_typo": {"HC-TYPO-DROP", "HC-TYPO-SWAP"},
        "missing_birth_date": {"HC-NOBIRTH"},
    }


def test_each_hard_case_resolves_to_its_known_answer(con, config):
    cases = hard_case_records()
    background = build_people(n_people=300, seed=7)
    write_records(con, background + cases)
    resolve_identities(con, run_id="r1", config=config)

    customer = {
        (s, k): c
        for s, k, c in con.execute("SELECT source, source_record_id, customer_id FROM identity.customer_map").fetchall()
    }
    person_of = {(r["source"], r["source_record_id"]): r["_person"] for r in background + cases}
    persons_in = {}
    for key, cid in customer.items():
        persons_in.setdefault(cid, set()).add(person_of[key])
    case_persons = sorted({r["_person"] for r in cases})
    customers_of = {
        p: {customer[(r["source"], r["source_record_id"])] for r in cases if r["_person"] == p} for p in case_persons
    }
    # split: how many customers the person's records are in; with: the persons those customers hold
    split = {p: len(customers_of[p]) for p in case_persons}
    together_with = {p: set().union(*(persons_in[c] for c in customers_of[p])) - {p} for p in case_persons}
    assert together_with == {p: set() for p in case_persons}
    assert {p: n for p, n in split.items() if p not in NOT_LINKED_YET} == {
        p: 1 for p in case_persons if p not in NOT_LINKED_YET
    }
