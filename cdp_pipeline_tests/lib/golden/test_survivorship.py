"""Survivorship: each rule on its own, rule order, deterministic ties, config validation."""

from datetime import date, datetime

import duckdb
import pytest

from cdp_pipeline.lib.golden.survivorship import (
    SURVIVED_ATTRIBUTES,
    drop_group_tables,
    load_survivorship_config,
    name_tables_fingerprint,
    parse_survivorship_config,
    run_survivorship,
)

COLUMNS = {
    "customer_id": "VARCHAR",
    "source": "VARCHAR",
    "source_record_id": "VARCHAR",
    "record_time": "TIMESTAMP",
    **{a: ("DATE" if a == "birth_date" else "VARCHAR") for a in SURVIVED_ATTRIBUTES},
    "email_is_junk": "BOOLEAN",
    "phone_is_junk": "BOOLEAN",
    "name_is_junk": "BOOLEAN",
    "dq_flags": "VARCHAR[]",
    "email_blocked": "BOOLEAN",
    "phone_blocked": "BOOLEAN",
}


def survive(rows: list[dict], rules: dict[str, list], config_dir=None) -> dict[str, dict]:
    """Run the engine with ``rules`` for the named groups (others: most_recent) -> customer_id -> row."""
    con = duckdb.connect()
    con.execute(f"CREATE TEMP TABLE recs ({', '.join(f'{c} {t}' for c, t in COLUMNS.items())})")
    for r in rows:
        con.execute(
            f"INSERT INTO recs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            [r.get(c) for c in COLUMNS],
        )
    attributes = {name: {"columns": cols, "rules": spec} for name, (cols, spec) in rules.items()}
    covered = {c for cols, _ in rules.values() for c in cols}
    attributes |= {a: {"rules": ["most_recent"]} for a in SURVIVED_ATTRIBUTES if a not in covered}
    run_survivorship(
        con,
        parse_survivorship_config({"attributes": attributes}),
        records="recs",
        customers="recs",
        target="out",
        config_dir=config_dir,
    )
    cur = con.execute("SELECT * FROM out ORDER BY customer_id")
    names = [d[0] for d in cur.description]
    return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


def rec(srid, source="crm", when="2025-01-01", customer="C1", **attrs):
    return {
        "customer_id": customer,
        "source": source,
        "source_record_id": srid,
        "record_time": datetime.fromisoformat(when) if when else None,
        **attrs,
    }


def test_source_priority_ranks_by_list_position_and_unlisted_last():
    rows = [
        rec("1", "web", "2025-01-09", first_name="Webby"),
        rec("2", "pos", "2025-01-01", first_name="Posy"),
        rec("3", "esp", "2025-01-05", first_name="Espy"),
    ]
    out = survive(rows, {"n": (["first_name"], [{"source_priority": ["crm", "pos", "esp"]}])})["C1"]
    assert (out["first_name"], out["first_name_source"], out["first_name_source_record_id"]) == ("Posy", "pos", "2")


def test_prefer_sources_is_a_tier_then_next_rule_decides():
    rows = [
        rec("1", "crm", "2025-01-01", city="Old"),
        rec("2", "pos", "2025-01-05", city="New"),
        rec("3", "esp", "2025-01-09", city="Esp"),
    ]
    out = survive(rows, {"a": (["city"], [{"prefer_sources": ["crm", "pos"]}, "most_recent"])})["C1"]
    assert (out["city"], out["city_source_record_id"]) == ("New", "2")


def test_most_recent_with_null_times_last():
    rows = [
        rec("1", when=None, email="none@x.se"),
        rec("2", when="2025-01-02", email="new@x.se"),
        rec("3", when="2025-01-01", email="old@x.se"),
    ]
    assert survive(rows, {"e": (["email"], ["most_recent"])})["C1"]["email"] == "new@x.se"


def test_most_frequent_counts_case_insensitively():
    rows = [
        rec("1", when="2025-01-09", last_name="Smith"),
        rec("2", when="2025-01-01", last_name="JONES"),
        rec("3", when="2025-01-02", last_name="jones"),
    ]
    out = survive(rows, {"n": (["last_name"], ["most_frequent", "most_recent"])})["C1"]
    assert (out["last_name"], out["last_name_source_record_id"]) == ("jones", "3")


def test_most_complete_single_column_prefers_longer_value():
    rows = [rec("1", when="2025-01-09", first_name="J."), rec("2", when="2025-01-01", first_name="Johan")]
    assert survive(rows, {"n": (["first_name"], ["most_complete", "most_recent"])})["C1"]["first_name"] == "Johan"


def test_most_complete_group_counts_filled_columns_and_takes_the_group_whole():
    rows = [
        rec("1", when="2025-01-09", street="Gatan 1", city="Lund"),
        rec("2", when="2025-01-01", street="Vägen 2", postcode="11122", city="Malmö", country="SE"),
    ]
    out = survive(rows, {"addr": (["street", "postcode", "city", "country"], ["most_complete", "most_recent"])})["C1"]
    assert (out["street"], out["postcode"], out["city"], out["country"]) == ("Vägen 2", "11122", "Malmö", "SE")
    assert {out[f"{c}_source_record_id"] for c in ("street", "postcode", "city", "country")} == {"2"}


def test_group_provenance_is_null_where_the_winner_has_no_value():
    rows = [rec("1", first_name="Ann")]
    out = survive(rows, {"n": (["first_name", "last_name"], ["most_recent"])})["C1"]
    assert (out["first_name_source"], out["last_name"], out["last_name_source"]) == ("crm", None, None)


@pytest.mark.parametrize(
    "column, junk",
    [
        ("email", {"email_is_junk": True}),
        ("phone", {"phone_is_junk": True}),
        ("first_name", {"name_is_junk": True}),
        ("birth_date", {"dq_flags": ["impossible_birth_date"]}),
    ],
)
def test_valid_only_drops_junk_even_when_listed_last(column, junk):
    good = date(1990, 1, 1) if column == "birth_date" else "good"
    bad = date(2090, 1, 1) if column == "birth_date" else "bad"
    rows = [rec("1", when="2025-01-09", **{column: bad}, **junk), rec("2", when="2025-01-01", **{column: good})]
    assert survive(rows, {"x": ([column], ["most_recent", "valid_only"])})["C1"][column] == good
    assert survive(rows, {"x": ([column], ["most_recent"])})["C1"][column] == bad


def test_valid_only_with_nothing_valid_gives_null():
    out = survive([rec("1", email="test@test.com", email_is_junk=True)], {"e": (["email"], ["valid_only"])})["C1"]
    assert out["email"] is None and out["email_source"] is None


def test_first_discriminating_rule_wins():
    rows = [rec("1", "pos", "2025-01-09", first_name="Recent"), rec("2", "crm", "2025-01-01", first_name="Crm")]
    assert (
        survive(rows, {"n": (["first_name"], [{"source_priority": ["crm", "pos"]}, "most_recent"])})["C1"]["first_name"]
        == "Crm"
    )
    assert (
        survive(rows, {"n": (["first_name"], ["most_recent", {"source_priority": ["crm", "pos"]}])})["C1"]["first_name"]
        == "Recent"
    )


def test_full_ties_go_to_the_smallest_source_record_id_whatever_the_row_order_and_source():
    a, b = rec("401", first_name="Daniel"), rec("400", first_name="Dan")
    for rows in ([a, b], [b, a]):
        out = survive(rows, {"n": (["first_name"], ["most_recent", "most_frequent"])})["C1"]
        assert (out["first_name"], out["first_name_source_record_id"]) == ("Dan", "400")
    # the record id decides before the source does: the smaller id wins from a source later in the alphabet
    a, b = rec("401", "crm", first_name="Daniel"), rec("400", "pos", first_name="Dan")
    for rows in ([a, b], [b, a]):
        out = survive(rows, {"n": (["first_name"], ["most_recent", "most_frequent"])})["C1"]
        assert (out["first_name"], out["first_name_source"]) == ("Dan", "pos")


def test_customers_without_values_still_get_a_row():
    out = survive(
        [rec("1", customer="C1", email="a@x.se"), rec("2", customer="C2")], {"e": (["email"], ["most_recent"])}
    )
    assert set(out) == {"C1", "C2"} and out["C2"]["email"] is None


def test_prefer_contactable_puts_blocked_values_last_then_next_rule_decides():
    rows = [
        rec("1", when="2025-01-09", email="work@x.se", email_blocked=True),
        rec("2", when="2025-01-02", email="home@x.se", email_blocked=False),
        rec("3", when="2025-01-01", email="old@x.se"),  # not in the ledger: not blocked
        rec("4", when="2025-01-09", customer="C2", phone="+46701", phone_blocked=True),
        rec("5", when="2025-01-01", customer="C2", phone="+46702", phone_blocked=True),
    ]
    out = survive(
        rows,
        {
            "e": (["email"], ["prefer_contactable", "most_recent"]),
            "p": (["phone"], ["prefer_contactable", "most_recent"]),
        },
    )
    assert (out["C1"]["email"], out["C1"]["email_source_record_id"]) == ("home@x.se", "2")
    # every value blocked: the rule does not discriminate, a blocked value still survives (not contactable)
    assert out["C2"]["phone"] == "+46701"


def test_default_yaml_is_valid_and_covers_every_attribute():
    config = load_survivorship_config()
    assert sorted(c for g in config for c in g.columns) == sorted(SURVIVED_ATTRIBUTES)


@pytest.mark.parametrize(
    "attributes, message",
    [
        ({"e": {"columns": ["email"], "rules": ["newest"]}}, "unknown rule"),
        ({"e": {"columns": ["email"], "rules": ["source_priority"]}}, "needs a list"),
        ({"e": {"columns": ["email"], "rules": [{"source_priority": ["crm; DROP"]}]}}, "not a source name"),
        ({"e": {"columns": ["shoe_size"], "rules": ["most_recent"]}}, "not a survived attribute"),
        ({"e": {"columns": ["email"], "rules": ["most_recent"]}}, "has no rules for"),
        ({"a": {"columns": ["street", "city"], "rules": ["prefer_contactable"]}}, "only email or only phone"),
    ],
)
def test_bad_config_is_rejected_with_a_reason(attributes, message):
    with pytest.raises(ValueError, match=message):
        parse_survivorship_config({"attributes": attributes})


def test_group_tables_are_dropped_and_only_the_target_is_left():
    con = duckdb.connect()
    con.execute(f"CREATE TABLE recs ({', '.join(f'{c} {t}' for c, t in COLUMNS.items())})")
    con.execute("INSERT INTO recs (customer_id, source, source_record_id, email) VALUES ('C1', 'crm', '1', 'a@x.io')")
    run_survivorship(con, records="recs", customers="recs", target="out")
    temp = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY table_name").fetchall()
    assert temp == [("out",)]
    assert con.execute("SELECT email, email_source_record_id FROM out").fetchall() == [("a@x.io", "1")]


def test_as_a_view_it_reads_the_group_tables_the_caller_then_drops():
    con = duckdb.connect()
    con.execute(f"CREATE TABLE recs ({', '.join(f'{c} {t}' for c, t in COLUMNS.items())})")
    con.execute(
        "INSERT INTO recs (customer_id, source, source_record_id, email, city) "
        "VALUES ('C1', 'crm', '1', 'a@x.io', NULL), ('C1', 'pos', '2', NULL, 'Lund'), ('C2', 'web', '3', NULL, NULL)"
    )
    config = load_survivorship_config()
    run_survivorship(con, config, records="recs", customers="recs", target="out", view=True)
    groups = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name LIKE 'out_%'").fetchall()
    assert groups == [(len(config) + 1,)]  # and the table of swapped names the unswapped_name rule reads
    rows = con.execute(
        "SELECT customer_id, email, email_source_record_id, city, city_source_record_id FROM out ORDER BY customer_id"
    ).fetchall()
    assert rows == [("C1", "a@x.io", "1", "Lund", "2"), ("C2", None, None, None, None)]
    con.execute("DROP VIEW out")
    drop_group_tables(con, config, "out")
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall() == [(0,)]


def _names_with_the_packaged_rules(rows: list[dict], config_dir=None) -> dict[str, tuple]:
    """customer_id -> (first_name, last_name, their source, their source record) under the packaged name rules."""
    rules = next(g for g in load_survivorship_config() if g.columns == ("first_name", "last_name")).rules
    spec = [r.name if not r.sources else {r.name: list(r.sources)} for r in rules]
    out = survive(rows, {"name": (["first_name", "last_name"], spec)}, config_dir)
    return {
        cid: (r["first_name"], r["last_name"], r["first_name_source"], r["last_name_source_record_id"])
        for cid, r in out.items()
    }


def test_a_crm_record_with_swapped_names_gives_way_to_the_customers_record_in_the_right_order():
    rows = [
        # C1: CRM wrote "Lindberg Eva"; the shop and the ESP "Eva Lindberg": the ESP record is published
        # (the nearest source in the priority list after the swapped one), and provenance names it.
        rec("crm-1", "crm", "2025-01-09", customer="C1", first_name="Lindberg", last_name="Eva"),
        rec("esp-1", "esp", "2025-01-01", customer="C1", first_name="Eva", last_name="Lindberg"),
        rec("web-1", "web", "2025-01-02", customer="C1", first_name="Eva", last_name="Lindberg"),
        # C2: one record in each order; case and a double first name do not hide the swap.
        rec("crm-2", "crm", "2025-01-09", customer="C2", first_name="NYSTRÖM", last_name="Anna-Karin"),
        rec("pos-2", "pos", "2025-01-01", customer="C2", first_name="Anna-Karin", last_name="Nyström"),
        # C3: the record confirming the swapped one's names beats the customer's others: the ESP's "Mats
        # Bergström", not the shop's mistyped "Mats Begström" nor its "M. Bergström".
        rec("crm-3", "crm", "2025-01-09", customer="C3", first_name="Bergström", last_name="Mats"),
        rec("pos-3", "pos", "2025-01-05", customer="C3", first_name="Mats", last_name="Begström"),
        rec("pos-4", "pos", "2025-01-06", customer="C3", first_name="M.", last_name="Bergström"),
        rec("esp-3", "esp", "2025-01-01", customer="C3", first_name="Mats", last_name="Bergström"),
    ]
    got = _names_with_the_packaged_rules(rows)
    assert got["C1"] == ("Eva", "Lindberg", "esp", "esp-1")
    assert got["C2"] == ("Anna-Karin", "Nyström", "pos", "pos-2")
    assert got["C3"] == ("Mats", "Bergström", "esp", "esp-3")


def test_a_first_name_from_the_users_name_variants_counts_for_unswapped_name(tmp_path):
    # "Tuvalisa" is in no packaged name table: "Lindqvist Tuvalisa" (CRM) and "Tuvalisa Lindqvist" (ESP) cannot be
    # told apart, so CRM's stands by source priority. The user's name_variants.yaml (merged by identity since
    # session 44) groups Tuvalisa with Tuva: golden reads it too, so the CRM record is the swapped one.
    rows = [
        rec("crm-1", "crm", "2025-01-09", customer="C1", first_name="Lindqvist", last_name="Tuvalisa"),
        rec("esp-1", "esp", "2025-01-01", customer="C1", first_name="Tuvalisa", last_name="Lindqvist"),
    ]
    assert _names_with_the_packaged_rules(rows)["C1"] == ("Lindqvist", "Tuvalisa", "crm", "crm-1")
    (tmp_path / "name_variants.yaml").write_text("groups:\n  tuvalisa: [Tuvalisa, Tuva]\n", encoding="utf-8")
    assert _names_with_the_packaged_rules(rows, tmp_path)["C1"] == ("Tuvalisa", "Lindqvist", "esp", "esp-1")
    # and a golden build judged by other tables is rebuilt whole: the user's file is in the code version
    assert name_tables_fingerprint(tmp_path) != name_tables_fingerprint()


def test_a_surname_that_is_a_first_name_stays_without_evidence_of_a_swap():
    rows = [
        # C1: Eva Martin, with no record the other way round: CRM's name stands.
        rec("crm-1", "crm", customer="C1", first_name="Eva", last_name="Martin"),
        rec("esp-1", "esp", customer="C1", first_name="Eva", last_name="Martinsson"),
        # C2: "Anna Henrik" in CRM and "Henrik Anna" in the shop: both are first names, the tables cannot say
        # which order is right, so source priority decides as before.
        rec("crm-2", "crm", customer="C2", first_name="Anna", last_name="Henrik"),
        rec("pos-2", "pos", customer="C2", first_name="Henrik", last_name="Anna"),
        # C3: the right order in CRM, the swapped one in the shop: CRM stands.
        rec("crm-3", "crm", customer="C3", first_name="Eva", last_name="Lindberg"),
        rec("pos-3", "pos", customer="C3", first_name="Lindberg", last_name="Eva"),
        # C4: "Lindberg Eva" alone (no record the other way round) is not rewritten.
        rec("crm-4", "crm", customer="C4", first_name="Lindberg", last_name="Eva"),
        # C5: the other order in ANOTHER customer's record is no evidence.
        rec("crm-5", "crm", customer="C5", first_name="Lindberg", last_name="Eva"),
        rec("esp-5", "esp", customer="C5", first_name="Eva", last_name="Lind"),
    ]
    got = _names_with_the_packaged_rules(rows)
    assert got == {
        "C1": ("Eva", "Martin", "crm", "crm-1"),
        "C2": ("Anna", "Henrik", "crm", "crm-2"),
        "C3": ("Eva", "Lindberg", "crm", "crm-3"),
        "C4": ("Lindberg", "Eva", "crm", "crm-4"),
        "C5": ("Lindberg", "Eva", "crm", "crm-5"),
    }


def test_unswapped_name_applies_to_the_name_group_only():
    with pytest.raises(ValueError, match="unswapped_name applies to the group"):
        parse_survivorship_config(
            {"attributes": {"n": {"columns": ["first_name"], "rules": ["unswapped_name"]}}}
            | {a: {"rules": ["most_recent"]} for a in SURVIVED_ATTRIBUTES if a != "first_name"}
        )


def test_the_reversed_name_candidates_are_the_records_whose_names_another_record_of_the_customer_reverses():
    """select_reversed_name_records.sql (swapped_name_rows' candidates): the records whose two names another
    record of the same customer carries the other way round, in any case; never on a junk name, a first name
    equal to the last, a missing name or another customer's record."""
    from cdp_pipeline.lib.common.sql_files import fetch_sql
    from cdp_pipeline.lib.golden.survivorship import SQL_DIR

    con = duckdb.connect()
    con.execute(
        "CREATE TEMP TABLE recs (customer_id VARCHAR, first_name VARCHAR, last_name VARCHAR, name_is_junk BOOLEAN)"
    )
    rows = [
        ("C1", "Lindberg", "Eva", None),  # 0: reversed by 1 (case does not matter)
        ("C1", "EVA", "lindberg", False),  # 1: reversed by 0
        ("C1", "Eva", "Lindberg", None),  # 2: reversed by 0 too
        ("C2", "Anna", "Anna", None),  # 3: its own reverse: no evidence
        ("C2", "Anna", "Anna", None),  # 4: the same
        ("C3", "Test", "Test", True),  # 5: junk
        ("C3", "Nils", "Test", None),  # 6: its reverse (7) is junk
        ("C3", "Test", "Nils", True),  # 7: junk
        ("C4", "Lind", "Eva", None),  # 8: the reverse is another customer's (9)
        ("C5", "Eva", "Lind", None),  # 9
        ("C6", None, "Eva", None),  # 10: no first name
        ("C6", "Eva", None, None),  # 11: no last name
        ("C7", "Åsa", "Öberg", None),  # 12: reversed by 13, non-ASCII letters lowered
        ("C7", "ÖBERG", "ÅSA", None),  # 13: reversed by 12
    ]
    con.executemany("INSERT INTO recs VALUES (?, ?, ?, ?)", rows)
    got = fetch_sql(con, SQL_DIR, "select_reversed_name_records", records="recs")
    assert got == [
        (0, "Lindberg", "Eva"),
        (1, "EVA", "lindberg"),
        (2, "Eva", "Lindberg"),
        (12, "Åsa", "Öberg"),
        (13, "ÖBERG", "ÅSA"),
    ]
