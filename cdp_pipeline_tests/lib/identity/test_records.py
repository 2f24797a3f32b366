"""The numbered records and the identifiers each carries (``records.py``)."""

from __future__ import annotations

from cdp_pipeline.lib.identity.record_numbers import fresh_gap, numbers_kept, write_record_numbers
from cdp_pipeline.lib.identity.records import IDENTIFIERS, RECORDS, build_identifiers, build_records
from cdp_pipeline_tests.lib.identity.synthetic import record, write_records


def _records() -> list[dict]:
    return [
        # the web user id is the CRM id: one crm_customer identifier, not two
        record("web", "w2", web_user_id="c1", crm_customer_id="c1", cookies=["k1", "k1", "k2", None, " "]),
        record("crm", "c1", crm_customer_id="c1", first_name="anna", last_name="berg", email="a@x.se"),
        record("web", "w1", web_user_id="u9", crm_customer_id="c1", phone="+46701", phone_is_junk=True),
    ]


def test_each_identifier_of_a_record_is_listed_once(con):
    write_records(con, _records())
    build_records(con)
    assert build_identifiers(con) == 8
    rows = con.execute(f"""SELECT r.source_record_id, i.kind, i.value, i.is_junk, i.first_name, i.last_name
                           FROM {IDENTIFIERS} i JOIN {RECORDS} r USING (rid) ORDER BY ALL""").fetchall()
    assert rows == [
        ("c1", "crm_customer", "c1", False, "anna", "berg"),
        ("c1", "email", "a@x.se", False, "anna", "berg"),
        ("w1", "crm_customer", "c1", False, None, None),
        ("w1", "crm_customer", "u9", False, None, None),
        ("w1", "phone", "+46701", True, None, None),
        ("w2", "cookie", "k1", False, None, None),
        ("w2", "cookie", "k2", False, None, None),
        ("w2", "crm_customer", "c1", False, None, None),
    ]


def test_records_are_numbered_by_key_from_a_table_a_view_or_a_source_repeating_a_key(con):
    write_records(con, _records())
    expected = [(1, "crm", "c1"), (2, "web", "w1"), (3, "web", "w2")]
    numbered = f"SELECT rid, source, source_record_id FROM {RECORDS} ORDER BY rid"
    assert build_records(con) == 3
    assert con.execute(numbered).fetchall() == expected
    con.execute("CREATE VIEW staging.identity_view AS SELECT * FROM staging.identity_records")
    assert build_records(con, "staging.identity_view") == 3
    assert con.execute(numbered).fetchall() == expected
    # a repeated key: its latest row wins, the numbers are the same
    con.execute("""INSERT INTO staging.identity_records SELECT * REPLACE (record_time + INTERVAL 1 DAY AS record_time,
                   'b@x.se' AS email) FROM staging.identity_records WHERE source_record_id = 'c1'""")
    assert build_records(con) == 3
    assert con.execute(numbered).fetchall() == expected
    assert con.execute(f"SELECT email FROM {RECORDS} WHERE rid = 1").fetchall() == [("b@x.se",)]


def test_a_name_field_that_alone_is_junk_blanks_only_itself(con):
    # as staging flags them: the record's name is junk when either field is (is_junk_name)
    write_records(
        con,
        [
            record("crm", "a", first_name="Andrea", last_name="Oo", name_is_junk=True),
            record("crm", "b", first_name="X.", last_name="Nilsson", name_is_junk=True),
            record("crm", "c", first_name="Test", last_name="Unknown", name_is_junk=True),
            record("crm", "d", first_name="Xxx", name_is_junk=True),
            record("crm", "e", first_name="Anna", last_name="Berg"),
        ],
    )
    build_records(con)
    rows = con.execute(f"""SELECT source_record_id, first_name, first_name_match, last_name, last_name_match,
                                  name_is_junk FROM {RECORDS} ORDER BY ALL""").fetchall()
    assert rows == [
        ("a", "Andrea", "andrea", None, None, False),
        ("b", None, None, "Nilsson", "nilsson", False),
        # both fields junk, or one junk beside none: still a record without a name
        ("c", "Test", "test", "Unknown", "unknown", True),
        ("d", "Xxx", "xxx", None, None, True),
        ("e", "Anna", "anna", "Berg", "berg", False),
    ]


def _numbered(con) -> list[tuple]:
    return con.execute(f"SELECT source_record_id, rid FROM {RECORDS} ORDER BY rid").fetchall()


def _night(con, keys: list[str], numbering: str) -> tuple[list[tuple], bool]:
    """Records under ``keys`` numbered by ``numbering``, their numbers kept (write_record_numbers)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS identity")
    write_records(con, [record("crm", k) for k in keys])
    build_records(con, numbering=numbering)
    kept = numbers_kept(con)
    write_record_numbers(con, RECORDS)
    return _numbered(con), kept


def test_a_kept_numbering_keeps_each_key_its_number_and_places_new_keys_between_their_neighbours(con):
    first, kept = _night(con, ["b", "d", "f", "h"], "spaced")
    gap = fresh_gap(4)
    assert not kept and first == [("b", gap), ("d", 2 * gap), ("f", 3 * gap), ("h", 4 * gap)]
    # a key before the first, two in one gap, one after the last, one removed (f)
    second, kept = _night(con, ["a", "b", "c1", "c2", "d", "h", "i"], "kept")
    assert kept
    assert [k for k, _ in second] == ["a", "b", "c1", "c2", "d", "h", "i"]  # ordered by rid: the keys' order
    numbers = dict(second)
    assert (numbers["b"], numbers["d"], numbers["h"]) == (gap, 2 * gap, 4 * gap)
    assert 0 < numbers["a"] < gap < numbers["c1"] < numbers["c2"] < 2 * gap and numbers["i"] > 4 * gap
    # the removed key's number is free: the table holds tonight's keys alone
    assert sorted(con.execute("SELECT source_record_id, rid FROM identity.record_numbers").fetchall()) == sorted(second)
    # f comes back: a number between d's and h's, not necessarily its old one
    third, kept = _night(con, ["a", "b", "c1", "c2", "d", "f", "h", "i"], "kept")
    assert kept and [k for k, _ in third] == ["a", "b", "c1", "c2", "d", "f", "h", "i"]
    assert {k: v for k, v in third if k != "f"} == numbers


def test_a_gap_too_small_or_a_repeated_key_numbers_the_night_afresh(con):
    # numbered 1..n (a night that trains): no number between two neighbours
    _, kept = _night(con, ["b", "d"], "dense")
    assert not kept
    numbered, kept = _night(con, ["b", "c", "d"], "kept")
    gap = fresh_gap(3)
    assert not kept and numbered == [("b", gap), ("c", 2 * gap), ("d", 3 * gap)]
    # new keys after the last one fit whatever the gaps
    numbered, kept = _night(con, ["b", "c", "d", "e"], "kept")
    assert kept and numbered[:3] == [("b", gap), ("c", 2 * gap), ("d", 3 * gap)] and numbered[3][1] > 3 * gap
    # a source repeating a key: numbered afresh, its latest row kept
    con.execute("""INSERT INTO staging.identity_records SELECT * REPLACE (record_time + INTERVAL 1 DAY AS record_time)
                   FROM staging.identity_records WHERE source_record_id = 'c'""")
    build_records(con, numbering="kept")
    assert not numbers_kept(con) and [k for k, _ in _numbered(con)] == ["b", "c", "d", "e"]
