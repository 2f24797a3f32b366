"""Review decisions and persistent customer IDs (deterministic-only inputs: no names, no Splink)."""

import csv

from cdp_pipeline.lib.golden.lookup import surviving_customer_id
from cdp_pipeline.lib.identity import resolve_identities
from cdp_pipeline_tests.lib.identity.synthetic import record, write_records


def _ids(con) -> dict[str, str]:
    return {r: c for r, c in con.execute("SELECT source_record_id, customer_id FROM identity.customer_map").fetchall()}


def _events(con, run_id) -> set[tuple]:
    return set(
        con.execute(
            "SELECT customer_id, event, related_customer_id FROM identity.id_history WHERE run_id = ?", [run_id]
        ).fetchall()
    )


def _card(rid, card, **kw):
    return record("pos", rid, None, loyalty_card_id=card, **kw)


def _write_review(tmp_path, *rows):
    path = tmp_path / "identity_review.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["decision", "source_a", "record_a", "source_b", "record_b", "note"])
        w.writerows(rows)
    return path


def test_must_and_cannot_link_are_honoured(con, config, tmp_path):
    write_records(con, [_card("a1", "L1"), _card("a2", "L1"), _card("a3", "L1"), _card("b1", "L2")])
    resolve_identities(con, run_id="r0", config=config)
    before = _ids(con)
    assert before["a1"] == before["a2"] == before["a3"] and before["b1"] != before["a1"]

    review = _write_review(
        tmp_path,
        ("cannot_link", "pos", "a1", "pos", "a3", "two people, one card"),
        ("must_link", "pos", "a2", "pos", "b1", "same person, checked by phone"),
    )
    result = resolve_identities(con, run_id="r1", config=config, review_file=review)
    ids = _ids(con)
    assert ids["a1"] != ids["a3"]  # cut although the card joins them
    assert ids["a2"] == ids["b1"]  # joined although nothing links them
    assert result.review["must_link"] == 1 and result.review["cannot_link"] == 1
    links = con.execute("SELECT link_type, note FROM identity.links WHERE link_type = 'review'").fetchall()
    assert links == [("review", "same person, checked by phone")]

    # honoured on every run, not just once
    resolve_identities(con, run_id="r2", config=config, review_file=review)
    assert _ids(con) == ids
    # and without the file the records fall back to what the identifiers say
    resolve_identities(con, run_id="r3", config=config)
    after = _ids(con)
    assert after["a1"] == after["a3"] and after["b1"] != after["a1"]


def test_same_input_gives_same_ids_in_a_fresh_database(config):
    import duckdb

    recs = [_card("a1", "L1"), _card("a2", "L1"), _card("b1", "L2"), record("sms", "+4670111", None, phone="+4670111")]
    maps = []
    for _ in range(2):
        con = duckdb.connect()
        write_records(con, recs)
        resolve_identities(con, run_id="x", config=config)
        maps.append(_ids(con))
        con.close()
    assert maps[0] == maps[1]
    assert all(c.startswith("C-") and len(c) == 14 for c in maps[0].values())


def test_rerun_on_unchanged_input_changes_no_id(con, config):
    write_records(con, [_card("a1", "L1"), _card("a2", "L1"), _card("b1", "L2")])
    resolve_identities(con, run_id="r1", config=config)
    first = _ids(con)
    result = resolve_identities(con, run_id="r2", config=config)
    assert _ids(con) == first
    assert _events(con, "r2") == set()
    assert result.id_changes["records_changed_id"] == 0


def test_new_day_keeps_ids_merge_keeps_older_split_gives_larger_part(con, config):
    write_records(con, [_card("a1", "L1"), _card("a2", "L1"), _card("a3", "L1")])
    resolve_identities(con, run_id="r1", config=config)
    a = _ids(con)["a1"]

    # day 2: an unrelated new customer appears; A keeps its ID
    write_records(con, [_card("a1", "L1"), _card("a2", "L1"), _card("a3", "L1"), _card("b1", "L2")])
    resolve_identities(con, run_id="r2", config=config)
    ids = _ids(con)
    b = ids["b1"]
    assert ids["a1"] == a and b != a
    assert _events(con, "r2") == {(b, "created", None)}

    # day 3: a record carrying both cards shows A and B are one person: the older ID (A) survives
    day3 = [
        _card("a1", "L1"),
        _card("a2", "L1"),
        _card("a3", "L1"),
        _card("b1", "L2"),
        record("crm", "c9", None, loyalty_card_id="L1", crm_customer_id="c9"),
        record("web", "c9", None, web_user_id="c9", cookies=["ck1"]),
        record("crm", "c10", None, loyalty_card_id="L2", crm_customer_id="c10"),
        record("web", "c10", None, web_user_id="c10", cookies=["ck1"]),
    ]
    write_records(con, day3)
    resolve_identities(con, run_id="r3", config=config)
    ids = _ids(con)
    assert set(ids.values()) == {a}
    assert (b, "merged", a) in _events(con, "r3")

    # day 4: the shared cookie turns out to be the shop's tablet (removed): B's part splits off again.
    # A's part is larger and keeps A; B's part is founded by B's founding record (b1), so it gets
    # B back: the merge is undone, and B names B's records again, not A's.
    for r in day3:
        r["cookies"] = None
    write_records(con, day3)
    resolve_identities(con, run_id="r4", config=config)
    ids = _ids(con)
    assert ids["a1"] == ids["a2"] == ids["a3"] == ids["c9"] == a
    assert ids["b1"] == ids["c10"] == b
    assert (b, "split", a) in _events(con, "r4")
    # so following B (cdp customer / explain / forget) finds B's records, not A's
    assert surviving_customer_id(con, b) == b


def test_merged_ids_come_back_only_with_the_record_they_were_derived_from(con, config):
    """A: a1-a3 (card L1), B: b1-b2 (L2), C: c1 (L3). A shared cookie merges all three into A.
    Then b1 moves to card L1 (stays with A) and the cookie goes: the part b2 + L2's CRM record does
    not hold b1, the record B was derived from, so it gets a new ID and B still names A, where b1
    is. C's part holds c1 and gets C back."""
    base = [_card("a1", "L1"), _card("a2", "L1"), _card("a3", "L1"), _card("b1", "L2"), _card("b2", "L2")]
    write_records(con, [*base, _card("c1", "L3")])
    resolve_identities(con, run_id="r1", config=config)
    first = _ids(con)
    a, b, c = first["a1"], first["b1"], first["c1"]
    assert len({a, b, c}) == 3

    bridge = [
        record("crm", f"x{card}", None, loyalty_card_id=card, crm_customer_id=f"x{card}") for card in ("L1", "L2", "L3")
    ] + [record("web", f"x{card}", None, web_user_id=f"x{card}", cookies=["ck1"]) for card in ("L1", "L2", "L3")]
    write_records(con, [*base, _card("c1", "L3"), *bridge])
    resolve_identities(con, run_id="r2", config=config)
    assert set(_ids(con).values()) == {a}
    assert {(b, "merged", a), (c, "merged", a)} <= _events(con, "r2")

    for r in bridge:
        r["cookies"] = None
    base[3]["loyalty_card_id"] = "L1"
    write_records(con, [*base, _card("c1", "L3"), *bridge])
    resolve_identities(con, run_id="r3", config=config)
    ids = _ids(con)
    assert ids["a1"] == ids["b1"] == a
    assert ids["c1"] == ids["xL3"] == c
    assert ids["b2"] == ids["xL2"] and ids["b2"] not in (a, b, c)
    assert surviving_customer_id(con, b) == a and surviving_customer_id(con, c) == c
    assert {(c, "split", a), (ids["b2"], "split", a)} <= _events(con, "r3")


def test_a_part_founded_by_two_merged_ids_takes_the_first_and_the_other_follows_it(con, config):
    """A (six records), B (b1) and C (c1) merge through a shared cookie; then A's side leaves the
    cookie: the part B + C holds both founding records, takes B (the smaller record) back, and C
    is recorded as merged into B, so C is followed to the records it now lives with."""
    base = [_card(f"a{i}", "L1") for i in range(1, 7)] + [_card("b1", "L2"), _card("c1", "L3")]
    write_records(con, base)
    resolve_identities(con, run_id="r1", config=config)
    first = _ids(con)
    a, b, c = first["a1"], first["b1"], first["c1"]
    bridge = [
        record("crm", f"x{card}", None, loyalty_card_id=card, crm_customer_id=f"x{card}") for card in ("L1", "L2", "L3")
    ] + [record("web", f"x{card}", None, web_user_id=f"x{card}", cookies=["ck1"]) for card in ("L1", "L2", "L3")]
    write_records(con, [*base, *bridge])
    resolve_identities(con, run_id="r2", config=config)
    assert set(_ids(con).values()) == {a}

    bridge[3]["cookies"] = None  # web xL1: A's side leaves the shared cookie
    write_records(con, [*base, *bridge])
    resolve_identities(con, run_id="r3", config=config)
    ids = _ids(con)
    assert ids["a1"] == ids["xL1"] == a
    assert ids["b1"] == ids["c1"] == ids["xL2"] == ids["xL3"] == b
    assert {(b, "split", a), (c, "merged", b)} <= _events(con, "r3")
    assert surviving_customer_id(con, c) == b


def test_a_merged_id_follows_its_founding_record_into_a_customer_that_keeps_another_id(con, config):
    """B (b1) merges into A through a shared cookie; then the cookie goes and b1 turns out to carry
    D's card: b1 is now D's, so B is recorded as merged into D and leads there, not to A."""
    base = [_card("a1", "L1"), _card("a2", "L1"), _card("a3", "L1"), _card("b1", "L2"), _card("d1", "L4")]
    base.append(_card("d2", "L4"))
    write_records(con, base)
    resolve_identities(con, run_id="r1", config=config)
    first = _ids(con)
    a, b, d = first["a1"], first["b1"], first["d1"]
    bridge = [
        record("crm", f"x{card}", None, loyalty_card_id=card, crm_customer_id=f"x{card}") for card in ("L1", "L2")
    ] + [record("web", f"x{card}", None, web_user_id=f"x{card}", cookies=["ck1"]) for card in ("L1", "L2")]
    write_records(con, [*base, *bridge])
    resolve_identities(con, run_id="r2", config=config)
    assert _ids(con)["b1"] == a and (b, "merged", a) in _events(con, "r2")

    for r in bridge:
        r["cookies"] = None
    base[3]["loyalty_card_id"] = "L4"
    write_records(con, [*base, *bridge])
    resolve_identities(con, run_id="r3", config=config)
    ids = _ids(con)
    assert ids["b1"] == ids["d1"] == d and ids["a1"] == a
    assert (b, "merged", d) in _events(con, "r3")
    assert surviving_customer_id(con, b) == d


def test_vanished_records_retire_their_id(con, config):
    write_records(con, [_card("a1", "L1"), _card("b1", "L2")])
    resolve_identities(con, run_id="r1", config=config)
    b = _ids(con)["b1"]
    write_records(con, [_card("a1", "L1")])
    resolve_identities(con, run_id="r2", config=config)
    assert (b, "retired", None) in _events(con, "r2")


def test_empty_input_writes_empty_tables(con, config):
    write_records(con, [])
    result = resolve_identities(con, run_id="r1", config=config)
    assert result.records == 0 and result.customers == 0
    assert con.execute("SELECT count(*) FROM identity.customer_map").fetchall()[0][0] == 0
