"""Over-merge guards: junk and over-shared identifiers, the household name guard, cardinality rules."""

import dataclasses

import pytest

from cdp_pipeline.lib.identity import resolve_identities
from cdp_pipeline.lib.identity.cardinality import split_components
from cdp_pipeline.lib.identity.config import CardinalityRule
from cdp_pipeline.lib.identity.splink_model import FIRST_NAME_CONFLICT_GUARD
from cdp_pipeline_tests.lib.identity.synthetic import record, write_records


def _customers(con) -> dict[tuple[str, str], str]:
    return {(s, r): c for s, r, c in con.execute(
        "SELECT source, source_record_id, customer_id FROM identity.customer_map").fetchall()}


def _no_guards(config):
    return dataclasses.replace(config, max_people_per_identifier={}, max_records_per_identifier={})


def _junk_records():
    # two different Annas type test@test.com (flagged); two different Eriks share a shop's
    # default phone with ten other people (not flagged: only its frequency gives it away)
    recs = [
        record("pos", "order:1", "p1", first_name="anna", last_name="berg", email="test@test.com", email_is_junk=True),
        record("pos", "order:2", "p2", first_name="anna", last_name="holm", email="test@test.com", email_is_junk=True),
        record("pos", "order:3", "p3", first_name="erik", last_name="lund", phone="+46812345678"),
        record("pos", "order:4", "p4", first_name="erik", last_name="falk", phone="+46812345678"),
    ]
    for i, name in enumerate(["nils", "olof", "sara", "karin", "per", "eva", "ida", "ulf", "jan", "maja"]):
        recs.append(record("pos", f"order:x{i}", f"q{i}", first_name=name, last_name=f"name{i}", phone="+46812345678"))
    return recs


def test_junk_and_over_shared_identifiers_never_link(con, config):
    write_records(con, _junk_records())
    resolve_identities(con, run_id="r1", config=config)
    ids = _customers(con)
    assert ids[("pos", "order:1")] != ids[("pos", "order:2")]
    assert ids[("pos", "order:3")] != ids[("pos", "order:4")]
    assert len(set(ids.values())) == len(ids)
    excluded = dict(((k, v), r) for k, v, r in con.execute(
        "SELECT kind, value, reason FROM identity.excluded_identifiers").fetchall())
    assert excluded[("email", "test@test.com")] == "flagged_junk"
    assert excluded[("phone", "+46812345678")].startswith("shared_by_11_people")  # 12 records, 11 first names


def test_without_the_guard_junk_would_merge(con, config):
    """Proves the test above tests the guard: with junk flags and limits off, strangers merge."""
    recs = _junk_records()
    for r in recs:
        r["email_is_junk"] = False
    write_records(con, recs)
    resolve_identities(con, run_id="r1", config=_no_guards(config))
    ids = _customers(con)
    assert ids[("pos", "order:1")] == ids[("pos", "order:2")]
    assert ids[("pos", "order:3")] == ids[("pos", "order:4")]


def test_household_email_links_only_same_first_name(con, config):
    write_records(con, [
        record("crm", "1", first_name="anna", last_name="berg", email="familjen.berg@telia.se", crm_customer_id="1"),
        record("esp", "familjen.berg@telia.se", first_name="anna", last_name="berg", email="familjen.berg@telia.se"),
        record("crm", "2", first_name="bo", last_name="berg", email="familjen.berg@telia.se", crm_customer_id="2"),
        record("pos", "order:9", email="familjen.berg@telia.se"),   # which of them? left alone
    ])
    resolve_identities(con, run_id="r1", config=config)
    ids = _customers(con)
    assert ids[("crm", "1")] == ids[("esp", "familjen.berg@telia.se")]
    assert ids[("crm", "1")] != ids[("crm", "2")]
    assert ids[("pos", "order:9")] not in (ids[("crm", "1")], ids[("crm", "2")])


def _card_sharing_couple():
    # two people share one loyalty card; each has her own CRM record with a birth date
    return [
        record("crm", "1", "a", first_name="anna", last_name="berg", birth_date="1980-01-01",
               loyalty_card_id="L1", crm_customer_id="1", email="anna@x.se"),
        record("esp", "anna@x.se", "a", first_name="anna", last_name="berg", email="anna@x.se"),
        record("crm", "2", "b", first_name="bo", last_name="holm", birth_date="1975-05-05",
               loyalty_card_id="L1", crm_customer_id="2"),
        record("pos", "receipt:1:1", None, loyalty_card_id="L1"),
    ]


def test_cardinality_rule_splits_cluster(con, config):
    write_records(con, _card_sharing_couple())
    cfg = dataclasses.replace(config, cardinality_rules=(CardinalityRule("birth_dates", "birth_date", 1),))
    result = resolve_identities(con, run_id="r1", config=cfg)
    ids = _customers(con)
    assert ids[("crm", "1")] != ids[("crm", "2")]
    assert ids[("crm", "1")] == ids[("esp", "anna@x.se")]      # the strong email link survives
    assert result.splitting["clusters_split"] == 1
    assert con.execute("SELECT count(*) FROM identity.rejected_links").fetchall()[0][0] >= 1


def test_without_cardinality_rules_the_couple_merges(con, config):
    write_records(con, _card_sharing_couple())
    resolve_identities(con, run_id="r1", config=dataclasses.replace(config, cardinality_rules=()))
    ids = _customers(con)
    assert ids[("crm", "1")] == ids[("crm", "2")]


def test_split_cuts_the_weakest_link(con):
    """a1 =det= a2 -0.995- b1 =det= b2 -0.999- c1; three birth dates, at most two allowed."""
    con.execute("""CREATE TEMP TABLE _id_records AS SELECT * FROM (VALUES
        (1, DATE '1980-01-01'), (2, DATE '1980-01-01'), (3, DATE '1990-01-01'), (4, NULL), (5, DATE '2000-01-01'))
        t(rid, birth_date)""")
    con.execute("CREATE TEMP TABLE comps AS SELECT rid, 1 AS component FROM temp._id_records")
    con.execute("""CREATE TEMP TABLE edges AS SELECT * FROM (VALUES
        (1, 2, 2.0, 0.0), (2, 3, 0.995, 8.0), (3, 4, 2.0, 0.0), (4, 5, 0.999, 10.0)) t(rid_l, rid_r, strength, match_weight)""")
    con.execute("CREATE TEMP TABLE cannot (rid_l BIGINT, rid_r BIGINT)")
    stats = split_components(con, "temp.comps", "temp.edges", "temp.cannot",
                             (CardinalityRule("birth_dates", "birth_date", 2),), "temp.out", "temp.cut")
    groups = dict(con.execute("SELECT rid, component FROM temp.out").fetchall())
    assert groups == {1: 1, 2: 1, 3: 3, 4: 3, 5: 3}
    assert con.execute("SELECT rid_l, rid_r FROM temp.cut").fetchall() == [(2, 3)]
    assert stats["links_cut"] == 1


@pytest.mark.parametrize("fl, fr, dob_l, dob_r, email_l, email_r, kept", [
    ("anna", "helena", None, None, "fam@x.se", "fam@x.se", False),       # household inbox
    ("anna", "helena", "1980-01-01", "1980-01-01", None, None, True),    # same birth date
    ("micke", "michael", None, None, "m@x.se", "m@x.se", True),          # nickname + same email
    ("micke", "michael", None, None, None, None, False),                 # nickname, nothing else
    ("a", "anders", None, None, None, None, True),                       # initial
    ("birgtta", "birgitta", None, None, None, None, True),               # typo
    ("anna", None, None, None, None, None, True),                        # one name missing
])
def test_first_name_conflict_guard(con, fl, fr, dob_l, dob_r, email_l, email_r, kept):
    row = con.execute(f"""
        SELECT {FIRST_NAME_CONFLICT_GUARD} FROM (SELECT ?::VARCHAR AS first_name_match_l, ?::VARCHAR AS first_name_match_r,
               ?::DATE AS birth_date_l, ?::DATE AS birth_date_r, ?::VARCHAR AS email_l, ?::VARCHAR AS email_r,
               NULL::VARCHAR AS phone_l, NULL::VARCHAR AS phone_r)""", [fl, fr, dob_l, dob_r, email_l, email_r]).fetchall()
    assert row[0][0] is kept


def test_a_repeated_record_key_keeps_its_latest_version(con):
    """The contract says one row per key; a source that repeats one is read as its latest
    version, and records are numbered densely in key order either way."""
    import datetime as dt

    from cdp_pipeline.lib.identity.records import RECORDS, build_records

    older = record("crm", "c2", "p2", email="old@example.se", record_time=dt.datetime(2025, 1, 1))
    newer = record("crm", "c2", "p2", email="new@example.se", record_time=dt.datetime(2025, 3, 1))
    write_records(con, [record("esp", "m1", "p1", email="a@example.se"), older, newer,
                        record("crm", "c1", "p1", email="a@example.se")])
    assert build_records(con) == 3
    assert con.execute(f"SELECT rid, source, source_record_id, email FROM {RECORDS} ORDER BY rid").fetchall() == [
        (1, "crm", "c1", "a@example.se"), (2, "crm", "c2", "new@example.se"), (3, "esp", "m1", "a@example.se")]


def test_people_per_identifier_count_first_names_not_records(con, config):
    """A phone on records of one first name (and some without a name) is one person however
    many records carry it; the same number of records under three first names is three people."""
    one_name = [record("pos", f"order:a{i}", "pa", first_name="lena" if i % 2 else None, phone="+46811111111")
                for i in range(6)]
    three_names = [record("pos", f"order:b{i}", f"pb{i % 3}", first_name=["ola", "ali", "tor"][i % 3],
                          phone="+46822222222") for i in range(6)]
    write_records(con, one_name + three_names)
    limits = dataclasses.replace(config, max_people_per_identifier={"phone": 2},
                                 max_records_per_identifier={"phone": 100})
    resolve_identities(con, run_id="r1", config=limits)
    assert con.execute("SELECT value, records, people, reason FROM identity.excluded_identifiers").fetchall() == [
        ("+46822222222", 6, 3, "shared_by_3_people_limit_2")]
