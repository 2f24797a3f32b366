"""The prediction blocking rules of identity.yaml: which pairs they put up for scoring.

Known answers on small record sets: a rule must bring up the pairs it exists for (docs/identity.md
says why each rule is there) and must not make a block of every record sharing one common value,
whose pairs grow with the square of the records (the 1M-record night compared 9.4M such pairs).
"""

from __future__ import annotations

import datetime as dt

from cdp_pipeline.lib.identity.junk_guard import find_excluded_identifiers
from cdp_pipeline.lib.identity.name_keys import write_first_name_table
from cdp_pipeline.lib.identity.name_variants import load_name_variants
from cdp_pipeline.lib.identity.records import RECORDS, build_identifiers, build_records
from cdp_pipeline.lib.identity.splink_model import (
    NEW_SCORED_RECORDS,
    SPLINK_INPUT,
    _input_hashes,
    blocking_rule,
    build_splink_input,
)
from cdp_pipeline_tests.lib.identity.synthetic import record, write_records


def _model_input(con, records, config) -> None:
    """The model's input built as a run builds it (no model trained)."""
    write_records(con, records)
    build_records(con)
    write_first_name_table(con, f"SELECT DISTINCT first_name_match FROM {RECORDS}", load_name_variants())
    build_identifiers(con)
    find_excluded_identifiers(con, config)
    build_splink_input(con, config)


def _candidate_pairs(con, records, config) -> set[tuple[str, str]]:
    """The pairs any configured blocking rule puts up, by source_record_id."""
    _model_input(con, records, config)
    rules = [blocking_rule(r).get_blocking_rule("duckdb").blocking_rule_sql for r in config.splink.blocking_rules]
    rows = con.execute(f"""
        SELECT DISTINCT a.source_record_id, b.source_record_id
        FROM {SPLINK_INPUT} l JOIN {SPLINK_INPUT} r ON l.unique_id < r.unique_id AND ({" OR ".join(rules)})
        JOIN {RECORDS} a ON a.rid = l.unique_id JOIN {RECORDS} b ON b.rid = r.unique_id
    """).fetchall()
    return {tuple(sorted(row)) for row in rows}


def _signup(rid: str, first: str, last: str) -> dict:
    """A newsletter signup: a name and an e-mail address of its own, nothing else."""
    return record("esp", rid, first_name=first, last_name=last, email=f"{rid}@example.com")


def _customer(rid: str, first: str, last: str, **fields) -> dict:
    base = dict(
        first_name=first,
        last_name=last,
        street="kyrkogatan 12",
        postcode="41118",
        city="göteborg",
        birth_date=dt.date(1971, 4, 2),
        phone=f"+4670{rid[-6:].rjust(6, '0')}",
    )
    return record("crm", rid, **(base | fields))


def test_a_rare_name_meets_its_signup_a_common_one_makes_no_block(con, config):
    """A CRM customer and a signup with the same rare name share nothing else: only the rare
    full name brings the pair up (the model links it on the name's rarity). Six signups of a
    name held by more than rare_name_max_records records make no pair at all: such a name alone
    cannot link two records, and its block would grow with the square of its records."""
    config = config.with_splink(rare_name_max_records=3)
    records = [
        _customer("c1", "hans henning", "jacobi jackel"),
        _signup("s1", "hans henning", "jacobi jackel"),
        *[_signup(f"m{i}", "maria", "persson") for i in range(6)],
    ]
    assert _candidate_pairs(con, records, config) == {("c1", "s1")}


def test_a_full_name_is_rare_up_to_the_configured_count(con, config):
    records = [_signup(f"a{i}", "ebba", "schinke") for i in range(3)] + [
        _signup(f"b{i}", "anna", "berg") for i in range(4)
    ]
    _model_input(con, records, config.with_splink(rare_name_max_records=3))
    keys = dict(
        con.execute(f"""SELECT r.source_record_id, i.rare_full_name FROM {SPLINK_INPUT} i
                        JOIN {RECORDS} r ON r.rid = i.unique_id""").fetchall()
    )
    assert keys == {**{f"a{i}": "ebba schinke" for i in range(3)}, **{f"b{i}": None for i in range(4)}}


def test_a_half_name_has_no_rare_full_name_and_does_not_count_towards_one(con, config):
    """A record without a surname (or a first name) has no full name to block on, and is not
    one more holder of the full name it half shares: three "ebba schinke" stay rare at a limit
    of three beside an "ebba" and a "schinke" alone."""
    records = [_signup(f"a{i}", "ebba", "schinke") for i in range(3)] + [
        _signup("f", "ebba", ""),
        _signup("l", "", "schinke"),
    ]
    _model_input(con, records, config.with_splink(rare_name_max_records=3))
    keys = dict(
        con.execute(f"""SELECT r.source_record_id, i.rare_full_name FROM {SPLINK_INPUT} i
                        JOIN {RECORDS} r ON r.rid = i.unique_id""").fetchall()
    )
    assert keys == {**{f"a{i}": "ebba schinke" for i in range(3)}, "f": None, "l": None}


def test_a_record_whose_name_became_common_is_scored_again(con, config):
    """Incremental nights keep the scores of pairs of records whose model input did not change.
    A record's rare_full_name depends on the other records, so it is in that input: when a fourth
    "ebba schinke" arrives, the first three are scored again (a full run no longer blocks them
    on the name), while an unrelated record keeps its hash."""
    config = config.with_splink(rare_name_max_records=3)

    def hashes(records):
        _model_input(con, records, config)
        _input_hashes(con)
        return dict(con.execute(f"SELECT source_record_id, input_hash FROM {NEW_SCORED_RECORDS}").fetchall())

    before = [_signup(f"a{i}", "ebba", "schinke") for i in range(3)] + [_signup("x", "olof", "nyman")]
    old = hashes(before)
    new = hashes([*before, _signup("a3", "ebba", "schinke")])
    assert [k for k in old if old[k] != new[k]] == ["a0", "a1", "a2"]


def test_one_street_in_many_towns_makes_no_block(con, config):
    """A street name and house number recur in many towns (the 1M sample has 4.8M pairs of
    records sharing one): different people there are no candidate pairs, while one person's two
    records at one street, with typos in the postcode, the town, the first name and the
    surname's end, still are (street and the surname's first three letters; FEBRL2)."""
    strangers = [
        _customer(f"p{i}", first, last, postcode=f"{10000 + i}", city=town, birth_date=None, phone=None)
        for i, (first, last, town) in enumerate(
            [("anna", "berg", "lund"), ("olof", "nyman", "umeå"), ("sara", "ek", "kiruna"), ("per", "holm", "visby")]
        )
    ]
    same_person = [
        _customer("f1", "blake", "sterry", street="7 investigator street", postcode="4211", city="isle of capri"),
        _customer(
            "f2",
            "blkae",
            "sterrx",
            street="7 investigator street",
            postcode="4212",
            city="isle of capro",
            birth_date=None,
            phone=None,
        ),
    ]
    for r in strangers:
        r["street"] = "7 investigator street"
    assert _candidate_pairs(con, strangers + same_person, config) == {("f1", "f2")}


def test_a_swapped_name_needs_one_more_field_or_a_rare_name(con, config):
    """ "Olsson Gunnar" beside "Gunnar Olsson": a pair when they share a town (or another field),
    or when both spellings are rare; a common name swapped with nothing else shared is none: the
    model links no such pair, and they grow with the square of the records (69,246 at 1M, 40 true)."""
    config = config.with_splink(rare_name_max_records=3)
    records = [
        *[_signup(f"g{i}", "gunnar", "olsson") for i in range(4)],  # a common name
        _signup("sw", "olsson", "gunnar"),  # swapped, nothing else shared with the signups
        _customer("t1", "olsson", "gunnar", phone=None, birth_date=None),
        _customer("t2", "gunnar", "olsson", phone=None, birth_date=None, street="storgatan 1", postcode="11111"),
        _signup("r1", "zorbach", "miroslav"),  # both spellings rare
        _signup("r2", "miroslav", "zorbach"),
    ]
    # t1 and t2 share the town; sw and t1 the rare full name "olsson gunnar"
    assert _candidate_pairs(con, records, config) == {("t1", "t2"), ("sw", "t1"), ("r1", "r2")}
