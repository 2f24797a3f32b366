"""Name variants: the groups (English table + YAML), and how the model (and stitching) grade two
first names with them, on known answers."""

import itertools
import textwrap

import duckdb
import pytest

from cdp_pipeline.lib.identity.name_keys import FIRST_NAMES, MODEL_COLUMNS, name_keys, write_first_name_table
from cdp_pipeline.lib.identity.name_variants import (
    PACKAGED_NAME_VARIANTS_PATH,
    load_name_variants,
    other_first_names,
    real_first_names,
)
from cdp_pipeline.lib.identity.splink_model import SWAPPED, first_name_grade_sql
from cdp_pipeline.lib.staging.names import match_name


@pytest.fixture(scope="module")
def variants():
    return load_name_variants()


def _m(name):
    return match_name(name)


@pytest.mark.parametrize(
    "a, b",
    [
        ("Tessan", "Therese"),
        ("Tompa", "Thomas"),
        ("Kicki", "Christina"),
        ("Stina", "Kristina"),
        ("Kris", "Kristian"),
        ("Frede", "Frederik"),
        ("Lasse", "Lars"),
        ("Janne", "Jan"),
        ("Bosse", "Bo"),
        ("Mohammed", "Muhammad"),
        ("Mohamed", "Mehmet"),
        ("Aleksandr", "Sasha"),
        ("Gösta", "Gustav"),
        ("Micke", "Michael"),
        ("Kalle", "Carl"),
        ("Małgorzata", "Gosia"),
        ("Jekaterina", "Katja"),
        ("Hussein", "Hussain"),
        ("Yusuf", "Youssef"),
        ("Olle", "Ola"),
        ("Søren", "Soeren"),
        ("Sara", "Sarah"),
        # documented Nordic short forms (name_variants.yaml says where from)
        ("Tess", "Therese"),
        ("Ulla", "Ulrika"),
        ("Kajsa", "Katarina"),
        ("Kajsa", "Karin"),
        ("Sander", "Alexander"),
        ("Anki", "Annika"),
        ("Leffe", "Leif"),
        ("Inger", "Ingegerd"),
        ("Jussi", "Johannes"),
        ("Perra", "Per"),
        ("Hinke", "Henrik"),
        # transliteration standards' and other languages' forms (s42-names, the world-names set's splits)
        ("Ayşe", "Aisha"),
        ("Zeynep", "Zainab"),
        ("Jusuf", "Yusuf"),
        ("Achmed", "Ahmet"),
        ("Brahim", "Ibrahim"),
        ("Uthman", "Usman"),
        ("Iurii", "Yuri"),
        ("Yuriy", "Jurij"),
        ("Mihail", "Mykhailo"),
        ("Tetiana", "Tatjana"),
        ("Andrii", "Andrei"),
        ("Kristjan", "Christian"),  # a real name (et_EE, sl_SI) R5 no longer reads as Christian's typo
        # the English table (nicknames package)
        ("William", "Bill"),
        ("Robert", "Bob"),
        ("Elizabeth", "Liz"),
        ("Margaret", "Peggy"),
    ],
)
def test_known_variants(variants, a, b):
    assert variants.are_variants(_m(a), _m(b))
    assert variants.are_variants(_m(b), _m(a))


@pytest.mark.parametrize(
    "a, b",
    [
        ("Carl-Henrik", "Caroline"),
        ("Johan", "Johanna"),
        ("Anna", "Hanna"),
        ("Maria", "Mario"),
        ("Erik", "Erika"),
        ("Hassan", "Hussein"),
        ("Per", "Peter"),
        ("Olof", "Aleksandra"),
        ("Kristin", "Kristina"),
        ("Anders", "Andreas"),
        ("Karin", "Katarina"),  # both Kajsa's, not one name for that
        ("Sander", "Sandra"),
        ("Ulla", "Ulf"),
        ("Inger", "Ingrid"),  # each a common name of its own; Inger only beside Ingegerd
        ("Perra", "Peter"),  # Per's pet form; Per and Peter are two names (Pelle is both's)
        # joined by the English table, taken apart by not_variants
        ("Wilma", "William"),
        ("Anna", "Hannah"),
        ("Jan", "Janet"),
        ("Patrick", "Peter"),
    ],
)
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
    names = {name for members in variants.members.values() for name in members}
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
    assert not before.are_variants("gudrun", "guje")
    assert before.are_variants("olof", "olle") and before.are_variants("olof", "ola")
    assert before.are_variants("aleksandr", "sasha")
    assert before.are_variants("robert", "bob") and before.are_variants("robert", "bill")
    _write(
        tmp_path / "name_variants.yaml",
        """\
        groups:
          Gudrun: [Guje]
          olof: [Olof, Olle]
          aleksandr: []
          "en:Robert": [Robert, Bob]
        not_variants:
          - [Bill, William]
        """,
    )
    after = load_name_variants(tmp_path)
    assert after.are_variants("gudrun", "guje")  # added (the key is a member)
    assert after.are_variants("olof", "olle") and not after.are_variants("olof", "ola")  # replaced
    assert not after.are_variants("aleksandr", "sasha")  # removed
    assert after.are_variants("aleksandra", "sasha")  # other groups untouched
    assert after.members["en:robert"] == {"robert", "bob"}  # an English group replaced
    assert not after.are_variants("bill", "william")
    assert after.are_variants("lasse", "lars")  # the packaged groups are still read


def test_user_yaml_is_reread_when_it_changes(tmp_path):
    path = tmp_path / "name_variants.yaml"
    _write(path, "groups:\n  gudrun: [Guje]\n")
    first = load_name_variants(tmp_path)
    assert load_name_variants(tmp_path) is first  # cached
    _write(path, "groups:\n  gudrun: [Guje, Gullan]\n")
    assert load_name_variants(tmp_path).are_variants("gudrun", "gullan")


def test_config_dir_without_a_file_gives_the_packaged_groups(tmp_path):
    assert load_name_variants(tmp_path) is load_name_variants()
    assert load_name_variants(PACKAGED_NAME_VARIANTS_PATH.parent) is load_name_variants()


@pytest.mark.parametrize(
    "text",
    [
        "groups: [olof, olle]\n",
        "groups:\n  olof: Olle\n",
        "not_variants:\n  - [Olof]\n",
    ],
)
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
    ("Maja", "Maria", "variant"),
    ("William", "Bill", "variant"),
    ("Robert", "Bob", "variant"),
    ("Mohammed", "Muhammad", "variant"),
    ("Youssef", "Yusuf", "variant"),
    ("Aleksandr", "Sasha", "variant"),
    ("Jekaterina", "Katja", "variant"),
    ("Gösta", "Gustav", "variant"),
    ("Tiina", "Kristiina", "variant"),
    ("Inger", "Ingegerd", "variant"),
    ("Jussi", "Johannes", "variant"),
    ("Perra", "Per", "variant"),
    ("Hinke", "Henrik", "variant"),
    ("Per-Erik", "Perra", "double_name_part"),
    ("Anna-Karin", "Anna", "double_name_part"),
    ("Anna-Karin", "Karin", "double_name_part"),
    ("Karin Anna", "Anna-Karin", "double_name_part"),
    ("Per-Olof", "P-O", "double_name_part"),
    ("P.O.", "Per-Olof", "double_name_part"),
    ("P-O", "P.O.", "double_name_part"),
    ("Per-Olof", "Per", "double_name_part"),
    ("Anna-Karin", "Anna K.", "double_name_part"),
    ("Karl-Johan", "Karl", "double_name_part"),
    # a part written as its short form (the table's lars: lasse; karl: kalle; jan: janne)
    ("Lars-Åke", "Lasse", "double_name_part"),
    ("Karl-Johan", "Kalle", "double_name_part"),
    ("Åke Lars", "Lasse", "double_name_part"),
    ("Jan-Erik", "Janne", "double_name_part"),
    # a double name of the tables written together is its two words (Nordic seed 113's "EvaLena"
    # beside "Eva"), and a double name one edit from the other once the spaces are dropped is a
    # typo (seed 101's "Anne-Marrie" beside "Annemarie")
    ("EvaLena", "Eva", "double_name_part"),
    ("Evalena", "Lena", "double_name_part"),
    ("Annakarin", "Anna", "double_name_part"),
    ("Perolof", "P-O", "double_name_part"),
    ("Anne-Marrie", "Annemarie", "typo"),
    ("Anna-Karin", "Annakarn", "typo"),
    ("Ann-Sofie", "Annsofi", "typo"),
    ("A.", "Anders", "initial"),
    ("Anna-Karin", "A", "initial"),
    ("O-P", "Ole", "initial"),
    ("L-G", "Lars", "initial"),
    ("Anna K.", "Annika", "different"),
    ("Owe", "Outi", "different"),
    ("Andres", "Anders", "typo"),
    ("Kristna", "Kristina", "typo"),
    ("Micheal", "Michael", "typo"),
    ("Cristoffer", "Christofer", "typo"),  # two edits, Jaro-Winkler 0.94
    ("Anna", "Hanna", "typo"),
    # an unambiguous typo of a variant of the other name: "hons" is one edit from Hans and from no
    # other name of the variant table or the real-name tables (Nordic set, seed 37), "ineggerd"
    # from Ingegerd only (seed 11)
    ("Hons", "Hasse", "typo"),
    ("Ineggerd", "Inger", "typo"),
    # not: "hnas" is one edit from Anas too; two typos of one group are each one edit from a name,
    # not from each other. "Bittan", one edit from Bettan (Elisabeth's) and Gittan, is Birgitta's
    # own -an form of Bitte (s45-ident-nick): a variant of hers, still none of Elisabeth's
    ("Hnas", "Hasse", "different"),
    ("Bittan", "Birgitta", "variant"),
    ("Bittan", "Elisabeth", "different"),
    ("Hons", "Hasze", "different"),
    # a name of another culture one edit from a group's name is that name, not its typo: Oleg is
    # one edit from Ole (Olof's group), Perla from Perra (Per's), Umair from Umar (Omar's), Seif
    # from Leif, Domas from Tomas (Thomas's), Zaid from Said, Hatima from Fatima, Yasir from Yasin:
    # two people's names beside the group's other names (all "typo", one name, before s42-names)
    ("Oleg", "Olof", "different"),
    ("Perla", "Pelle", "different"),
    ("Umair", "Omar", "different"),
    ("Seif", "Leffe", "different"),
    ("Domas", "Tommy", "different"),
    ("Zaid", "Saeed", "different"),
    ("Hatima", "Fatma", "different"),
    ("Yasir", "Yassin", "two_edits"),
    # two edits apart and alike (FEBRL-class typos): a level of their own, two names to stitching
    ("Rachel", "Rqcel", "two_edits"),
    ("Thomas", "Thomrds", "two_edits"),
    ("Jackson", "Jadksno", "two_edits"),
    ("Emil", "Erik", "different"),  # two edits apart, Jaro-Winkler 0.67
    ("Jonas", "Johan", "different"),  # two edits apart, Jaro-Winkler 0.79
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
    ("Søs", "Søren", "different"),  # a girl's pet name (from søster), not Søren's short form
    ("Anna-Karin", "Annika", "different"),  # Annika is in no group of Anna's or Karin's
    ("Lars-Åke", "Karl-Johan", "different"),
    ("Lars-Åke", "Kalle", "different"),
    ("Lars-Åke", "Lars-Göran", "different"),  # two double names sharing a part's group
    ("Bengt-Olof", "Bo", "different"),
    ("Per-Olof", "Per-Erik", "different"),
    # a joined double name is not a part of another double name or of a name that shares letters
    ("Annakarin", "Annika", "different"),
    ("Annakarin", "Anna-Maria", "different"),
    ("Evalena", "Evelina", "different"),
    ("Hanah", "Hans H", "different"),  # "hansh" is one edit from "hanah": a name with an initial is read by its initial
    ("Eva-Lena", "Eva-Lisa", "different"),
]


# The model's first-name grades, by the short names the cases above use
GRADES = {
    "exact": "Exact match on first_name_match",
    "variant": "name variant (nickname)",
    "double_name_part": "part of a double name",
    "initial": "initial",
    "typo": "typo",
    "two_edits": "two edits apart",
    "different": "All other comparisons",
    None: "first_name_match is NULL",
}
# "different" names that are a name and its feminine form have a level of their own
FEMININE = {
    ("Johan", "Johanna"),
    ("Maria", "Mario"),
    ("Erik", "Erika"),
    ("Kristian", "Kristina"),
    ("Jan", "Jana"),
    ("Andreas", "Andrea"),
}


def test_the_cases_cover_every_grade():
    assert {expected for _, _, expected in RELATION_CASES} == set(GRADES) - {None}


def _grades(variants, pairs, surnames=None):
    """The grade the model's first-name comparison gives each pair (``first_name_grade_sql``);
    ``surnames``: the pairs' last names (none by default)."""
    surnames = surnames or [(None, None)] * len(pairs)
    con = duckdb.connect(":memory:")
    try:
        con.execute(
            "CREATE TABLE pairs AS SELECT unnest(range(len($a))) AS i, unnest($a::VARCHAR[]) AS a,"
            " unnest($b::VARCHAR[]) AS b, unnest($la::VARCHAR[]) AS la, unnest($lb::VARCHAR[]) AS lb",
            {
                "a": [a for a, _ in pairs],
                "b": [b for _, b in pairs],
                "la": [a for a, _ in surnames],
                "lb": [b for _, b in surnames],
            },
        )
        write_first_name_table(con, "SELECT a FROM pairs UNION SELECT b FROM pairs", variants)
        side = lambda s: ", ".join(f"f{s}.{field} AS {column}_{s}" for field, column in MODEL_COLUMNS.items())  # noqa: E731
        return [
            r[0]
            for r in con.execute(f"""
            SELECT {first_name_grade_sql()}
            FROM (SELECT p.i, p.a AS first_name_match_l, p.b AS first_name_match_r,
                         p.la AS last_name_match_l, p.lb AS last_name_match_r, {side("l")}, {side("r")}
                  FROM pairs p LEFT JOIN {FIRST_NAMES} fl ON fl.name = p.a LEFT JOIN {FIRST_NAMES} fr ON fr.name = p.b)
            ORDER BY i""").fetchall()
        ]
    finally:
        con.close()


@pytest.mark.parametrize("a, b, expected", RELATION_CASES)
def test_first_name_grades(variants, a, b, expected):
    grade = "masculine and feminine form" if (a, b) in FEMININE else GRADES[expected]
    assert _grades(variants, [(_m(a), _m(b)), (_m(b), _m(a))]) == [grade, grade]


def test_a_swapped_name_beside_an_initial_is_one_name(variants):
    """ "Andersson Benny" (a billing name written surname first) and "B. Andersson": swapped, with
    the first name's initial (the hard-case sample's swapped-name persons split so: 3 of 6).
    Another surname, or another initial, is not."""
    pairs = [("andersson", "b"), ("b", "andersson"), ("andersson", "k"), ("andersson", "b")]
    surnames = [("benny", "andersson"), ("andersson", "benny"), ("benny", "andersson"), ("benny", "berg")]
    assert _grades(variants, pairs, surnames) == [SWAPPED, SWAPPED, GRADES["different"], GRADES["different"]]


def test_a_missing_first_name_is_no_evidence(variants):
    assert _grades(variants, [(None, "anna"), ("anna", None)]) == [GRADES[None]] * 2


def test_the_grades_are_symmetric_on_many_names(variants):
    names = sorted(
        {_m(n) for a, b, _ in RELATION_CASES for n in (a, b)}
        | {
            "ola",
            "olle",
            "olof",
            "pelle",
            "jocke",
            "johannes",
            "hannes",
            "juha",
            "jussi",
            "p",
            "po",
            "bo",
            "b o",
            "per o",
            "p olof",
            "kasia",
            "sascha",
            "mehmet",
            "ahmet",
        }
    )
    pairs = list(itertools.product(names, names))
    grades = dict(zip(pairs, _grades(variants, pairs)))
    assert all(grades[(a, b)] == grades[(b, a)] for a, b in pairs)
    assert {grades[(n, n)] for n in names} == {GRADES["exact"]}


def test_a_typo_of_a_variant_only_when_every_name_one_edit_away_shares_its_group(variants):
    # one edit from Hans (Hasse's group) and from no other known name
    assert variants.typo_keys("hons") == variants.groups("hans") == {"hans"}
    assert "hasse" in variants.members["hans"]
    # one edit from Pete (Peter's group) and from Petra and Petar, real names in no group: none
    assert variants.groups("pete") and not variants.groups("petra")
    assert variants.typo_keys("peta") == frozenset()
    # one edit from Bettan (Elisabeth's) and Gittan (Birgitta's), groups that share nothing, and
    # itself Birgitta's (the -an form of Bitte): a name of a group is no typo of another
    assert variants.groups("bettan").isdisjoint(variants.groups("gittan"))
    assert variants.groups("bittan") == variants.groups("gittan") == {"birgitta"}
    assert variants.typo_keys("bittan") == frozenset()
    # a name in a group, a real name and a name under four letters are no typos of another
    assert variants.typo_keys("hans") == variants.typo_keys("bitten") == variants.typo_keys("lna") == frozenset()
    assert variants.typo_keys("anna karin") == variants.typo_keys(None) == frozenset()


def test_a_pet_form_gets_its_definite_form(variants):
    """The -an form of a YAML group's pet form of one syllable and a doubled consonant (Bitte ->
    Bittan), unless that is a name of its own or another group's (s45-ident-nick)."""
    assert variants.are_variants("bittan", "birgitta") and variants.are_variants("bittan", "bitte")
    assert variants.are_variants("lottan", "charlotte") and variants.are_variants("sussan", "susanne")
    assert not variants.are_variants("bittan", "elisabeth")  # Bettan is Elisabeth's, Bittan is not
    # Hassan (Hasse: Hans's) is a name of its own; Mickan (Micke: Mikael's) is Mikaela's
    assert not variants.are_variants("hassan", "hans") and "hassan" in real_first_names()
    assert not variants.are_variants("mickan", "mikael") and variants.are_variants("mickan", "mikaela")
    # Berra (Bertil's): Berran is a name of its own (other_first_names); the English table gets none
    assert not variants.groups("berran") and "berran" in other_first_names()
    assert variants.are_variants("willan", "wille")  # William's Wille (YAML) ...
    assert not any("willan" in names for gid, names in variants.members.items() if gid.startswith("en:"))


def test_a_definite_pet_form_anchors_no_typo_reading(variants):
    """A derived form is a predicted name: it reads no other name (the FEBRL4-like sets' "lomman"
    would be a typo of Thomas's Tomman, "dannyn" lose Danny's reading beside Daniel's Dannan)."""
    assert {"tomman", "dannan", "bittan"} <= variants.derived
    assert variants.typo_keys("lomman") == frozenset()
    assert "en:danny" in variants.typo_keys("dannyn")
    assert variants.typo_keys("jssan") == {"johanna", "josefin"}  # Jossan's, as on main


def test_a_user_pair_takes_a_definite_pet_form_apart(tmp_path):
    _write(tmp_path / "name_variants.yaml", "groups:\n  gudrun: [Gudde]\nnot_variants:\n  - [Bittan, Birgitta]\n")
    after = load_name_variants(tmp_path)
    assert not after.are_variants("bittan", "birgitta")
    assert after.are_variants("guddan", "gudrun")  # a user's group's pet form gets its -an form too
    assert after.are_variants("lottan", "charlotte")


def test_a_double_name_written_together_is_read_by_its_words(variants):
    # only a double name of the tables (Faker's first-name tables, the groups) without its space;
    # a name of its own (Marianne, Annelie, Annemarie) or any other word is no double name
    assert variants.joined_parts("evalena") == ("eva", "lena")
    assert variants.joined_parts("annakarin") == ("anna", "karin")
    assert variants.joined_parts("perolof") == ("per", "olof")
    for name in ("marianne", "annelie", "annemarie", "elisbeth", "linnnea", "eva lena", "", None):
        assert variants.joined_parts(name) == ()
    keys = name_keys("evalena", variants)
    assert (keys.words, keys.single, keys.initials, keys.typo_keys) == (["eva", "lena"], False, ["e", "l"], [])
    assert name_keys("eva lena", variants).part_keys == keys.part_keys


def test_a_name_of_another_culture_is_no_typo_of_a_variant(variants):
    """Names in Faker's first-name tables of other cultures (pl_PL, tr_TR, es_ES, en_PK, sw, ...)
    one edit from a group's name: names, not typos (each was read as one before s42-names)."""
    for name, near in [("oleg", "ole"), ("perla", "perra"), ("yasir", "yasin"), ("zaid", "said")]:
        assert variants.groups(near) and not variants.groups(name)
        assert name not in real_first_names() and name in other_first_names()
        assert variants.typo_keys(name) == frozenset()
    # the Nordic typos stay read: other cultures' names do not make them ambiguous
    assert variants.typo_keys("hons") == {"hans"}
    assert variants.typo_keys("ineggerd") == {"ingegerd"}


def test_the_first_name_table_is_sorted_and_deterministic(variants):
    con = duckdb.connect(":memory:")
    try:
        names = "SELECT unnest(['lasse', 'anna karin', 'bill', 'po', 'bo', 'zoe']) AS n"
        assert write_first_name_table(con, names, variants) == 6
        first = con.execute(f"SELECT * FROM {FIRST_NAMES}").fetchall()
        write_first_name_table(con, names, load_name_variants())
        assert con.execute(f"SELECT * FROM {FIRST_NAMES}").fetchall() == first
        assert [r[0] for r in first] == sorted(r[0] for r in first)
        rows = {r[0]: r[1:] for r in first}
        assert "lars" in rows["lasse"][0] and "en:william" in rows["bill"][0]
        # name, keys, has_keys, part_keys, has_part_keys, words, initials, abbreviated, full_words, single,
        # typo_keys, has_typo_keys, real
        anna = sorted(set(variants.groups("anna")) | set(variants.groups("karin")))  # its parts' groups
        assert rows["anna karin"][1:] == (
            False,
            anna,
            True,
            ["anna", "karin"],
            ["a", "k"],
            False,
            ["anna", "karin"],
            False,
            [],
            False,
            False,  # real: single names only (a double name is graded by its words)
        )
        assert rows["lasse"][-1] and rows["bill"][-1]  # known first names: a variant group's
        assert rows["lasse"][2:4] == (rows["lasse"][0], True)  # a single name's part keys: its keys
        assert rows["po"][5:7] == (["p", "o"], True)  # initials written together
        assert rows["bo"][1] and rows["bo"][5:7] == (["b"], False)  # a name, not initials
    finally:
        con.close()


def test_the_stored_first_name_tables_are_fakers():
    """first_names.json holds Faker's first-name tables in match form (read from the pinned Faker's
    locale modules); after a Faker upgrade or a change of the locales, write_first_name_tables()
    writes them again."""
    import json

    from cdp_pipeline.lib.identity.name_variants import FIRST_NAMES, faker_first_name_tables

    stored = json.loads(FIRST_NAMES.read_text(encoding="utf-8"))
    assert stored == faker_first_name_tables()
    assert real_first_names() == frozenset(stored["real"]) and other_first_names() == frozenset(stored["other"])
    # a Nordic, an English and a German name; Turkish, Polish and Urdu-English ones in the others
    assert {"kerstin", "ashley", "gunther"} <= real_first_names()
    assert {"zeynep", "grzegorz", "umair"} <= other_first_names()


@pytest.mark.parametrize(
    "name, real",
    [
        ("ali", True),  # a variant group's (Faker's English table)
        ("alin", True),  # a name of its own in the first-name tables, one edit from Ali
        ("yasir", True),  # en_PK
        ("zaid", True),
        ("domas", True),  # lt_LT
        ("tomas", True),  # Thomas's group
        ("elis", True),
        ("grda", False),  # typos: no table holds them
        ("johanes", False),
        ("josefiin", False),
        ("anna karin", False),  # a double name: its words are graded, not the whole
    ],
)
def test_a_known_first_name_is_real(variants, name, real):
    """``name_keys``' ``real``: the household cannot-link and the two-names level read two known
    names graded a typo (Ali / Alin) as two names (``splink_model.TWO_REAL_NAMES``)."""
    from cdp_pipeline.lib.identity.name_keys import name_keys

    assert name_keys(name, variants).real is real
