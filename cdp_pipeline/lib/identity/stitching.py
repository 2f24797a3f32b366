"""Deterministic edges: records sharing a strong identifier are the same person.

Each identifier's records form a star around its first record (lowest ``rid``), not
a clique, so a value shared by n records costs n-1 edges. System keys (loyalty card,
CRM customer id / web user id) link unconditionally. Emails, phones and cookies are
shared inside households, so for those "name-guarded" kinds the identifier's
named records must all be compatible (the same first name give or take a nickname or
short form, a part of a double name, an initial, a typo, or first and last name swapped:
graded as the model grades them, ``splink_model.first_name_grade_sql``; or two names that a
third one, no initial, is alike to: a name, its nickname and a typo of it, ``_two_people_ctes``;
on an e-mail, the name its local part spells is such a third name too, ``mailbox_name_sql``);
when they name two people, a star is built per first name, and the records without a first name are left
unlinked rather than guessed onto one of them. So is a record without a first name whose
identifiers (those it would be stitched on), each naming one person, name two between them (a
family inbox and a child's SMS number on one newsletter subscription): stitched, it would join
the two.
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.identity.config import IdentityConfig
from cdp_pipeline.lib.identity.junk_guard import USABLE
from cdp_pipeline.lib.identity.line_type import FIXED_LINES, build_fixed_lines
from cdp_pipeline.lib.identity.name_keys import (
    FIRST_NAMES,
    MODEL_COLUMNS,
    NAME_ROLES,
    add_first_names,
    build_name_roles,
)
from cdp_pipeline.lib.identity.name_variants import NameVariants, load_name_variants
from cdp_pipeline.lib.identity.records import RECORDS
from cdp_pipeline.lib.identity.splink_model import (
    HOUSEHOLD_VALUES,
    MASCULINE_FEMININE,
    SAME_FIRST_NAME_GRADES,
    TWO_REAL_NAMES,
    first_name_grade_sql,
    more_than_one_edit_sql,
)

DETERMINISTIC_EDGES = "temp._id_det_edges"


def mailbox_name_sql(email: str, surname: str) -> str:
    """SQL: the name an e-mail's local part spells at its start: its first run of letters
    (``hans.eriksson98@``: "hans"), less the record's surname where the run ends with it and four
    letters or more are left (``alexanderlinden@`` beside Lindén: "alexander"). Not a name at all
    for most mailboxes (``familjen.larsson@``: "familjen", ``hgranstrom@``: "hgranstrom"); read
    only as a third name that may bridge two (``build_deterministic_edges``)."""
    word = f"regexp_extract(lower(split_part({email}, '@', 1)), '^[a-z]+')"
    last = f"replace(coalesce({surname}, ''), ' ', '')"
    return (
        f"CASE WHEN length({last}) >= 2 AND length({word}) >= length({last}) + 4 AND ends_with({word}, {last})"
        f" THEN left({word}, length({word}) - length({last})) ELSE {word} END"
    )


MAILBOX_NAME = mailbox_name_sql("value", "last_name")
# the e-mails whose records carry two first names: only those can need a bridge
_TWO_FIRST_NAMES = "kind = 'email' AND first_name IS NOT NULL GROUP BY {key} HAVING count(DISTINCT first_name) > 1"


def add_mailbox_names(con: duckdb.DuckDBPyConnection, guarded: list[str], variants: NameVariants | None) -> int:
    """Add the names that e-mails carrying two first names spell (``mailbox_name_sql``) to the
    first-name table, graded like every name (``name_keys``): "karl" of ``karl.hakansson51@`` is
    Kalle's group though no record is named Karl."""
    if "email" not in guarded:
        return 0
    return add_first_names(
        con,
        f"""SELECT DISTINCT {MAILBOX_NAME} FROM {USABLE}
            WHERE kind = 'email' AND value IN (SELECT value FROM {USABLE} WHERE {_TWO_FIRST_NAMES.format(key="value")})
              AND length({MAILBOX_NAME}) >= 4""",
        variants or load_name_variants(),
    )


# (record, identifier) -> the record's first name without its last word, where that word is a surname
# of a record on the identifier (cut_surname_words)
_FIRST_NAME_CUT = "temp._id_first_name_cut"


def cut_surname_words(con: duckdb.DuckDBPyConnection, guarded: list[str], variants: NameVariants | None) -> int:
    """Write ``temp._id_first_name_cut(rid, kind, value, first_name)``: a first name of two words
    or more, on a guarded identifier, whose last word is a word of the surname of a record on the
    same identifier, read without that word. A billing name with a married woman's two surnames
    ("Suasnne Hansson Dahlberg") is split into first name "Suasnne Hansson" and surname "Dahlberg",
    and beside her CRM record "Susanne Hansson" on her mailbox the grades call "Suasnne Hansson"
    and "Susanne" two names, so the mailbox named two people and she was left in two customers
    (Nordic set: five married-name persons over eleven seeds, each on her own mailbox). Only the
    identifier's own records' surnames are read: a double first name ("Anna Karin", "Karl Werner")
    keeps its second word unless a record on the same mailbox or phone carries it as a surname.
    The cut names go into the first-name table, graded like every name (``name_keys``)."""
    con.execute(
        rf"""
        CREATE OR REPLACE TEMP TABLE {_FIRST_NAME_CUT.split(".")[-1]} AS
        WITH m AS (
            SELECT rid, kind, value, regexp_extract(first_name, '^(.*\S) +(\S+)$', 1) AS rest,
                   regexp_extract(first_name, '^(.*\S) +(\S+)$', 2) AS word
            FROM {USABLE}
            WHERE list_contains($guarded::VARCHAR[], kind) AND first_name LIKE '% %'
        ), surnames AS (
            SELECT DISTINCT i.kind, i.value, t.w
            FROM (SELECT * FROM {USABLE} SEMI JOIN m USING (kind, value)) i,
                 unnest(regexp_split_to_array(i.last_name, '[ -]+')) AS t(w)
            WHERE i.last_name IS NOT NULL
        )
        SELECT m.rid, m.kind, m.value, m.rest AS first_name
        FROM m SEMI JOIN surnames s ON s.kind = m.kind AND s.value = m.value AND s.w = m.word
        WHERE m.rest <> '' AND m.word <> ''
          -- nor where the rest is a surname word too: a double surname written first ("Jacobi
          -- Jäckel Karl-Jürgen", the billing name surname first, beside "Karl-Jürgen Jacobi
          -- Jäckel"), which the swapped grade reads whole (1M sample: its mailbox stopped
          -- stitching when cut)
          AND NOT EXISTS (SELECT 1 FROM surnames s WHERE s.kind = m.kind AND s.value = m.value
                                                      AND list_contains(string_split(m.rest, ' '), s.w))
        ORDER BY m.rid, m.kind, m.value
        """,
        {"guarded": guarded},
    )
    add_first_names(con, f"SELECT DISTINCT first_name FROM {_FIRST_NAME_CUT}", variants or load_name_variants())
    return con.execute(f"SELECT count(*) FROM {_FIRST_NAME_CUT}").fetchall()[0][0]


def build_deterministic_edges(
    con: duckdb.DuckDBPyConnection, config: IdentityConfig, variants: NameVariants | None = None
) -> int:
    """Write ``temp._id_det_edges(rid_l, rid_r, kind, value)`` with ``rid_l < rid_r``.

    ``variants``: the name variants the first-name table was built with (``load_name_variants``
    when not given), for the names mailboxes spell (``add_mailbox_names``)."""
    guarded = list(config.name_guarded_kinds)
    build_name_roles(con)
    add_mailbox_names(con, guarded, variants)
    cut_surname_words(con, guarded, variants)
    # the pair's names under the model's column names, for its grading
    pair = ", ".join(
        [
            "a.first_name AS first_name_match_l, b.first_name AS first_name_match_r",
            "nullif(a.last_name, '') AS last_name_match_l, nullif(b.last_name, '') AS last_name_match_r",
            *(f"a.{field} AS {column}_l, b.{field} AS {column}_r" for field, column in MODEL_COLUMNS.items()),
        ]
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _id_det_edges AS
        WITH shared AS (
            -- only a value on two or more records makes edges; most are on one. Each gets a
            -- number (vid) that the statement groups and joins on instead of the (kind, value)
            -- strings; which number a value gets is arbitrary and never leaves the statement
            SELECT kind, value, row_number() OVER () AS vid
            FROM {USABLE} GROUP BY kind, value HAVING count(*) > 1
        ), u AS (
            -- a surname word at the end of the first name read as the surname (cut_surname_words)
            SELECT i.rid, s.vid, i.kind, i.value, coalesce(c.first_name, i.first_name) AS first_name, i.last_name,
                   list_contains($guarded::VARCHAR[], i.kind) AS guarded
            FROM {USABLE} i JOIN shared s USING (kind, value)
            LEFT JOIN {_FIRST_NAME_CUT} c ON c.rid = i.rid AND c.kind = i.kind AND c.value = i.value
        ), mailbox_vids AS (
            SELECT vid FROM u WHERE guarded AND {_TWO_FIRST_NAMES.format(key="vid")}
        ), mailbox_rows AS MATERIALIZED (
            -- the e-mails' records, read for the name their mailbox spells below: materialised, so
            -- that the length test on that name runs on these rows (57,000 at 1M records), not on
            -- every row of u (1.2M) before the semi join, where DuckDB pushes a filter on u's
            -- columns alone (0.3-0.4 CPU s of regexp_extract at 1M)
            SELECT vid, value, last_name FROM u SEMI JOIN mailbox_vids USING (vid)
        ), names AS (
            -- a name written surname first by the data ("Eriksson Kristina": the records carry
            -- "kristina" mostly as a first name and "eriksson" mostly as a surname,
            -- name_keys.build_name_roles) is graded the right way round: "Kristina Eriksson" and
            -- "Stina Eriksson" are one person, "Pia Jansson" and "Fredrik Jansson" two
            SELECT n.*, {", ".join(f"f.{field}" for field in MODEL_COLUMNS)}
            FROM (SELECT DISTINCT vid,
                         CASE WHEN swapped THEN last_name ELSE first_name END AS first_name,
                         CASE WHEN swapped THEN first_name ELSE last_name END AS last_name,
                         -- the last name is a given name (and the first name not a surname)
                         last_given AND NOT swapped AS last_given, false AS bridge_only
                  FROM (SELECT u.vid, u.first_name, coalesce(u.last_name, '') AS last_name,
                               coalesce(gl.given, false) AS last_given,
                               coalesce(gl.given AND NOT gf.given, false) AS swapped
                        FROM u LEFT JOIN {NAME_ROLES} gl ON gl.name = u.last_name
                        LEFT JOIN {NAME_ROLES} gf ON gf.name = u.first_name
                        WHERE u.guarded AND u.first_name IS NOT NULL)
                  UNION ALL
                  -- the name an e-mail's local part spells (hans.eriksson98@: "hans"), on an
                  -- e-mail whose records carry two first names: a third name that may bridge
                  -- them ("ahns", a typo of it, and "hasse", its short form: one person's mailbox
                  -- and name), never a name that makes two people (most mailboxes spell no name)
                  SELECT DISTINCT vid, {MAILBOX_NAME} AS first_name, '' AS last_name, false, true
                  FROM mailbox_rows
                  WHERE length({MAILBOX_NAME}) >= 4) n
            LEFT JOIN {FIRST_NAMES} f ON f.name = n.first_name
        ),
        -- conflicts: the identifiers whose records name two people who cannot be one
        {_two_people_ctes("name_conflicts", "names", ("vid",), pair)},
        accounts AS (
            SELECT u.rid, u.vid, u.first_name, r.crm_customer_id, p.value AS phone
            FROM u JOIN {RECORDS} r USING (rid) JOIN {USABLE} p ON p.rid = u.rid AND p.kind = 'phone'
            WHERE u.kind = 'email' AND u.guarded AND r.crm_customer_id IS NOT NULL
        ), conflicts AS (
            SELECT vid FROM name_conflicts
            UNION
            -- an e-mail two CRM accounts registered with, each with a phone of its own (more than
            -- one typo apart) and not one first name on both: a family inbox, also where the
            -- grades call the two names one (twins Eric and Erik) or one is missing
            -- (build_household_cannot_links says why)
            SELECT a.vid FROM accounts a JOIN accounts b ON a.vid = b.vid AND a.rid < b.rid
            WHERE a.crm_customer_id <> b.crm_customer_id AND damerau_levenshtein(a.phone, b.phone) > 1
              AND a.first_name IS DISTINCT FROM b.first_name
        ),
        nameless_names AS (
            -- the names a record without a first name meets through each guarded identifier it
            -- would be stitched on (not through one that names two people: it is not stitched there)
            SELECT DISTINCT u.rid, n.*
            FROM u JOIN names n ON n.vid = u.vid
            WHERE u.guarded AND u.first_name IS NULL
              AND NOT EXISTS (SELECT 1 FROM conflicts c WHERE c.vid = u.vid)
        ),
        -- bridges: a record without a first name whose identifiers lead to two people (a family
        -- inbox to one, an SMS number to another: a family's subscription) would join them;
        -- which of them it is, nothing says, so it is stitched to neither
        {_two_people_ctes("bridges", "nameless_names", ("rid",), pair)},
        kept AS (
            SELECT * FROM u WHERE NOT (guarded AND rid IN (SELECT rid FROM bridges))
        ), hub_all AS (
            -- each star's centre by grouping, not a window over every record: a third of the time
            SELECT vid, min(rid) AS hub FROM kept GROUP BY vid
        ), hub_per_name AS (
            SELECT vid, first_name, min(rid) AS hub
            FROM kept SEMI JOIN conflicts USING (vid)
            WHERE first_name IS NOT NULL
            GROUP BY vid, first_name
        ), hubs AS (
            SELECT u.rid, u.kind, u.value, CASE WHEN c.vid IS NULL THEN a.hub ELSE n.hub END AS hub
            FROM kept u LEFT JOIN conflicts c ON c.vid = u.vid AND u.guarded
            LEFT JOIN hub_all a ON a.vid = u.vid
            LEFT JOIN hub_per_name n ON n.vid = u.vid AND n.first_name = u.first_name
        )
        SELECT hub AS rid_l, rid AS rid_r, kind, value
        FROM hubs
        WHERE hub IS NOT NULL AND hub <> rid
    """,
        {"guarded": guarded, "same": list(SAME_FIRST_NAME_GRADES)},
    )
    build_household_values(con)
    return con.execute(f"SELECT count(*) FROM {DETERMINISTIC_EDGES}").fetchall()[0][0]


def build_household_values(con: duckdb.DuckDBPyConnection) -> None:
    """Write ``temp._id_household_values(kind, value)``: the e-mails and phones whose records
    stitching did not join into one star (``build_deterministic_edges``): their records name two
    people (a family inbox, a family landline; a star per first name, or a nameless record left
    out). The model reads them (``splink_model``: a household's value beside another one weighs
    nothing)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {HOUSEHOLD_VALUES.split(".")[-1]} AS
        WITH n AS (
            SELECT kind, value, count(*) AS records FROM {USABLE}
            WHERE kind IN ('email', 'phone') GROUP BY kind, value HAVING count(*) > 1
        ), e AS (
            SELECT kind, value, count(*) AS edges FROM {DETERMINISTIC_EDGES}
            WHERE kind IN ('email', 'phone') GROUP BY kind, value
        )
        SELECT n.kind, n.value FROM n LEFT JOIN e USING (kind, value)
        WHERE n.records > 1 + coalesce(e.edges, 0)
        ORDER BY n.kind, n.value
    """)


# one single first name of four letters or more the other's ending, two letters or more shorter:
# a short form clipped from the end (Rika / Ulrika, Gerd / Ingegerd). Not a grade of one name: two
# people's names are so as often (Anna / Johanna, Anne / Marianne, Gerd / Ingegerd: a thousandth
# of two random Swedish women's names, Isof's top 500; benchmarks/results/2026-12-07-s39-nick.md)
CLIPPED_ENDING = (
    "(position(' ' IN fa) = 0 AND position(' ' IN fb) = 0 AND least(length(fa), length(fb)) >= 4"
    " AND abs(length(fa) - length(fb)) >= 2 AND (ends_with(fa, fb) OR ends_with(fb, fa)))"
)


def _two_people_ctes(out: str, names: str, group: tuple[str, ...], pair: str) -> str:
    """CTEs ending in ``out(<group>)``: the ``group`` keys whose ``names`` (distinct first and
    last names with the ``name_keys`` columns) name two people.

    Two names are one person's when the model's first-name comparison grades them so
    (``SAME_FIRST_NAME_GRADES``: equal, a variant, a part of a double name, an initial, a typo,
    swapped), or, unless it calls them a masculine and a feminine form (Erik / Erika), when
    they are one edit apart however short ("mja" / "maja") or one's first name is the other's
    last name where that is a word the records carry more often as a first name (the other's
    name written surname first, ``name_keys.build_name_roles``; the model's family-inbox test,
    ``splink_model.one_name_conditions``): "Jansson Pia" beside "Fredrik Jansson" shares the
    surname, not a first name (twins on the family inbox were stitched so); or one surname across
    the two fields with the first names one typo apart across them ("Sundberg Safie" / "Sofie
    Sundberg"). Two names
    that are not, are still one person's when a third name under the same key, not an
    initial, is alike to both: one person's records carry the name, a nickname and a typo of
    the name ("ingrid", "inga", "ingid"), or the name written surname first beside the
    nickname ("eriksson daniel", "danne eriksson" beside "daniel eriksson"). At 1M, 259 of the
    312 e-mails and phones of one person that the grades alone called two people's were such;
    none of the 39 shared by two people was. An initial bridges nothing: "j" is alike to Jan
    and to Johan. Rows of ``names`` marked ``bridge_only`` (the name an e-mail spells) may be that
    third name but are never one of two people: most mailboxes spell no name at all. Such a name
    is also alike to a record's name that is its clipped ending (``CLIPPED_ENDING``: "rika"
    beside ``ulrika.soderberg@``); two records' names never are so on their own."""
    keys = ", ".join(group)
    a_keys = ", ".join(f"a.{c}" for c in group)
    same_key = " AND ".join(f"a.{c} = b.{c}" for c in group)

    def on(x: str, y: str) -> str:
        return " AND ".join(f"{x}.{c} = {y}.{c}" for c in group)

    return f"""{out}_graded AS (
            SELECT {keys}, fa, la, fb, lb, full_a, full_b, bridge_pair,
                   NOT (list_contains($same::VARCHAR[], grade)
                        OR grade <> '{MASCULINE_FEMININE}'
                           AND ((fa = lb AND gb) OR (la = fb AND ga) OR damerau_levenshtein(fa, fb) <= 1
                                -- one surname across the two fields and the first names one typo apart
                                -- across them: "Sundberg Safie" / "Sofie Sundberg" (Nordic set, seed
                                -- 61), a first name no record carries as such, so no role to read
                                OR (fa = lb AND damerau_levenshtein(la, fb) <= 1)
                                OR (la = fb AND damerau_levenshtein(fa, lb) <= 1))
                        -- the name a mailbox spells and a record's name that is its clipped ending
                        -- (ulrika.soderberg@ beside "Rika", ingegerd_eriksson@ beside "Gerd": Nordic
                        -- set), or the other way round: alike only as a bridge, never two records'
                        -- names on their own (Anna and Johanna, two sisters on familjen.x@, which
                        -- spells no name)
                        OR bridge_pair AND {CLIPPED_ENDING}) AS differ
            FROM (SELECT {keys}, fa, la, fb, lb, ga, gb, full_a, full_b, bridge_pair,
                         {first_name_grade_sql()} AS grade
                  FROM (SELECT {a_keys}, a.first_name AS fa, a.last_name AS la, b.first_name AS fb,
                               a.bridge_only OR b.bridge_only AS bridge_pair,
                               b.last_name AS lb, coalesce(a.last_given, false) AS ga,
                               coalesce(b.last_given, false) AS gb, NOT coalesce(a.abbreviated, false) AS full_a,
                               NOT coalesce(b.abbreviated, false) AS full_b, {pair}
                        FROM {names} a JOIN {names} b
                          ON {same_key} AND (a.first_name < b.first_name
                                             OR (a.first_name = b.first_name AND a.last_name < b.last_name))))
        ), {out}_alike AS (
            SELECT {keys}, fa AS f1, la AS l1, fb AS f2, lb AS l2, full_b AS full2 FROM {out}_graded WHERE NOT differ
            UNION ALL
            SELECT {keys}, fb, lb, fa, la, full_a FROM {out}_graded WHERE NOT differ
        ), {out} AS (
            SELECT DISTINCT {keys} FROM {out}_graded d
            WHERE differ AND NOT bridge_pair AND NOT EXISTS (
                -- a third name, no initial, alike to both
                SELECT 1 FROM {out}_alike x JOIN {out}_alike y
                  ON {on("x", "y")} AND x.f2 = y.f2 AND x.l2 = y.l2
                WHERE x.full2 AND {on("x", "d")} AND x.f1 = d.fa AND x.l1 = d.la AND y.f1 = d.fb AND y.l1 = d.lb
            )
        )"""


TWO_PEOPLE = "temp._id_two_people"
# the household pairs ``build_household_cannot_links`` reads, graded, and the fixed lines among
# the phones of their two known names' pairs
_HOUSEHOLD_PAIRS = "temp._id_household_pairs"
_HOUSEHOLD_FIXED_LINES = "temp._id_household_fixed_lines"
# what two records of one household share beside the surname (``build_household_cannot_links``)
SHARED = ("street", "postcode", "birth_date")


def mailbox_spells_sql(email: str, name: str, surname: str) -> str:
    """SQL: the e-mail's local part spells the first name ``name`` (four letters or more, spaces
    dropped) as a word: followed by a non-letter (``elin_soderstrom@``, ``elin.s88@``, ``elin@``)
    or by the surname (``josefinlarsson@``), not as the beginning of a longer name (``elinor@``)."""
    local = f"lower(split_part({email}, '@', 1))"
    first = f"replace({name}, ' ', '')"
    rest = f"substr({local}, length({first}) + 1)"
    return (
        f"coalesce(length({first}) >= 4 AND starts_with({local}, {first}) AND ({rest} = ''"
        f" OR NOT regexp_matches(left({rest}, 1), '[a-z]')"
        f" OR starts_with({rest}, replace({surname}, ' ', ''))), false)"
    )


def typo_of_two_names_sql() -> str:
    """SQL over a household pair's ``email_l/_r``, ``first_name_match_l/_r``,
    ``last_name_match_l/_r``, ``own_email`` and ``own_phone``: first names one typo apart that
    the records' own mailboxes say are two names. Each record carries a mailbox of its own and no
    phone is shared; one mailbox spells its record's first name and not the other's
    (``mailbox_spells_sql``), and the other mailbox's first word is the other record's first
    name or one typo of it, and neither the first record's name nor a spelling of it: Elin
    (``elin_soderstrom@``) and Elis (``elias_soderstrom@``), twins with one birth date, surname
    and street. One person's name mistyped on one record is spelled right by her mailbox
    (``josefinlarsson@`` beside "Josefiin"), and a mailbox of initials (``g.hakansson@`` beside
    "Grda", ``gerda136@`` beside "Gerda": a private and a work e-mail) spells no name: one person."""
    dl = "damerau_levenshtein"

    def spells(x: str, y: str) -> str:
        return mailbox_spells_sql(f"email_{x}", f"first_name_match_{y}", f"last_name_match_{x}")

    def first_word(x: str) -> str:
        return f"regexp_extract(lower(split_part(email_{x}, '@', 1)), '^[a-z]+', 0)"

    def one_way(x: str, y: str) -> str:
        name_y = f"replace(first_name_match_{y}, ' ', '')"
        name_x = f"replace(first_name_match_{x}, ' ', '')"
        return (
            f"({spells(x, x)} AND NOT {spells(x, y)} AND NOT {spells(y, x)}"
            f" AND coalesce({first_word(y)} <> {name_x}, false)"
            f" AND ({spells(y, y)} OR coalesce(length({name_y}) >= 4 AND {dl}({first_word(y)}, {name_y}) <= 1, false)))"
        )

    return (
        f"(coalesce(own_email, false) AND NOT coalesce(NOT own_phone, false)"
        f" AND ({one_way('l', 'r')} OR {one_way('r', 'l')}))"
    )


def two_known_names_sql() -> str:
    """SQL over a household pair (as ``typo_of_two_names_sql``, with ``shared_fixed_line``): first
    names graded a typo that are two known names (``splink_model.TWO_REAL_NAMES``: Ali / Alin,
    Yasin / Yasir, Said / Zaid, brothers and twins of the world-names set), neither mailbox
    spelling the other record's first name, and contacts that say two people: a phone each (more
    than one typo apart), whatever e-mail they share; or no e-mail in common and no phone in
    common but a fixed line (``line_type.py``: the household's); or a mailbox each and one record
    without a phone. Brothers on a family inbox (``familjen.idris@``, which spells neither name)
    carry their own mobiles or the family landline beside it (58 of the 102 false pairs left on
    the world-names set, s45-ident-world). One person's name mistyped into another name is
    spelled right by her mailbox ("Perra" on ``perla.nilsson@`` beside "Perla"); one mobile on
    both is one person's (Ekaterina / Katerina on two mailboxes), and so is one mailbox that
    spells no name where only one record carries a phone ("eLon" and Leon on
    ``ldymarczyk@``, one birth date: world-names set, seed 41)."""

    def spells(x: str, y: str) -> str:
        return mailbox_spells_sql(f"email_{x}", f"first_name_match_{y}", f"last_name_match_{x}")

    return (
        f"({TWO_REAL_NAMES} AND NOT {spells('l', 'r')} AND NOT {spells('r', 'l')}"
        " AND (coalesce(own_phone, false)"
        " OR shared_fixed_line AND NOT coalesce(NOT own_email, false)"
        " OR coalesce(own_email, false) AND own_phone IS NULL))"
    )


def build_household_cannot_links(
    con: duckdb.DuckDBPyConnection, model_input: str, *, recompute: str | None = None, kept: str | None = None
) -> int:
    """Write ``temp._id_two_people(rid_l, rid_r)``: pairs of records that are two members of one
    household, which clustering keeps in two customers (``cardinality.split_components``, as a
    reviewer's cannot-link).

    Two records are two people when they share a surname and a street, a postcode or a birth
    date (or a birth date and a street or postcode, with surnames one typo apart), the model's
    first-name comparison grades their first names as two names (``first_name_grade_sql``: not
    equal, not a variant, a part of a double name, an initial, a typo, nor first and last name
    swapped; names graded a typo are two names when the records' own mailboxes say so,
    ``typo_of_two_names_sql``), and each carries its own e-mail or its own phone (both present,
    more than one typo apart). Two known first names graded a typo are two names when their
    phones and mailboxes say two people (``two_known_names_sql``: a phone each beside a family
    inbox, or only the family landline in common), which needs no e-mail or phone of one's own.
    Twins, or a household sharing a birth date, agree on surname, birth date and address, which
    to the model, adding up its comparisons as if they were independent, outweigh a different
    first name and a different e-mail together (+33 against -11). A data set without e-mail
    or phone (a CRM extract: FEBRL) has no such pair: there, a replaced first name with
    everything else kept is one person, as the model learns.

    ``model_input``: the model's view of the records (``splink_model.SPLINK_INPUT``): names with
    their ``name_keys`` columns, ``household_key``, and ``contact_email`` / ``contact_phone``
    (junk and over-shared values blanked).

    A pair's answer reads its two rows of ``model_input`` alone, so a night can keep last run's
    answers for pairs of unchanged rows: ``recompute`` (a query of ``rid``) names the records
    whose pairs are looked at, and ``kept`` (a query of ``rid_l, rid_r``) the pairs of last run
    between records outside it, taken as they are (``resolve.py``). ``None``: every pair."""
    # a first name read without a surname word at its end (cut_surname_words), as stitching reads
    # it: "Lna Bohlin" (a billing name "Lna Bohlin Einarsson") is "Lna" beside "Lena" (Nordic set,
    # seed 53: graded uncut, the two names cut her second CRM account off). A record's cut name
    # is the same on every identifier it is cut on; a caller without stitching has none
    con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_FIRST_NAME_CUT.split('.')[-1]}"
        " (rid BIGINT, kind VARCHAR, value VARCHAR, first_name VARCHAR)"
    )
    cut = f"""(SELECT c.rid, c.first_name, {", ".join(f"f.{field}" for field in MODEL_COLUMNS)}
               FROM (SELECT rid, min(first_name) AS first_name FROM {_FIRST_NAME_CUT} GROUP BY rid) c
               JOIN {FIRST_NAMES} f ON f.name = c.first_name)"""

    def name(x: str, column: str, field: str) -> str:
        return f"CASE WHEN c{x}.rid IS NULL THEN {x}.{column} ELSE c{x}.{field} END"

    pair = ", ".join(
        [
            f"{name('a', 'first_name_match', 'first_name')} AS first_name_match_l",
            f"{name('b', 'first_name_match', 'first_name')} AS first_name_match_r",
            "a.last_name_match AS last_name_match_l, b.last_name_match AS last_name_match_r",
            *(f"{name('a', c, f)} AS {c}_l, {name('b', c, f)} AS {c}_r" for f, c in MODEL_COLUMNS.items()),
        ]
    )
    # a surname one typo apart on one birth date and street or postcode is one surname too
    # ("Lundquist" / "Lundquiist", twins with own e-mails and mobiles: Nordic set, seed 23), as
    # the model's two-names level reads it; a birth date and an address make the typo one family
    typo_surname = "damerau_levenshtein({x}.last_name_match, {y}.last_name_match) = 1"
    joins = [f"{{x}}.last_name_match = {{y}}.last_name_match AND {{x}}.{f} = {{y}}.{f}" for f in SHARED]
    joins += [f"{{x}}.birth_date = {{y}}.birth_date AND {{x}}.{f} = {{y}}.{f} AND {typo_surname}" for f in SHARED[:2]]
    if recompute is None:
        shared_field = " UNION ".join(
            f"""SELECT a.unique_id AS a_id, b.unique_id AS b_id FROM named a JOIN named b
                ON {on.format(x="a", y="b")} AND a.unique_id < b.unique_id"""
            for on in joins
        )
    else:
        # every pair with a recomputed record on one side or both (then found twice: UNION); the
        # recomputed records taken first (``recomputed``), so that each join is of those few with
        # every record, not of every record with every record and then filtered
        shared_field = " UNION ".join(
            f"""SELECT least(c.unique_id, o.unique_id) AS a_id, greatest(c.unique_id, o.unique_id) AS b_id
                FROM recomputed c JOIN named o
                ON {on.format(x="c", y="o")} AND c.unique_id <> o.unique_id"""
            for on in joins
        )
    # the household pairs graded, in a table: the filter below reads the grade twice (as a CTE not
    # materialised, the statement measured 2.50-2.53 CPU s at 1M against 2.32-2.36: the long CASE
    # evaluated per read), and the phones of two known names' pairs are typed in between
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_HOUSEHOLD_PAIRS.split(".")[-1]} AS
        WITH named AS (
            SELECT unique_id, last_name_match, street, postcode, birth_date FROM {model_input}
            WHERE first_name_match IS NOT NULL AND (contact_email IS NOT NULL OR contact_phone IS NOT NULL)
        ){"" if recompute is None else f", recomputed AS MATERIALIZED (SELECT * FROM named WHERE unique_id IN ({recompute}))"}
            SELECT *, {first_name_grade_sql()} AS grade FROM (
                SELECT a.unique_id AS rid_l, b.unique_id AS rid_r, {pair},
                       a.contact_email AS email_l, b.contact_email AS email_r,
                       a.contact_phone AS phone_l, b.contact_phone AS phone_r,
                       {more_than_one_edit_sql("a.contact_email", "b.contact_email")} AS own_email,
                       {more_than_one_edit_sql("a.contact_phone", "b.contact_phone")} AS own_phone
                FROM (
                    -- one equi-join per shared field, not a join on the surname alone: a common
                    -- surname holds thousands of records
                    {shared_field}
                ) p
                JOIN {model_input} a ON a.unique_id = p.a_id JOIN {model_input} b ON b.unique_id = p.b_id
                LEFT JOIN {cut} ca ON ca.rid = a.unique_id LEFT JOIN {cut} cb ON cb.rid = b.unique_id
                -- the names as written: a name cut on one record and not on the other (one word
                -- less) is a part of the double name, one name, so equal names need no cut
                WHERE a.first_name_match <> b.first_name_match
            )
            -- two known names one typo apart whatever their contacts: they may share only the
            -- household's (two_known_names_sql)
            WHERE coalesce(own_email, false) OR coalesce(own_phone, false) OR (grade = 'typo' AND {TWO_REAL_NAMES})
    """
    )
    # a phone two known names' records share, or one typo of it, that is a fixed line is the
    # household's, not a mobile in common (two_known_names_sql); typed only for those pairs
    known_shared = f"grade = 'typo' AND {TWO_REAL_NAMES} AND NOT coalesce(own_phone, true)"
    build_fixed_lines(
        con,
        f"""SELECT phone_l AS value FROM {_HOUSEHOLD_PAIRS} WHERE {known_shared}
            UNION SELECT phone_r FROM {_HOUSEHOLD_PAIRS} WHERE {known_shared}""",
        _HOUSEHOLD_FIXED_LINES,
    )
    fixed = f"(SELECT value FROM {_HOUSEHOLD_FIXED_LINES})"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {TWO_PEOPLE.split(".")[-1]} AS
        WITH accounts AS (
            -- CRM accounts (a record's account id is its key: it changes only with the record)
            SELECT i.unique_id, i.first_name_match, i.last_name_match, i.street, i.postcode, i.birth_date,
                   i.contact_email, i.contact_phone, r.crm_customer_id
            FROM {model_input} i JOIN {RECORDS} r ON r.rid = i.unique_id
            WHERE r.crm_customer_id IS NOT NULL AND i.contact_email IS NOT NULL AND i.contact_phone IS NOT NULL
        )
        SELECT rid_l, rid_r FROM (
            SELECT *, coalesce(NOT own_phone, false) AND phone_l IN {fixed} AND phone_r IN {fixed} AS shared_fixed_line
            FROM {_HOUSEHOLD_PAIRS})
        -- the grade once per pair; the mailboxes read only where it is "typo"
        -- two known names one typo apart too, by their phones and mailboxes (two_known_names_sql)
        WHERE NOT list_contains($same::VARCHAR[], grade)
           OR grade = 'typo' AND ({two_known_names_sql()} OR {typo_of_two_names_sql()})
        UNION
        -- two CRM accounts on one e-mail, each with a phone of its own (more than one typo apart),
        -- one surname and a street, postcode or birth date, and not one first name (two names as
        -- the grades read them, one a typo or a variant of the other, or one missing): a family
        -- inbox two people registered with (twins Eric and Erik Henriksson; Johan Jakobsson's
        -- account without a first name beside Hans's: hard-case sample, merged at 1.0). At 1M
        -- (the sample without hard cases) 2,983 pairs of one person's CRM accounts share an
        -- e-mail and none has two phones more than one typo apart; one first name on both is
        -- left to the model (one person with a new number)
        -- (every condition is symmetric: with recomputed records, a is one of them and b any other)
        SELECT least(a.unique_id, b.unique_id), greatest(a.unique_id, b.unique_id)
        FROM {"accounts" if recompute is None else f"(SELECT * FROM accounts WHERE unique_id IN ({recompute}))"} a
        JOIN accounts b
          ON a.contact_email = b.contact_email AND {"a.unique_id < b.unique_id" if recompute is None else "a.unique_id <> b.unique_id"}
         AND a.last_name_match = b.last_name_match AND a.crm_customer_id <> b.crm_customer_id
        WHERE (a.street = b.street OR a.postcode = b.postcode OR a.birth_date = b.birth_date)
          AND damerau_levenshtein(a.contact_phone, b.contact_phone) > 1
          AND a.first_name_match IS DISTINCT FROM b.first_name_match
        {"" if kept is None else f"UNION ALL SELECT rid_l, rid_r FROM ({kept})"}
        ORDER BY rid_l, rid_r
    """,
        {"same": list(SAME_FIRST_NAME_GRADES)},
    )
    con.execute(f"DROP TABLE {_HOUSEHOLD_PAIRS}")
    return con.execute(f"SELECT count(*) FROM {TWO_PEOPLE}").fetchall()[0][0]


STITCHED_CORES = "temp._id_stitched_cores"
TWO_ACCOUNTS = "temp._id_two_accounts"


def build_account_cannot_links(con: duckdb.DuckDBPyConnection, model_edges: str, components: str) -> int:
    """Write ``temp._id_two_accounts(rid_l, rid_r)``: two CRM accounts that are two people, which
    clustering keeps in two customers (``cardinality.split_components``, as a cannot-link).

    A *stitched core* is what the deterministic edges join (a CRM account, its web login, the
    orders and the newsletter subscription on its e-mail or phone): one person's own records.
    Two cores that the model joins (``model_edges``: ``rid_l, rid_r``), each holding a CRM
    account (a ``crm_customer_id``), are two people when each core carries an e-mail of its own
    and they have no e-mail and no phone in common (none even one typo apart), and no birth
    date in common (none even one typo apart: one of them without a birth date has none in
    common). A fixed line (``line_type.py``) is a household's: it joins no core and is no phone
    in common (a same-name parent and child on the family landline would be one core). A family
    inbox (an e-mail stitching did not join into one star: it names two people) is no e-mail of
    one's own.

    A same-name parent and child at one address, one of them without a birth date in the CRM:
    name, surname and address (+28 to the model) outweigh two different e-mails and phones
    (-4.3, -6.2), and the birth-date rule has only one birth date to see. Two accounts, each
    with its own mailbox and nothing in common but the name and address, are two registrations
    by two people. When both cores carry a birth date, the dates speak: the same date is one
    person (a CRM duplicate with a new e-mail), two dates are two. That is said here, not left
    to the birth-date rule: the rule counts two dates on records the model matched directly as
    one (the model weighed them), and a same-name parent and child at one address, each with a
    mailbox and a birth date, are matched directly (name, surname and address outweigh the
    dates: 0.995 in the Nordic set, benchmarks/results/2026-12-06-nordic-multisource.md).
    A data set without e-mails (a CRM extract: FEBRL) has no such pair.

    Two accounts whose cores both carry a birth date and have none in common (as above), and
    nothing else in common, are two people too when only one of them carries a mailbox of its
    own. A same-name child's CRM record with a birth date and no e-mail or phone, at the parent's
    address, is matched directly to the parent's dated account (name, surname and address against
    the date) and to the parent's undated order (nothing against: 0.9999), and the birth-date rule
    counts the two dates as one: the child's date is given on a single record
    (``cardinality._Groups.lone_value``, which a CRM extract's replaced birth dates need: FEBRL),
    or is close to the parent's (``cardinality.close_dates``: a child born on the parent's day and
    month, 1958-06-12 / 1984-06-12, is two digits from it, as a date mistyped twice is). The
    account with a mailbox says who its holder is; a second registration with another birth date
    and none of its contacts is not the holder registering again (one person's two accounts carry
    one date, or one typo of it, in the Nordic set and the project's sample). Where neither
    account carries a mailbox (a CRM extract without contacts: FEBRL, where every duplicate is an
    account of its own, 5 % carry a replaced date and some a date mistyped twice) the model's
    reading and the birth-date rule's stand.

    ``components``: ``rid, component``, the clusters before splitting; only those holding two or
    more CRM accounts are looked at (the cores are a graph search, too dear over every record).
    Such a pair depends on its component's records and edges alone, so a component unchanged
    since last night gets the same answer (incremental nights)."""
    from cdp_pipeline.lib.identity.graph import connected_components

    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_account_records AS
        SELECT rid FROM {components} SEMI JOIN (
            SELECT c.component FROM {components} c JOIN {RECORDS} r USING (rid)
            GROUP BY c.component HAVING count(DISTINCT r.crm_customer_id) > 1
        ) USING (component)
    """)
    # a fixed line is a household's (line_type.py): it joins no core, and two cores that have
    # only it in common have nothing of one person's in common (a same-name parent and child
    # on the family landline, one of them undated: Nordic set, seeds 53, 83, 97)
    build_fixed_lines(
        con,
        f"""SELECT value FROM {USABLE} WHERE kind = 'phone'
            AND rid IN (SELECT rid FROM temp._id_account_records)""",
    )
    det = f"""SELECT rid_l, rid_r FROM {DETERMINISTIC_EDGES}
              WHERE rid_l IN (SELECT rid FROM temp._id_account_records)
                AND NOT (kind = 'phone' AND value IN (SELECT value FROM {FIXED_LINES}))"""
    connected_components(con, f"SELECT rid_l AS rid FROM ({det}) UNION SELECT rid_r FROM ({det})", det, STITCHED_CORES)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {TWO_ACCOUNTS.split(".")[-1]} AS
        WITH core_of AS (
            SELECT r.rid, coalesce(c.component, r.rid) AS core, r.crm_customer_id, r.birth_date
            FROM {RECORDS} r SEMI JOIN temp._id_account_records USING (rid)
            LEFT JOIN {STITCHED_CORES} c USING (rid)
        ), contacts AS (
            SELECT DISTINCT o.core, u.kind, u.value,
                   -- a mailbox that spells its record's first name (``marie.larsson72@``: Marie's);
                   -- a family inbox spells none (``familjen.mustafa@``)
                   u.kind = 'email' AND {mailbox_name_sql("u.value", "u.last_name")} = u.first_name AS spells
            FROM {USABLE} u JOIN core_of o USING (rid)
            WHERE u.kind IN ('email', 'phone')
              AND NOT (u.kind = 'phone' AND u.value IN (SELECT value FROM {FIXED_LINES}))
        ), inboxes AS (
            -- an e-mail whose records stitching did not join into one star names two people (a
            -- family inbox: a star per first name, or a nameless record left out); it is no
            -- mailbox of one's own (a household member's second account on the family inbox and
            -- the landline beside the first on her own e-mail: Nordic set, seed 83)
            SELECT u.value FROM {USABLE} u
            WHERE u.kind = 'email' AND u.value IN (SELECT value FROM contacts WHERE kind = 'email')
            GROUP BY u.value
            HAVING count(*) > 1 + (SELECT count(*) FROM {DETERMINISTIC_EDGES} e
                                   WHERE e.kind = 'email' AND e.value = u.value)
        ), mailboxes AS (
            SELECT DISTINCT core FROM contacts
            WHERE kind = 'email' AND value NOT IN (SELECT value FROM inboxes)
        ), accounts AS (
            -- a core holding a CRM account; or, beside one, a core with a mobile of its own and a
            -- mailbox of its own that spells its first name (a same-name child's order on
            -- ``marie.larsson72@`` and her mobile: Nordic set, seed 53)
            SELECT core, min(rid) AS account, bool_or(crm_customer_id IS NOT NULL) AS holds_account
            FROM core_of GROUP BY core
            HAVING bool_or(crm_customer_id IS NOT NULL)
                OR (core IN (SELECT core FROM mailboxes)
                    AND core IN (SELECT core FROM contacts WHERE spells
                                 AND value NOT IN (SELECT value FROM inboxes))
                    AND core IN (SELECT core FROM contacts WHERE kind = 'phone'))
        ), pairs AS (
            -- cores the model joins, each an account or a mailbox and mobile of its own, one of
            -- them at least an account
            SELECT DISTINCT least(a.core, b.core) AS core_a, greatest(a.core, b.core) AS core_b
            FROM {model_edges} e
            JOIN core_of a ON a.rid = e.rid_l JOIN core_of b ON b.rid = e.rid_r
            JOIN accounts x ON x.core = a.core JOIN accounts y ON y.core = b.core
            WHERE a.core <> b.core AND (x.holds_account OR y.holds_account)
        ), in_common AS (
            SELECT DISTINCT p.core_a, p.core_b
            FROM pairs p JOIN contacts x ON x.core = p.core_a JOIN contacts y ON y.core = p.core_b
            WHERE x.kind = y.kind AND damerau_levenshtein(x.value, y.value) <= 1
              -- as the model's e-mail comparison reads them: addresses equal once '.', '_' and '-'
              -- are dropped (johanna.lundgren@ / johannalundgren@) are two mailboxes, the forms two
              -- people of one name end up with, not one typo
              AND (x.kind <> 'email' OR x.value = y.value
                   OR translate(x.value, '._-', '') <> translate(y.value, '._-', ''))
        ), dated AS (
            SELECT DISTINCT core FROM core_of WHERE birth_date IS NOT NULL
        ), dates AS (
            SELECT DISTINCT core, CAST(birth_date AS VARCHAR) AS d FROM core_of
            WHERE birth_date IS NOT NULL AND core IN (SELECT core_a FROM pairs UNION SELECT core_b FROM pairs)
        ), same_date AS (
            -- one birth date as the birth-date rule counts one (cardinality.same_value_give_or_take_a_typo):
            -- equal, one typo apart, day and month swapped, one day apart or one month apart on the same day
            SELECT DISTINCT p.core_a, p.core_b
            FROM pairs p JOIN dates x ON x.core = p.core_a JOIN dates y ON y.core = p.core_b
            WHERE damerau_levenshtein(x.d, y.d) <= 1
               OR (x.d[1:4] = y.d[1:4] AND x.d[6:7] = y.d[9:10] AND x.d[9:10] = y.d[6:7])
               OR abs(date_diff('day', CAST(x.d AS DATE), CAST(y.d AS DATE))) = 1
               OR (x.d[9:10] = y.d[9:10] AND abs(date_diff('month', CAST(x.d AS DATE), CAST(y.d AS DATE))) = 1)
        )
        SELECT least(a.account, b.account) AS rid_l, greatest(a.account, b.account) AS rid_r
        FROM pairs p
        JOIN accounts a ON a.core = p.core_a JOIN accounts b ON b.core = p.core_b
        WHERE NOT EXISTS (SELECT 1 FROM in_common c WHERE c.core_a = p.core_a AND c.core_b = p.core_b)
          AND (
            -- both with a mailbox of their own, no birth date in common (one undated: none)
            (p.core_a IN (SELECT core FROM mailboxes) AND p.core_b IN (SELECT core FROM mailboxes)
             AND NOT EXISTS (SELECT 1 FROM same_date d WHERE d.core_a = p.core_a AND d.core_b = p.core_b))
            -- one with a mailbox of its own, both dated, no birth date in common
            OR ((p.core_a IN (SELECT core FROM mailboxes) OR p.core_b IN (SELECT core FROM mailboxes))
                AND p.core_a IN (SELECT core FROM dated) AND p.core_b IN (SELECT core FROM dated)
                AND NOT EXISTS (SELECT 1 FROM same_date d WHERE d.core_a = p.core_a AND d.core_b = p.core_b))
          )
        ORDER BY rid_l, rid_r
    """
    )
    return con.execute(f"SELECT count(*) FROM {TWO_ACCOUNTS}").fetchall()[0][0]
