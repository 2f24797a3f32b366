"""Name variants: the groups (English table + YAML), the first-name relation in Python and SQL."""

import itertools
import textwrap

import duckdb
import pytest

from cdp_pipeline.lib.identity.name_variants import (
    PACKAGED_NAME_VARIANTS_PATH,
    RELATIONS,
    create_first_name_relation_macro,
    first_name_relation,
    load_name_variants,
    write_name_variant_table,
)
from cdp_pipeline.lib.standardise.names import match_name


@pytest.fixture(scope="module")
def variants():
    return load_name_variants()


def _m(name):
    return match_name(name)


@pytest.mark.parametrize("a, b", [
    ("Tessan", "Therese"), ("Tompa", "Thomas"), ("Kicki", "Christina"), ("Stina", "Kristina"),
    ("Lasse", "Lars"), ("Janne", "Jan"), ("Bosse", "Bo"), ("Mohammed", "Muhammad"),
    ("Mohamed", "Mehmet"), ("Aleksandr", "Sasha"), ("Gösta", "Gustav"), ("Micke", "Michael"),
    ("Kalle", "Carl"), ("Małgorzata", "Gosia"), ("Jekaterina", "Katja"), ("Hussein", "Hussain"),
    ("Yusuf", "Youssef"), ("Olle", "Ola"), ("Søren", "Soeren"), ("Sara", "Sarah"),
    # the English table (nicknames package)
    ("William", "Bill"), ("Robert", "Bob"), ("Elizabeth", "Liz"), ("Margaret", "Peggy"),
])
def test_known_variants(variants, a, b):
    assert variants.are_variants(_m(a), _m(b))
    assert variants.are_variants(_m(b), _m(a))


@pytest.mark.parametrize("a, b", [
    ("Carl-Henrik", "Caroline"), ("Johan", "Johanna"), ("Anna", "Hanna"), ("Maria", "Mario"),
    ("Erik", "Erika"), ("Hassan", "Hussein"), ("Per", "Peter"), ("Olof", "Aleksandra"),
    ("Kristin", "Kristina"), ("Anders", "Andreas"),
    # joined by the English table, taken apart by not_variants
    ("Wilma", "William"), ("Anna", "Hannah"), ("Jan", "Janet"), ("Patrick", "Peter"),
])
def test_known_non_variants(variants, a, b):
    assert not variants.are_variants(_m(a), _m(b))


def test_a_short_form_of_two_names_does_not_join_them(variants):
    # Ola is Olof's and Aleksandra's; Pelle is Per's and Peter's
    assert variants.are_variants("ola", "olof") and variants.are_variants("ola", "aleksandra")
    assert not variants.are_variants("olof", "aleksandra")
    assert variants.are_variants("pelle", "per") and variants.are_variants("pelle", "peter")


def test_groups_of_a_name(variants):
    assert variants.groups("lasse") == {"lars"}
    assert "en:william" in variants.groups("bill") and "en:robert" in variants.groups("bill")
    assert variants.groups("zxqv") == frozenset()
    assert variants.groups(None) == frozenset()
    assert not variants.are_variants("zxqv", "zxqv")  # in no group: not a variant, even of itself


def test_yaml_entries_are_in_match_form(variants):
    names = {name for name, _ in variants.rows()}
    assert {"gosta", "malgorzata", "torbjorn", "huseyin", "omer"} <= names
    assert all(name == match_name(name) for name in names)
    assert not any(ch.isupper() or not ch.isascii() for name in names for ch in name)


def test_english_table_is_loaded(variants):
    english = {gid for gid in variants.members if gid.startswith("en:")}
    assert len(english) > 1000  # the nicknames package holds about 1100 formal names
    assert {"william", "bill", "will", "willie"} <= variants.members["en:william"]


def _write(path, text):
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_user_yaml_adds_replaces_and_removes_groups(tmp_path):
    before = load_name_variants()
    assert not before.are_variants("ingrid", "inga")
    assert before.are_variants("olof", "olle") and before.are_variants("olof", "ola")
    assert before.are_variants("aleksandr", "sasha")
    assert before.are_variants("robert", "bob") and before.are_variants("robert", "bill")
    _write(tmp_path / "name_variants.yaml", """\
        groups:
          Ingrid: [Inga]
          olof: [Olof, Olle]
          aleksandr: []
          "en:Robert": [Robert, Bob]
        not_variants:
          - [Bill, William]
        """)
    after = load_name_variants(tmp_path)
    assert after.are_variants("ingrid", "inga")  # added (the key is a member)
    assert after.are_variants("olof", "olle") and not after.are_variants("olof", "ola")  # replaced
    assert not after.are_variants("aleksandr", "sasha")  # removed
    assert after.are_variants("aleksandra", "sasha")  # other groups untouched
    assert after.members["en:robert"] == {"robert", "bob"}  # an English group replaced
    assert not after.are_variants("bill", "william")
    assert after.are_variants("lasse", "lars")  # the packaged groups are still read


def test_user_yaml_is_reread_when_it_changes(tmp_path):
    path = tmp_path / "name_variants.yaml"
    _write(path, "groups:\n  ingrid: [Inga]\n")
    first = load_name_variants(tmp_path)
    assert load_name_variants(tmp_path) is first  # cached
    _write(path, "groups:\n  ingrid: [Inga, Ingis]\n")
    assert load_name_variants(tmp_path).are_variants("ingrid", "ingis")


def test_config_dir_without_a_file_gives_the_packaged_groups(tmp_path):
    assert load_name_variants(tmp_path) is load_name_variants()
    assert load_name_variants(PACKAGED_NAME_VARIANTS_PATH.parent) is load_name_variants()


@pytest.mark.parametrize("text", [
    "groups: [olof, olle]\n",
    "groups:\n  olof: Olle\n",
    "not_variants:\n  - [Olof]\n",
])
def test_a_malformed_user_yaml_is_an_error(tmp_path, text):
    _write(tmp_path / "name_variants.yaml", text)
    with pytest.raises(ValueError, match="name_variants.yaml"):
        load_name_variants(tmp_path)


# Raw names as a source writes them; compared after match_name.
RELATION_CASES = [
    ("Anna", "ANNA", "exact"),
    ("Åsa", "Asa", "exact"),
    ("Per-Olof", "Per Olof", "exact"),
    ("Tessan", "Therese", "variant"),
    ("Tompa", "Thomas", "variant"),
    ("Kicki", "Christina", "variant"),
    ("Stina", "Kristina", "variant"),
    ("Lasse", "Lars", "variant"),
    ("Janne", "Jan", "variant"),
    ("Bosse", "Bo", "variant"),
    ("William", "Bill", "variant"),
    ("Robert", "Bob", "variant"),
    ("Mohammed", "Muhammad", "variant"),
    ("Youssef", "Yusuf", "variant"),
    ("Aleksandr", "Sasha", "variant"),
    ("Jekaterina", "Katja", "variant"),
    ("Gösta", "Gustav", "variant"),
    ("Anna-Karin", "Anna", "double_name_part"),
    ("Anna-Karin", "Karin", "double_name_part"),
    ("Karin Anna", "Anna-Karin", "double_name_part"),
    ("Per-Olof", "P-O", "double_name_part"),
    ("P.O.", "Per-Olof", "double_name_part"),
    ("P-O", "P.O.", "double_name_part"),
    ("Per-Olof", "Per", "double_name_part"),
    ("Anna-Karin", "Anna K.", "double_name_part"),
    ("Karl-Johan", "Karl", "double_name_part"),
    ("A.", "Anders", "initial"),
    ("Anna-Karin", "A", "initial"),
    ("Andres", "Anders", "typo"),
    ("Kristna", "Kristina", "typo"),
    ("Micheal", "Michael", "typo"),
    ("Cristoffer", "Christofer", "typo"),  # two edits, Jaro-Winkler 0.94
    ("Anna", "Hanna", "typo"),
    ("Carl-Henrik", "Caroline", "different"),
    ("Johan", "Johanna", "different"),
    ("Maria", "Mario", "different"),
    ("Erik", "Erika", "different"),
    ("Kristian", "Kristina", "different"),
    ("Jan", "Jana", "different"),
    ("Andreas", "Andrea", "different"),
    ("Wilma", "William", "different"),
    ("Anna", "Hannah", "different"),
    ("Hassan", "Hussein", "different"),
    ("Per", "Peter", "different"),
    ("Ida", "Ada", "different"),
    ("Anna-Maria", "Anna-Karin", "different"),
    ("Anna-Karin", "Annika", "different"),
    ("Karl-Johan", "Kalle", "different"),
    ("Bengt-Olof", "Bo", "different"),
    ("Per-Olof", "Per-Erik", "different"),
]


def test_the_relation_cases_cover_every_level():
    assert {expected for _, _, expected in RELATION_CASES} == set(RELATIONS)


@pytest.mark.parametrize("a, b, expected", RELATION_CASES)
def test_first_name_relation(variants, a, b, expected):
    assert first_name_relation(_m(a), _m(b), variants) == expected
    assert first_name_relation(_m(b), _m(a), variants) == expected


def test_first_name_relation_of_a_missing_name(variants):
    assert first_name_relation(None, "anna", variants) is None
    assert first_name_relation("anna", None, variants) is None


def _sql_relations(variants, pairs):
    """The macro's answer for each pair, with group lists looked up in the written table."""
    con = duckdb.connect(":memory:")
    try:
        write_name_variant_table(con, "name_variant", variants)
        create_first_name_relation_macro(con)
        con.execute("CREATE TABLE pairs AS SELECT unnest(range(len($a))) AS i, unnest($a::VARCHAR[]) AS a,"
                    " unnest($b::VARCHAR[]) AS b", {"a": [a for a, _ in pairs], "b": [b for _, b in pairs]})
        rows = con.execute("""
            WITH groups AS (
                SELECT name, list(group_id ORDER BY group_id) AS groups FROM name_variant GROUP BY name
            )
            SELECT first_name_relation(p.a, p.b, ga.groups, gb.groups)
            FROM pairs p
            LEFT JOIN groups ga ON ga.name = p.a
            LEFT JOIN groups gb ON gb.name = p.b
            ORDER BY p.i
        """).fetchall()
        return [r[0] for r in rows]
    finally:
        con.close()


def test_sql_gives_the_same_relation_as_python(variants):
    pairs = [(_m(a), _m(b)) for a, b, _ in RELATION_CASES]
    pairs += [(b, a) for a, b in pairs] + [(None, "anna"), ("anna", None)]
    assert _sql_relations(variants, pairs) == [first_name_relation(a, b, variants) for a, b in pairs]


def test_sql_and_python_agree_on_every_pair_of_many_names(variants):
    names = sorted({_m(n) for a, b, _ in RELATION_CASES for n in (a, b)}
                   | {"ola", "olle", "olof", "pelle", "jocke", "johannes", "hannes", "juha", "jussi",
                      "p", "po", "bo", "b o", "per o", "p olof", "kasia", "sascha", "mehmet", "ahmet"})
    pairs = list(itertools.product(names, names))
    python = [first_name_relation(a, b, variants) for a, b in pairs]
    assert _sql_relations(variants, pairs) == python
    assert set(python) == set(RELATIONS)


def test_name_variant_table_is_sorted_and_deterministic(variants):
    con = duckdb.connect(":memory:")
    try:
        count = write_name_variant_table(con, "nv", variants)
        first = con.execute("SELECT name, group_id FROM nv").fetchall()
        write_name_variant_table(con, "nv", load_name_variants())
        assert con.execute("SELECT name, group_id FROM nv").fetchall() == first
        assert count == len(first) == len(set(first))
        assert first == sorted(first)
        assert ("lasse", "lars") in first and ("bill", "en:william") in first
        assert con.execute("SELECT typeof(name), typeof(group_id) FROM nv LIMIT 1").fetchone() == (
            "VARCHAR", "VARCHAR")
    finally:
        con.close()
