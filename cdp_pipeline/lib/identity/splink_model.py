"""Probabilistic linkage with Splink: settings, unsupervised training, prediction, reports.

The model compares names (with term-frequency adjustments, so a shared rare surname
counts for more than a shared common one), birth date, address, email and phone. It
is trained without labels on every run: the prior from near-certain rules, u by
random sampling with a fixed seed, m by expectation maximisation over several
blocking rules. Only records with a usable name take part, and records without one that carry a
birth date and an address but no e-mail or phone (nothing else can link them): a record carrying
just a phone or a card number is linked by stitching or not at all, never on a guess.
Junk and over-shared identifiers are blanked in the model's input, so two records
cannot be matched on ``test@test.com``.
"""

from __future__ import annotations

import functools
import json
import logging
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.progress import report_phase
from cdp_pipeline.lib.common.warehouse import erasures_executed, row_hash_sql, table_exists
from cdp_pipeline.lib.identity.blocking import predictions
from cdp_pipeline.lib.identity.config import IdentityConfig, SplinkConfig, SqlRule
from cdp_pipeline.lib.identity.junk_guard import EXCLUDED
from cdp_pipeline.lib.identity.model_store import (
    NEW_MODEL,
    NEW_SCORED_RECORDS,
    NEW_TF,
    SCORED_PAIRS,
    SCORED_RECORDS,
    StoredModel,
    clear_pending_state,
    config_hash,
    forget_state,
    load_model,
    retrain_reason,
    stored_term_frequencies,
)
from cdp_pipeline.lib.identity.name_keys import FIRST_NAMES, NAME_ROLES, build_name_roles
from cdp_pipeline.lib.identity.name_keys import MODEL_COLUMNS as NAME_KEY_COLUMNS
from cdp_pipeline.lib.identity.record_numbers import numbers_kept
from cdp_pipeline.lib.identity.records import RECORDS
from cdp_pipeline.lib.identity.thresholds import Thresholds, apply_thresholds, prediction_floor, sparse_sql
from cdp_pipeline.lib.identity.u_keyed_counts import keyed_level_counts

SPLINK_INPUT = "_id_splink_input"
# e-mails and phones whose records name two people (stitching.build_household_values)
HOUSEHOLD_VALUES = "temp._id_household_values"
PROB_EDGES = "temp._id_prob_edges"
COMPARED_COLUMNS = (
    "first_name_match",
    "last_name_match",
    *NAME_KEY_COLUMNS.values(),
    "birth_date",
    "street",
    "postcode",
    "city",
    "email",
    "phone",
)
# rare_full_name is not compared, but a record's is set by how many others share its name:
# in the hash, so records whose name became common (or rare) are scored again, as a full run would;
# likewise email_household / phone_household (the value names two people: set by other records)
# and last_name_is_given / last_name_also_first (the record's last name is a word the records carry
# more often as a first name / also as a first name)
MODEL_INPUT_COLUMNS = (
    "source",
    *COMPARED_COLUMNS,
    "rare_full_name",
    "email_household",
    "phone_household",
    "last_name_is_given",
    "last_name_also_first",
)

log = logging.getLogger(__name__)


@dataclass
class ModelRun:
    records_in_model: int = 0
    edges: int = 0
    comparisons: list[str] = field(default_factory=list)
    model_path: Path | None = None
    charts: dict[str, Path] = field(default_factory=dict)
    training_notes: list[str] = field(default_factory=list)
    probability_two_random_records_match: float | None = None
    # how tonight's pairs were scored (model_store.py, scoring below)
    mode: str = "full"  # full: every record; incremental: changed records only
    retrained: bool = False
    retrain_reason: str | None = None
    records_rescored: int = 0  # records whose pairs were scored tonight
    pairs_kept: int = 0  # scored pairs carried over from earlier nights
    state_ready: bool = False  # the night's model state may be persisted
    thresholds: Thresholds | None = None  # which scored pairs became links (thresholds.py)
    # pairs of two names in one household whose contacts can tell, and of those the ones sharing one
    household_pairs: tuple[int, int] = (0, 0)


# the street without a trailing flat or apartment part ("storgatan 12 lgh 1316", "storgatan 1, lgh 1102")
_BUILDING_SQL = "regexp_replace(r.street, '[\\s,]+(lgh|lägenhet|apt|apartment|flat|unit)\\.?\\s*\\w+$', '')"


# the postcode and town of a record swapped: a postcode with a letter and no digit, beside a
# town with a digit or none (no country's postcode is letters alone; a town has no digit)
_SWAPPED_SQL = (
    "(regexp_matches(postcode, '\\p{L}') AND NOT regexp_matches(postcode, '\\d')"
    " AND (nullif(trim(city), '') IS NULL OR regexp_matches(city, '\\d')))"
)


def build_splink_input(
    con: duckdb.DuckDBPyConnection, config: IdentityConfig | None = None, *, name_roles_built: bool = False
) -> int:
    """The model's view of each record: junk/over-shared values blanked; nameless records left out
    unless they carry a birth date and an address and no e-mail or phone.

    Each first name comes with its variant keys, words and initials (``name_keys``), so the
    model can tell a nickname or a part of a double name from a different name.
    ``rare_full_name`` (for blocking only) is the full name when at most
    ``config.splink.rare_name_max_records`` records carry it: a record with a name and nothing
    else in common with its duplicate (an e-mail-only newsletter signup) meets it there, and
    only a rare name can link such a pair; a block on every full name grows with the square of
    the records sharing a common one (``docs/identity.md``). ``name_roles_built``: the caller has
    built ``name_keys.NAME_ROLES`` from tonight's records (stitching does, before the model): not
    built a second time (0.17-0.18 CPU s at 1M records)."""
    rare_max = (config.splink if config else SplinkConfig()).rare_name_max_records
    # written by stitching; a caller that builds the input without stitching sees none
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {HOUSEHOLD_VALUES.split('.')[-1]} (kind VARCHAR, value VARCHAR)")
    if not name_roles_built:
        build_name_roles(con)
    name_keys = ", ".join(f"f.{field} AS {column}" for field, column in NAME_KEY_COLUMNS.items())
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {SPLINK_INPUT} AS
        WITH r AS (
            SELECT rid, source,
                   CASE WHEN coalesce(name_is_junk, false) THEN NULL ELSE nullif(trim(first_name_match), '') END AS first_name_match,
                   CASE WHEN coalesce(name_is_junk, false) THEN NULL ELSE nullif(trim(last_name_match), '') END AS last_name_match,
                   birth_date, nullif(trim(lower(street)), '') AS street,
                   -- a postcode without a digit beside a town that has one or none is the two
                   -- fields swapped ("SHORNCILFFE" / "314Y", "KELLYVILLE" / none: FEBRL-class CRM
                   -- extracts): read back in place, so the town meets its own town and postcode
                   nullif(upper(replace(CASE WHEN {_SWAPPED_SQL} THEN city ELSE postcode END, ' ', '')), '') AS postcode,
                   -- without spaces: "lakeclifton" and "lake clifton" are one town to every level and rule
                   nullif(replace(lower(CASE WHEN {_SWAPPED_SQL} THEN postcode ELSE city END), ' ', ''), '') AS city,
                   CASE WHEN coalesce(email_is_junk, false) THEN NULL ELSE email END AS email,
                   CASE WHEN coalesce(phone_is_junk, false) THEN NULL ELSE phone END AS phone
            FROM {RECORDS}
        ), rare AS (
            -- counted on the names alone and joined back, not a window over the whole rows: the
            -- window carried every wide row through a partitioned sort (1.5 of 3.5 CPU s at 1M)
            SELECT first_name_match, last_name_match, first_name_match || ' ' || last_name_match AS full_name
            FROM r WHERE first_name_match IS NOT NULL AND last_name_match IS NOT NULL
            GROUP BY first_name_match, last_name_match HAVING count(*) <= {int(rare_max)}
        )
        SELECT r.rid AS unique_id, r.source, r.first_name_match, r.last_name_match,
               rare.full_name AS rare_full_name,
               {name_keys},
               r.birth_date, r.street, r.postcode, r.city,
               -- for blocking only (never compared): the house number and the street's name
               -- apart, so a typo in one still leaves the other to bring the pair up
               nullif(regexp_extract(r.street, '(\\d+)', 1), '') AS street_number,
               {STREET_NAME_SQL.format(street="r.street")} AS street_name,
               -- for training only (never compared, so a rule on them fixes no comparison):
               -- who lives together under one surname, and the e-mail and phone apart from the compared ones;
               -- a street without a name (a house number alone, "4": the street's name missing) is
               -- no address two people are seen to share (FEBRL-class data: one such pair of two
               -- ESP members made the whole data set look like one with households)
               CASE WHEN regexp_matches(r.street, '\\p{{L}}') THEN r.last_name_match || '|' || r.street END
                   AS household_key,
               -- read only by the first name's level added after training (TWO_NAMES_ONE_HOUSEHOLD):
               -- the street without a flat part ("storgatan 12 lgh 1316"), which one twin's record
               -- may carry and the other's not (Nordic set, seed 113: Maja and Max Lindvall merged)
               CASE WHEN regexp_matches(r.street, '\\p{{L}}') THEN {_BUILDING_SQL} END AS household_street,
               CASE WHEN regexp_matches(r.street, '\\p{{L}}')
                    THEN r.last_name_match || '|' || {_BUILDING_SQL} || '|' || r.birth_date END AS household_birth_key,
               CASE WHEN xe.value IS NULL THEN r.email END AS contact_email,
               CASE WHEN xp.value IS NULL THEN r.phone END AS contact_phone,
               CASE WHEN xe.value IS NULL THEN r.email END AS email,
               CASE WHEN xp.value IS NULL THEN r.phone END AS phone,
               -- read only by the levels added after training (HOUSEHOLD_VALUE_BESIDE_ANOTHER):
               -- the value's records name two people (stitching.build_household_values)
               he.value IS NOT NULL AS email_household, hp.value IS NOT NULL AS phone_household,
               -- read only by the family-inbox levels added after training (one_name_conditions):
               -- the name is written surname first ("Bengtsson Kristina"), its last name a first name
               coalesce(g.given, false) AS last_name_is_given,
               -- read only by the surname's one-name-swapped level (_one_name_swapped_level): the
               -- last name is a word some record carries as a first name too
               g.name IS NOT NULL AS last_name_also_first
        FROM r
        LEFT JOIN rare ON rare.first_name_match = r.first_name_match AND rare.last_name_match = r.last_name_match
        LEFT JOIN {FIRST_NAMES} f ON f.name = r.first_name_match
        LEFT JOIN {EXCLUDED} xe ON xe.kind = 'email' AND xe.value = r.email
        LEFT JOIN {EXCLUDED} xp ON xp.kind = 'phone' AND xp.value = r.phone
        LEFT JOIN {HOUSEHOLD_VALUES} he ON he.kind = 'email' AND he.value = r.email
        LEFT JOIN {HOUSEHOLD_VALUES} hp ON hp.kind = 'phone' AND hp.value = r.phone
        LEFT JOIN {NAME_ROLES} g ON g.name = r.last_name_match
        WHERE r.first_name_match IS NOT NULL OR r.last_name_match IS NOT NULL
           -- a record without a name, e-mail or phone but with a birth date and an address (a CRM
           -- extract's record whose names are missing: FEBRL-class data, where such records were
           -- the largest class of split persons) has nothing but the model to reach its person by;
           -- one with an e-mail or a phone is left to stitching (a nameless newsletter member on a
           -- family inbox names no one of the family)
           OR r.birth_date IS NOT NULL AND r.email IS NULL AND r.phone IS NULL
              AND (r.street IS NOT NULL OR r.postcode IS NOT NULL OR r.city IS NOT NULL)
        -- not sorted: nothing reads the rows in their order (Splink samples and scores by
        -- unique_id, counts and sums), and the sort of these wide rows, name lists among them,
        -- was 0.3 of the statement's 1.7 CPU s at 1M
    """)
    return con.execute(f"SELECT count(*) FROM {SPLINK_INPUT}").fetchall()[0][0]


def _jaro_winkler_function(dialect: str) -> str:
    """The backend's name for Jaro-Winkler similarity (DuckDB: jaro_winkler_similarity; Spark: Splink's UDF)."""
    from splink.internals.dialects import SplinkDialect

    return SplinkDialect.from_string(dialect).jaro_winkler_function_name


def _damerau_levenshtein_function(dialect: str) -> str:
    from splink.internals.dialects import SplinkDialect

    return SplinkDialect.from_string(dialect).damerau_levenshtein_function_name


STREET_NAME_ALIKE = "street name alike, no closer level"
HOUSE_NUMBER_ALONE = "a house number alone, the same number, postcode or city close"
STREET_NAME_ALIKE_AREA_CLOSE = "street name alike, postcode or city close"
# the street's name without its house number ("12 storgatan" -> "storgatan"); {street}: the street column
STREET_NAME_SQL = "nullif(trim(regexp_replace(regexp_replace({street}, '\\d+\\w?', '', 'g'), '\\s+', ' ', 'g')), '')"


def _address_comparison(dialect: str = "duckdb"):
    import splink.comparison_library as cl

    jw = _jaro_winkler_function(dialect)
    dl = _damerau_levenshtein_function(dialect)
    both = lambda c: f"{c}_l IS NOT NULL AND {c}_r IS NOT NULL"  # noqa: E731
    return cl.CustomComparison(
        output_column_name="address",
        comparison_description="street, postcode and city together (they are not independent)",
        comparison_levels=[
            {
                "sql_condition": "(street_l IS NULL OR street_r IS NULL) AND (postcode_l IS NULL OR postcode_r IS NULL)"
                " AND (city_l IS NULL OR city_r IS NULL)",
                "label_for_charts": "address missing",
                "is_null_level": True,
            },
            {
                "sql_condition": f"{both('street')} AND street_l = street_r AND postcode_l = postcode_r",
                "label_for_charts": "street and postcode exact",
            },
            {
                "sql_condition": f"{both('street')} AND postcode_l = postcode_r AND {jw}(street_l, street_r) >= 0.9",
                "label_for_charts": "street similar, postcode exact",
            },
            {
                "sql_condition": f"{both('street')} AND street_l = street_r AND city_l = city_r",
                "label_for_charts": "street and city exact",
            },
            {
                # a street with a typo and a postcode or city with one too ("6 Nicklin Cre Scent,
                # 2706 Longeach" / "6 Nicklin Crescent, 2760 Longreach"): no exact level fits it,
                # and "else" counts it as two addresses. Most scored pairs reach this level:
                # the cheap tests first (a one-edit prefilter before each edit distance, the
                # street's similarity last), or it costs a third of the scoring at 1M records.
                "sql_condition": f"{both('street')}"
                f" AND (city_l = city_r"
                f" OR ({_one_edit_necessary_sql('postcode')} AND {dl}(postcode_l, postcode_r) <= 1)"
                f" OR ({_one_edit_necessary_sql('city')} AND {dl}(city_l, city_r) <= 1))"
                f" AND {jw}(street_l, street_r) >= 0.9",
                "label_for_charts": "street similar, postcode or city close",
            },
            {
                # one street a house number alone (its name missing: street_name is NULL), the
                # other's number the same, in a postcode or town exact or one typo off ("45,
                # 4569 Marlo" / "45 Therry Place, 4560 Marlo": FEBRL-class data). Under "postcode
                # exact" or "else" it weighed as a shared area or two addresses; training weighs
                # the number it shares (u counted through the postcode's and city's keys)
                "sql_condition": f"{both('street')} AND (street_name_l IS NULL) <> (street_name_r IS NULL)"
                f" AND regexp_extract(street_l, '(\\d+)', 1) = regexp_extract(street_r, '(\\d+)', 1)"
                f" AND (postcode_l = postcode_r OR city_l = city_r"
                f" OR ({_one_edit_necessary_sql('postcode')} AND {dl}(postcode_l, postcode_r) <= 1)"
                f" OR ({_one_edit_necessary_sql('city')} AND {dl}(city_l, city_r) <= 1))",
                "label_for_charts": HOUSE_NUMBER_ALONE,
            },
            {
                # the street's name alike (equal or one typo) in a postcode or town exact or one
                # typo off, the house number missing or changed: "Jondol Place, 2335" / "75 Jondol
                # Place, 2335", "6 Kenyon Circuit" / "Kenyon Xircuit", both 6012 Byford (FEBRL-class
                # data). The street-similar levels compare the whole street, and a house number
                # written first, or missing, puts it under Jaro-Winkler 0.9 (0.85 here), so such
                # pairs weighed as the postcode alone (+7.5). A street name written after its
                # number ("Storgatan 12") keeps its similarity and its level above. Trained like
                # every level; u counts it through the street name's own key
                "sql_condition": f"{both('street_name')} AND (street_name_l = street_name_r"
                f" OR ({_one_edit_necessary_sql('street_name')} AND {dl}(street_name_l, street_name_r) <= 1))"
                f" AND (postcode_l = postcode_r OR city_l = city_r"
                f" OR ({_one_edit_necessary_sql('postcode')} AND {dl}(postcode_l, postcode_r) <= 1)"
                f" OR ({_one_edit_necessary_sql('city')} AND {dl}(city_l, city_r) <= 1))",
                "label_for_charts": STREET_NAME_ALIKE_AREA_CLOSE,
            },
            {"sql_condition": "postcode_l = postcode_r", "label_for_charts": "postcode exact"},
            {"sql_condition": "city_l = city_r", "label_for_charts": "city exact"},
            {
                # the whole street (its number too) with neither postcode nor town close: a
                # postcode and town swapped or each mistyped twice ("9 Theodore Street,
                # SHORNCILFFE, 314Y" / "9 Theodore Street, 3146, Shorncliffe"), or one missing
                # and the other mistyped. As "else" it counted as two addresses (-4); one
                # street name and number in two towns is rare, so training gives it its own
                # weight (the street's key already brings such pairs to the u estimation)
                "sql_condition": f"{both('street')} AND street_l = street_r",
                "label_for_charts": "street exact, postcode and city differ",
            },
            {
                # the street's name alike (equal, or one typo: the house number and the rest
                # ignored) where no level above holds: a house number mistyped or missing beside
                # a postcode or town one typo off ("Stromlo Crescent, 2333" / "12 Stromlo
                # Crescent, 2233"), or the town mistyped twice and no postcode ("28 Burdett
                # Crescent, Marsiwlc" / "20 Burdett Crescent, Marsfielfd": FEBRL-class data). As
                # "else" such pairs counted as two addresses (-4.5); a street's name recurs in
                # many towns, and training weighs it (u counts it through the name's own key)
                "sql_condition": f"{both('street_name')} AND (street_name_l = street_name_r"
                f" OR ({_one_edit_necessary_sql('street_name')} AND {dl}(street_name_l, street_name_r) <= 1))",
                "label_for_charts": STREET_NAME_ALIKE,
            },
            {"sql_condition": "ELSE", "label_for_charts": "all other"},
        ],
    )


SWAPPED = "first and last name swapped"
# a surname level: one record's first name is the other's surname (one name swapped, the other
# replaced, missing or mistyped past the swapped level: "Kristen Jolly" / "Jolly Krisgnn")
ONE_NAME_SWAPPED = "one name written as the other record's other name"
# the first-name level of Erik / Erika, Daniel / Daniela: one letter apart, two people
MASCULINE_FEMININE = "masculine and feminine form"
TWO_EDITS_APART = "two edits apart"


def _one_edit_apart(col) -> list:
    """Damerau-Levenshtein <= 1 (one substitution, insertion, deletion or swap of neighbours),
    tested after Levenshtein <= 2, which it implies: Levenshtein is six times cheaper, and u
    estimation compares ten million random pairs, of which few are within two edits."""
    import splink.comparison_level_library as cll

    return [cll.LevenshteinLevel(col, 2), cll.DamerauLevenshteinLevel(col, 1)]


def _one_edit_necessary(col: str):
    """A test every pair one edit apart passes, costing a few string comparisons instead of a
    Levenshtein distance (7 µs a pair on e-mail addresses: most of u estimation's time).

    One edit at position p leaves the first p characters equal and, counted from the end, all
    but the last p + 2: so with k = (shorter length - 1) // 2 the first k or the last k
    characters agree. Random addresses rarely share either; a typo always does."""
    import splink.comparison_level_library as cll

    return cll.CustomLevel(_one_edit_necessary_sql(col))


def _one_edit_necessary_sql(col: str) -> str:
    """The condition of ``_one_edit_necessary``: true for every pair of ``col`` one edit apart."""
    return one_edit_necessary_between(f"{col}_l", f"{col}_r")


def one_edit_necessary_between(a: str, b: str) -> str:
    """SQL true for every two strings ``a``, ``b`` one edit apart (``_one_edit_necessary``: one
    substitution, insertion, deletion or swap of neighbours), and for few others.

    The ends are compared as ``starts_with(a, left(b, k))`` / ``ends_with(a, right(b, k))``, not
    ``left(a, k) = left(b, k)``: the same test (``left`` counts code points, and a UTF-8 string
    that begins or ends with whole code points of another has them as its own first or last k),
    with one substring cut instead of two. The level SQL it is in is graded on every compared
    pair (EM sessions, u, scoring): about a fifth of the test's CPU (2M EM pairs at 1M records,
    ``benchmarks/results/2026-12-07-s38-train.md``)."""
    k = f"CAST(floor((least(length({a}), length({b})) - 1) / 2) AS INT)"
    return (
        f"abs(length({a}) - length({b})) <= 1"
        f" AND ({k} < 1 OR starts_with({a}, left({b}, {k})) OR ends_with({a}, right({b}, {k})))"
    )


def more_than_one_edit_sql(a: str, b: str) -> str:
    """``damerau_levenshtein(a, b) > 1`` (NULL when either is NULL), the distance computed only
    for the pairs ``one_edit_necessary_between`` lets through: two different addresses or phone
    numbers, nearly every pair tested, fail it on their lengths or ends."""
    return (
        f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL"
        f" WHEN {one_edit_necessary_between(a, b)} THEN damerau_levenshtein({a}, {b}) > 1 ELSE true END"
    )


def _swapped_level(dialect: str = "duckdb"):
    """First and last name swapped (POS billing names: "Berglund Mikael"), exactly or with a
    typo in either ("hyland laurwn" / "lauren hyland"), or beside the first name's initial
    ("Andersson Benny" / "B. Andersson"): each name close to the other record's other name. The same level in both name comparisons, so a swap counts as both names agreeing."""
    import splink.comparison_level_library as cll

    jw = _jaro_winkler_function(dialect)
    fn, ln = "first_name_match", "last_name_match"
    return cll.Or(
        cll.ColumnsReversedLevel(fn, ln, symmetrical=True),
        cll.CustomLevel(f"{jw}({fn}_l, {ln}_r) >= 0.9 AND {jw}({ln}_l, {fn}_r) >= 0.9"),
        # swapped on one record, the first name an initial on the other ("Andersson Benny" /
        # "B. Andersson"): the initial grade, read across the swap
        cll.CustomLevel(
            f"(length({fn}_l) = 1 AND {fn}_l = substr({ln}_r, 1, 1) AND {ln}_l = {fn}_r)"
            f" OR (length({fn}_r) = 1 AND {fn}_r = substr({ln}_l, 1, 1) AND {ln}_r = {fn}_l)"
        ),
    ).configure(label_for_charts=SWAPPED)


def _first_name_comparison(swapped: bool = True, dialect: str = "duckdb"):
    """How two first names relate, strongest grade first; the one definition, which the
    deterministic stitching uses too (``first_name_grade_sql``):

    - exact (term-frequency adjusted); first and last name swapped (POS billing names);
    - a name variant: they share a group of ``name_variants`` (a nickname, short form,
      spelling or transliteration: tessan/therese, lasse/lars, mohammed/muhammad, bill/william);
    - a part of a double name: one's words hold the other's ("anna karin" / "anna", "karin
      anna"), or one is written with initials ("p o", "anna k", or "po" when that is not itself
      a name: Bo is not Bengt-Olof's initials) and has the other's initials and the full words
      of one are among the other's, or one is a single name that shares a group with a word of
      the other ("lasse" / "lars ake", "kalle" / "karl johan": a part written as its short form,
      as "lars" / "lars ake" is). Only what the table says: "annika" is in no group of "anna" or
      "karin", so it stays a different name from "anna karin";
    - an initial ("a" / "anders"), or initials written apart beside a name with the first of
      them ("o p" / "ole", "l g" / "lars": both parts of one double name; not "owe" / "outi");
    - masculine and feminine form (erik/erika, johan/johanna, mario/maria: they differ only in
      their last two letters and just one ends in "a"): alike as strings, a brother and a
      sister as names, twins included; a level of its own, trained apart from "else";
    - a typo: one edit apart with both names of four letters or more, or Jaro-Winkler >= 0.92
      between single names (not between double names: "anna maria" / "anna karin" score high
      on their shared start alone), or one an unambiguous typo of a variant of the other
      ("hons" / "hasse": ``_typo_of_a_variant_level``);
    - else: different names. No "somewhat similar" tier: Carl-Henrik and Caroline share
      letters, not a name, so training gives "else" a strongly negative weight wherever names
      are reliable.

    Written with portable array and string levels over the ``name_keys`` columns, so every
    Splink backend runs it.
    """
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    col = "first_name_match"
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            cll.ExactMatchLevel(col, term_frequency_adjustments=True),
            *([_swapped_level(dialect)] if swapped else []),
            # the array tests run only where they can hold (a cheap test first): most names are one
            # word, and two different one-word names are never parts of each other
            cll.And(
                cll.CustomLevel("first_name_has_keys_l AND first_name_has_keys_r"),
                cll.ArrayIntersectLevel("first_name_keys", 1),
            ).configure(label_for_charts="name variant (nickname)"),
            cll.And(
                cll.CustomLevel("NOT (first_name_single_l AND first_name_single_r)"),
                cll.Or(
                    cll.ArraySubsetLevel("first_name_words"),
                    cll.And(
                        cll.CustomLevel(
                            "(first_name_abbreviated_l OR first_name_abbreviated_r)"
                            " AND first_name_initials_l = first_name_initials_r"
                        ),
                        cll.ArraySubsetLevel("first_name_full_words", empty_is_subset=True),
                    ),
                    # a single name that is a variant of one of the double name's words (lasse /
                    # lars ake): a part written as its short form. Not between two double names:
                    # anna maria / anna karin share anna's groups, not a name
                    cll.And(
                        cll.CustomLevel(
                            "first_name_single_l <> first_name_single_r"
                            " AND first_name_has_part_keys_l AND first_name_has_part_keys_r"
                        ),
                        cll.ArrayIntersectLevel("first_name_part_keys", 1),
                    ),
                ),
            ).configure(label_for_charts="part of a double name"),
            cll.Or(
                cll.CustomLevel(
                    f"(length({col}_l) = 1 OR length({col}_r) = 1) AND substr({col}_l, 1, 1) = substr({col}_r, 1, 1)"
                ),
                # initials written apart ("o p", "l g") beside a name written out ("ole",
                # "lars"): the first initial is that name's, as a one-letter initial would be.
                # Both are parts of one double name (Ole-Petter, Lars-Goran). Not a short word
                # read as initials ("owe", "po"): Owe and Outi are two names
                cll.And(
                    cll.CustomLevel(
                        "((first_name_abbreviated_l AND NOT first_name_single_l AND NOT first_name_abbreviated_r)"
                        " OR (first_name_abbreviated_r AND NOT first_name_single_r AND NOT first_name_abbreviated_l))"
                        f" AND substr({col}_l, 1, 1) = substr({col}_r, 1, 1)"
                    ),
                    cll.ArraySubsetLevel("first_name_full_words", empty_is_subset=True),
                ),
            ).configure(label_for_charts="initial"),
            cll.CustomLevel(
                f"({col}_l LIKE '%a') <> ({col}_r LIKE '%a')"
                f" AND greatest(length({col}_l), length({col}_r)) - 2 >= 2"
                f" AND substr({col}_l, 1, greatest(length({col}_l), length({col}_r)) - 2)"
                f" = substr({col}_r, 1, greatest(length({col}_l), length({col}_r)) - 2)",
                label_for_charts=MASCULINE_FEMININE,
            ),
            cll.Or(
                cll.And(
                    cll.CustomLevel(f"least(length({col}_l), length({col}_r)) >= 4"),
                    _one_edit_necessary(col),
                    *_one_edit_apart(col),
                ),
                cll.And(
                    cll.CustomLevel("first_name_single_l AND first_name_single_r"), cll.JaroWinklerLevel(col, 0.92)
                ),
                _typo_of_a_variant_level(dialect),
                _double_name_typo_level(dialect),
            ).configure(label_for_charts="typo"),
            # two edits apart and alike (Jaro-Winkler >= 0.8, the first letter the same) between
            # single names of four letters or more ("rachel" / "rqcel" 0.84, "thomas" / "thomrds"
            # 0.91, "jackson" / "jadksno": FEBRL-class typos, "else" before, scoring such pairs
            # without a surname below the floor). The two tests keep out two names two edits apart
            # that share little (emil / erik 0.67, jonas / johan 0.79) or differ at the start
            # (anna / hannah). Trained like every level, and not one of SAME_FIRST_NAME_GRADES:
            # stitching and the twins level read it as two names
            #
            # Written as nested CASEs, not ANDs: DuckDB computed the edit distance for far more of
            # the pairs the level is tested on (the random pairs of u estimation, nearly all two
            # names) than pass the cheap tests (it reorders an AND's terms as it goes); a CASE
            # computes its THEN only where its WHEN holds (0.11 -> 0.03 CPU s on 0.47M such pairs).
            # Where the level is tested (a WHEN of the comparison's CASE, ``first_name_grade_sql``)
            # only whether it holds counts, and that is the same as the ANDs'
            cll.CustomLevel(
                f"CASE WHEN first_name_single_l AND first_name_single_r AND least(length({col}_l), length({col}_r)) >= 4"
                f" AND substr({col}_l, 1, 1) = substr({col}_r, 1, 1)"
                f" THEN CASE WHEN {_jaro_winkler_function(dialect)}({col}_l, {col}_r) >= 0.8"
                f" THEN {_damerau_levenshtein_function(dialect)}({col}_l, {col}_r) <= 2 ELSE false END ELSE false END",
                label_for_charts=TWO_EDITS_APART,
            ),
            cll.ElseLevel(),
        ],
    )


def _typo_of_a_variant_level(dialect: str = "duckdb"):
    """One single name is an unambiguous typo of a variant of the other (``name_keys``'
    ``typo_keys``: "hons", one edit from Hans and from no other known name, beside "hasse"):
    graded a typo, as "hons" / "hans" is. Not between two such typos (each is one edit from a
    name, not from each other). A CASE: the overlap is computed only for the few names with
    typo keys."""
    import splink.comparison_level_library as cll

    def overlap(x: str, y: str) -> str:
        return (
            f"size(array_intersect({x}, {y})) >= 1"
            if dialect == "spark"
            else f"array_length(list_intersect({x}, {y})) >= 1"
        )

    def one_way(x: str, y: str) -> str:
        return (
            f"WHEN first_name_has_typo_keys_{x} AND first_name_has_keys_{y} AND first_name_single_{y}"
            f" THEN {overlap(f'first_name_typo_keys_{x}', f'first_name_keys_{y}')}"
        )

    return cll.CustomLevel(f"CASE {one_way('l', 'r')} {one_way('r', 'l')} ELSE false END")


def _double_name_typo_level(dialect: str = "duckdb"):
    """A double name written apart on one record and together or split elsewhere on the other,
    with one typo besides: one edit apart once their spaces are dropped ("anne marrie" /
    "annemarie", "anna karin" / "annakarn"; Nordic seed 101). Read as the other tiers read a
    double name's spelling: the space is where a hyphen was or was not written, not a letter, so
    the plain one-edit test, which counts it, puts a typo on top of it at two edits ("else").
    Only where one of the two is written in words (single names keep the plain test), neither is
    written with initials ("hans h" without its space is one edit from "hanah": Hans H. is not
    Hannah; the initial grades read those), and with four letters or more either side. A CASE: the
    distance is computed only for those pairs."""
    import splink.comparison_level_library as cll

    col = "first_name_match"
    dl = _damerau_levenshtein_function(dialect)
    joined = {side: f"replace({col}_{side}, ' ', '')" for side in ("l", "r")}
    return cll.CustomLevel(
        f"CASE WHEN NOT (first_name_single_l AND first_name_single_r)"
        " AND NOT first_name_abbreviated_l AND NOT first_name_abbreviated_r"
        f" AND least(length({joined['l']}), length({joined['r']})) >= 4"
        f" AND abs(length({joined['l']}) - length({joined['r']})) <= 1"
        f" THEN {dl}({joined['l']}, {joined['r']}) <= 1 ELSE false END"
    )


# The first-name grades that mean "may be one person's name" (the others: different names)
SAME_FIRST_NAME_GRADES = (
    "Exact match on first_name_match",
    SWAPPED,
    "name variant (nickname)",
    "part of a double name",
    "initial",
    "typo",
)


@functools.cache
def first_name_grade_sql() -> str:
    """DuckDB SQL grading two first names as the model does: a CASE over columns
    ``first_name_match_l/_r``, ``last_name_match_l/_r`` and the ``name_keys`` columns ``_l/_r``,
    giving the level's label (``SAME_FIRST_NAME_GRADES`` or another).

    Built once per process: Splink parses every level's SQL (sqlglot) to build it, about 0.3 s
    of CPU each time, and a quiet night asked for it four times (stitching twice, the household
    pairs, the household counts)."""
    levels = _first_name_comparison().get_comparison("duckdb").comparison_levels
    whens = " ".join(
        f"WHEN {level.sql_condition} THEN '{level.label_for_charts}'"
        for level in levels
        if level.sql_condition != "ELSE"
    )
    other = next(level.label_for_charts for level in levels if level.sql_condition == "ELSE")
    return f"CASE {whens} ELSE '{other}' END"


def _last_name_comparison(swapped: bool = True, dialect: str = "duckdb"):
    """Exact (term-frequency adjusted), swapped with the first name, typo tiers, else."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    col = "last_name_match"
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            cll.ExactMatchLevel(col, term_frequency_adjustments=True),
            *([_swapped_level(dialect)] if swapped else []),
            # a space put in or dropped is a typo too ("h o" / "ho", "van der berg" / "vanderberg"),
            # which Jaro-Winkler puts at "else" on a short name: its match window shrinks to nothing
            cll.Or(
                cll.JaroWinklerLevel(col, 0.92),
                cll.CustomLevel(f"replace({col}_l, ' ', '') = replace({col}_r, ' ', '')"),
            ).configure(label_for_charts="Jaro-Winkler >= 0.92 or the same without spaces"),
            cll.JaroWinklerLevel(col, 0.88),
            cll.JaroWinklerLevel(col, 0.7),
            # surname-first on one record and its other name replaced, missing or mistyped twice
            # ("Faofa Trowse" / "Trowse Mayq", "Alexandra Hope" / "(no first name) Alexandra":
            # FEBRL-class data, 0.02-0.10 as "else"). Only here, not in the first-name
            # comparison too: one name agrees, and it is counted once; the first names compared
            # as they are ("else" for Kristen / Jolly) keep their own weight
            *([_one_name_swapped_level(dialect)] if swapped else []),
            cll.ElseLevel(),
        ],
    )


def _one_name_swapped_level(dialect: str = "duckdb"):
    """One record's first name is the other's surname: the first record's name written surname
    first. Not when that record's last name is a word the records carry as a first name too
    (``last_name_also_first``) more than two edits from the other's first name: "Jansson Pia"
    beside "Fredrik Jansson" is Pia and Fredrik who share a surname (twins on the family inbox,
    HC-TWIN-Q/R: +8.7 for the surname without this), not one name swapped; "Jolly Krisgnn"
    (a word no record carries as a first name) beside "Kristen Jolly" still is."""
    import splink.comparison_level_library as cll

    fn, ln = "first_name_match", "last_name_match"
    dl = _damerau_levenshtein_function(dialect)

    def swapped_on(side: str, other: str) -> str:
        # ``side``'s first name is ``other``'s surname, and ``side``'s own first name (its last
        # field) is not a different given name from ``other``'s. A CASE, not an AND: DuckDB
        # computed the distance for far more pairs than have the names equal (0.16 CPU s on
        # 0.47M random pairs, as a CASE 0.02); the level holds for the same pairs
        return (
            f"CASE WHEN {fn}_{side} = {ln}_{other} THEN NOT coalesce(last_name_also_first_{side}"
            f" AND {dl}({ln}_{side}, {fn}_{other}) > 2, false) ELSE false END"
        )

    return cll.CustomLevel(f"{swapped_on('l', 'r')} OR {swapped_on('r', 'l')}", label_for_charts=ONE_NAME_SWAPPED)


SHARED_BY_TWO_NAMES = "exact, first names differ (shared by a household)"
BIRTH_DATE_TYPO = "one typo, a day or month apart, or day and month swapped"


def first_names_differ_sql(dialect: str = "duckdb") -> str:
    """SQL over ``first_name_match_l/_r`` (and the ``name_keys`` columns): both records carry a
    first name and the model's first-name comparison grades them as two names (none of
    ``SAME_FIRST_NAME_GRADES``), nor one typo apart, and neither record's first name is the
    other's last name where the data carries that word more often as a first name
    (``last_name_is_given``: a billing name written surname first, "Bengtsson Kristina", beside
    "Kristina Andersson", her name before she married: one person, whose two names the swapped
    level cannot pair; but "Jansson Pia" beside "Fredrik Jansson" share a surname, not a name)."""
    same = one_name_conditions(dialect)
    # Equal names first, then each condition as a WHEN of its own: the level is tested on every
    # pair sharing an e-mail or phone, most of them one name, and DuckDB computes every term of
    # NOT (... OR ...) for each row it reaches (scoring the 100k sample: 1.2 s for this comparison,
    # 0.8 s with equal names first), while a CASE tests each WHEN only on the rows no earlier one
    # took. The pairs no condition holds for reach the plain NOT (... OR ...), which gives them
    # the same true, or NULL where a term is NULL, as before. At 1M the scoring's 1.34M pairs hold
    # 38,767 on one e-mail with two first names (14,254 on one phone), 244 (81) reach the ELSE:
    # the two levels went from 1.15 / 0.96 to 0.80 / 0.62 CPU s (DuckDB pays for each term per
    # chunk of rows it reaches, not per row)
    # (benchmarks/results/2026-12-07-s39-train.md)
    whens = " ".join(f"WHEN {c} THEN false" for c in same)
    return (
        "(first_name_match_l IS NOT NULL AND first_name_match_r IS NOT NULL"
        f" AND CASE WHEN first_name_match_l = first_name_match_r THEN false {whens} ELSE NOT ("
        + " OR ".join(f"({c})" for c in same)
        + ") END)"
    )


def one_name_conditions(dialect: str = "duckdb") -> list[str]:
    """SQL conditions of which any says two first names may be one person's (``first_names_differ_sql``)."""
    return [
        level.sql_condition
        for level in _first_name_comparison(True, dialect).get_comparison(dialect).comparison_levels
        if level.label_for_charts in SAME_FIRST_NAME_GRADES
    ] + [
        # one's first name is the other's last name, where that last name is a first name by the
        # data (name_keys.build_name_roles): the other's name written surname first. Not where it
        # is a surname: "Jansson Pia" beside "Fredrik Jansson" share a surname (twins on the family
        # inbox, merged at 0.998 with the inbox at its full weight in the hard-case sample)
        "coalesce(first_name_match_l = last_name_match_r AND last_name_is_given_r, false)",
        "coalesce(last_name_match_l = first_name_match_r AND last_name_is_given_l, false)",
        # one surname across the two fields and the first names one typo apart across them
        # ("Sundberg Safie" / "Sofie Sundberg"), as stitching reads them (stitching._two_people_ctes)
        f"coalesce(first_name_match_l = last_name_match_r"
        f" AND {_damerau_levenshtein_function(dialect)}(last_name_match_l, first_name_match_r) <= 1, false)",
        f"coalesce(last_name_match_l = first_name_match_r"
        f" AND {_damerau_levenshtein_function(dialect)}(first_name_match_l, last_name_match_r) <= 1, false)",
        # one typo in a short name too ("bo" / "boo", "ib" / "ibb" on bo.johansson67@): too weak
        # a sign for the model's typo level, which must not call Bo and Eo one name, but two
        # family members on one inbox are not one typo apart
        f"{_damerau_levenshtein_function(dialect)}(first_name_match_l, first_name_match_r) <= 1",
    ]


def mailbox_spells_both_names_sql(dialect: str = "duckdb") -> str:
    """SQL over ``email_l`` and ``first_name_match_l/_r``: the e-mail's local part begins with a
    name (four letters or more) one edit from each record's first name and equal to neither:
    ``kristian_forsman@`` beside "Kriotian" and "Kristirn", ``ingvar.andersson@`` beside
    "Ignvar" and "Ingar". Two typos of the name the mailbox spells, on one person's mailbox: not
    a family inbox (``familjen.x@`` spells no first name) nor a sibling's or partner's mailbox
    (one of two family members' names is the name it spells: Erika's ``erika.x@`` beside Erik,
    Hanna's ``hanna.x@`` beside Anna; Emma's ``emma.x@`` is two edits from Emil)."""
    dl = _damerau_levenshtein_function(dialect)
    local = "translate(lower(split_part(email_l, '@', 1)), '._-+0123456789', '')"
    left, right = "replace(first_name_match_l, ' ', '')", "replace(first_name_match_r, ' ', '')"
    tests = []
    for k in (-1, 0, 1):
        spelled = f"substr({local}, 1, length({left}) + {k})"
        tests.append(
            f"(length({spelled}) = length({left}) + {k} AND length({spelled}) >= 4"
            f" AND {spelled} <> {left} AND {spelled} <> {right}"
            f" AND {dl}({spelled}, {left}) <= 1 AND {dl}({spelled}, {right}) <= 1)"
        )
    return "coalesce(" + " OR ".join(tests) + ", false)"


def _add_shared_by_two_names_level(model: dict, col: str, dialect: str) -> None:
    """Give the same ``col`` (e-mail, phone) on two records whose first names are two names (a
    family inbox, a landline) a level of its own, first after the null level, in a trained model (a saved Splink
    model, changed in place). Such a value says the two live together, which their surname and
    address already say, not that they are one person; so the level weighs nothing (m = u,
    fixed). Counted at the "exact" weight, a family inbox outweighed a different first name, and
    twins or a couple on one inbox became one customer.

    Added after training, not trained: with the level in place, EM on a small sample (400
    customers) drove the "else" level of the e-mail to m = 1e-39, and same-named records with
    two e-mails stopped linking; trained as before, the model keeps its weights, and only the
    pairs on a family inbox score differently."""
    comparison = next(c for c in model["comparisons"] if c["output_column_name"] == col)
    levels = comparison["comparison_levels"]
    if any(lv.get("label_for_charts") == SHARED_BY_TWO_NAMES for lv in levels):
        return
    exact = next(lv for lv in levels if lv.get("label_for_charts", "").startswith("Exact match"))
    u = exact.get("u_probability") or 1e-4
    at = next(i for i, lv in enumerate(levels) if not lv.get("is_null_level"))
    condition = f'"{col}_l" = "{col}_r" AND {first_names_differ_sql(dialect)}'
    if col == "email":
        condition += f" AND NOT {mailbox_spells_both_names_sql(dialect)}"
    else:
        # nor is a phone a family landline beside one person's mailbox, mistyped in both first
        # names ("Willilm" / "Wieliam" on william.jansson@ and one mobile, Nordic set, seed 23):
        # the e-mail's own test says one person, and the phone weighed 0 beside it
        condition += f' AND NOT coalesce("email_l" = "email_r" AND {mailbox_spells_both_names_sql(dialect)}, false)'
    levels.insert(
        at,
        {
            "sql_condition": condition,
            "label_for_charts": SHARED_BY_TWO_NAMES,
            "m_probability": u,
            "u_probability": u,
            "fix_m_probability": True,
            "fix_u_probability": True,
        },
    )


HOUSEHOLD_VALUE_BESIDE_ANOTHER = "two values, one a household's (shared by two names)"


def _add_household_value_beside_another_level(model: dict, col: str) -> None:
    """Give two different ``col`` values (e-mail, phone) of which one is a household's (its
    records name two people: a family inbox, a family landline; ``HOUSEHOLD_VALUES``) a level of
    its own, just before "else", in a trained model (changed in place). One person's records
    carry the family inbox and landline on one order and her own mailbox and mobile on another:
    the two values say nothing against one person (Carl-Henrik Eriksson's CRM record on
    ``familjen.eriksson@`` and a mobile, his order on his own mailbox and the family landline:
    0.983 with e-mail -3.6 and phone -5.6, Nordic set, seed 53). So the level weighs nothing
    (m = u, fixed), like the same value shared by two names (``_add_shared_by_two_names_level``).
    Two members of a household on their own values and the inbox are still two names (the first
    name weighs, and the household cannot-link of stitching keeps them apart); a same-named parent
    and child are told apart by their birth dates. Added after training, as that level is: the
    model's other weights stay as trained."""
    comparison = next(c for c in model["comparisons"] if c["output_column_name"] == col)
    levels = comparison["comparison_levels"]
    if any(lv.get("label_for_charts") == HOUSEHOLD_VALUE_BESIDE_ANOTHER for lv in levels):
        return
    at = next(i for i, lv in enumerate(levels) if lv.get("sql_condition") == "ELSE")
    u = levels[at].get("u_probability") or 1.0
    levels.insert(
        at,
        {
            # unquoted: a double-quoted name is a string literal in Spark SQL
            "sql_condition": f"coalesce({col}_household_l OR {col}_household_r, false)",
            "label_for_charts": HOUSEHOLD_VALUE_BESIDE_ANOTHER,
            "m_probability": u,
            "u_probability": u,
            "fix_m_probability": True,
            "fix_u_probability": True,
        },
    )


TWO_NAMES_ONE_HOUSEHOLD = "two names, same surname, birth date and street"
# two first names graded a typo that are both known names (``name_keys``' ``real``: Ali / Alin,
# Yasin / Yasir, Tomas / Domas): two names where a pair shares a surname and an address, for the
# two-names-one-household level and the household cannot-link (``stitching``). Not in the model's
# own grades nor stitching's: at 1M such names meet 1,336 times in true links (gunnar / gunar,
# annika / anika: a typo that happens to be a name) against 15 false ones (s42-names); at one
# surname and address, with contacts of their own or one birth date, twins and brothers are
# what the world-names set shows (s44-ident-world)
TWO_REAL_NAMES = "coalesce(first_name_real_l AND first_name_real_r, false)"
# how many pairs the model's own view of such a pair counts for, beside the pairs the data shows
HOUSEHOLD_PSEUDO_PAIRS = 2


def household_pair_counts(con: duckdb.DuckDBPyConnection, key: str = "household_birth_key") -> tuple[int, int]:
    """Among pairs of records that agree on surname, birth date and street (``key``
    ``household_key``: surname and street) and whose first names are two names (twins, or one
    person whose first name was replaced): how many carry contacts that can tell (both an e-mail,
    or both a phone), and how many of those share one."""
    pair = ", ".join(
        f"a.{c} AS {c}_l, b.{c} AS {c}_r" for c in ("first_name_match", "last_name_match", *NAME_KEY_COLUMNS.values())
    )
    row = con.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE shared)
        FROM (SELECT *, {first_name_grade_sql()} AS grade FROM (SELECT {pair},
                     coalesce(a.contact_email = b.contact_email OR a.contact_phone = b.contact_phone, false) AS shared
              FROM {SPLINK_INPUT} a JOIN {SPLINK_INPUT} b
                ON a.{key} = b.{key} AND a.unique_id < b.unique_id
              WHERE a.first_name_match <> b.first_name_match
                AND ((a.contact_email IS NOT NULL AND b.contact_email IS NOT NULL)
                     OR (a.contact_phone IS NOT NULL AND b.contact_phone IS NOT NULL))))
        WHERE NOT list_contains($same::VARCHAR[], grade) OR (grade = 'typo' AND {TWO_REAL_NAMES})
        """,
        {"same": list(SAME_FIRST_NAME_GRADES)},
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def _level_probabilities(linker) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    """(comparison, level label) -> (m, u) as the linker scores with them (an m no EM session
    could train counts at Splink's default)."""
    return {
        (c.output_column_name, lv.label_for_charts): (lv.m_probability, lv.u_probability)
        for c in linker._settings_obj.comparisons
        for lv in c.comparison_levels
        if not lv.is_null_level
    }


def _add_two_names_one_household_level(
    model: dict, probabilities: dict, household_pairs: tuple[int, int], dialect: str = "duckdb"
) -> str | None:
    """Give two first names on records that agree on surname, birth date and street a level of
    their own, before the levels that grade two names (masculine and feminine form, "else"; a
    typo is one name), weighed by what the data says of such pairs (a saved Splink model,
    changed in place; returns a training note, or None when the level is not added).
    A surname one typo apart counts as the same surname here ("Hellgesson" / "Helgesson"): the
    typo lowers the surname's own weight, not the evidence that two first names at one birth
    date and street are two people (twins:00006 of the hard-case sample merged so, at +6.8).

    Adding up its comparisons as if they were independent, the model scores such a pair (twins)
    at prior + surname + birth date + address + first name "else" (hard-case sample: about +12,
    one person almost surely). Among the pairs whose e-mails or phones can tell, the share that
    shares one is an upper bound of how often it is one person (a family inbox is shared by two);
    the level sets the pair's score to that share's log-odds, the model's own probability counting
    as ``HOUSEHOLD_PSEUDO_PAIRS`` pairs beside the observed ones. A data set where no such pair
    carries contacts (FEBRL, where they are one person whose first name was replaced) gets no
    level; the model weighs them as trained."""
    import math

    observed, shared = household_pairs
    if not observed:
        return None
    first_names = next(c for c in model["comparisons"] if c["output_column_name"] == "first_name_match")
    first_names = first_names["comparison_levels"]
    other = next(lv for lv in first_names if lv["sql_condition"] == "ELSE")
    parts = [
        probabilities.get(key, (None, None))
        for key in (
            ("last_name_match", "Exact match on last_name_match"),
            ("birth_date", "Exact match on birth_date"),
            ("address", "street and postcode exact"),
            ("first_name_match", other["label_for_charts"]),
        )
    ]
    if not all(m and u for m, u in parts):
        return None
    prior = model["probability_two_random_records_match"]
    score = math.log2(prior / (1 - prior)) + sum(math.log2(m / u) for m, u in parts)
    p_model = 1 / (1 + 2**-score)
    p = (shared + HOUSEHOLD_PSEUDO_PAIRS * p_model) / (observed + HOUSEHOLD_PSEUDO_PAIRS)
    target = math.log2(p / (1 - p))
    if target >= score:
        return None
    # before every level that grades two names, not only before "else": Maja / Max and Emma / Emil
    # are the masculine-and-feminine level's (its first letters agree, one ends in "a"), which
    # training weighed +1.5 to +2.3, so twins of those names stood at +30 (Nordic set, seeds 23
    # and 53). A pair the levels it jumps ahead of grade one name (a typo) keeps its grade: the
    # first of them that holds decides, as in the comparison (Erik / Erika is one edit apart too)
    at = next((i for i, lv in enumerate(first_names) if lv.get("label_for_charts") == MASCULINE_FEMININE), None)
    at = first_names.index(other) if at is None else at

    # two known names one typo apart (TWO_REAL_NAMES) are two names here where the pair's contacts
    # are there to weigh (both an e-mail or both a phone): twins Ali and Alin, each with a phone.
    # Not where they cannot tell: a CRM "Maria" with a phone beside her newsletter "Maaria" (a
    # Finnish name, here her typo) with an e-mail, one birth date and street (Nordic set, seed 97)
    def says_two(lv: dict) -> str:
        label = lv.get("label_for_charts")
        if label == "typo":
            return (
                f"({TWO_REAL_NAMES} AND ((email_l IS NOT NULL AND email_r IS NOT NULL)"
                " OR (phone_l IS NOT NULL AND phone_r IS NOT NULL)))"
            )
        return str(label not in SAME_FIRST_NAME_GRADES).lower()

    grades = " ".join(
        f"WHEN {lv['sql_condition']} THEN {says_two(lv)}" for lv in first_names[at : first_names.index(other)]
    )
    two_names = f" AND CASE {grades} ELSE true END" if grades else ""
    household = (
        "(household_birth_key_l = household_birth_key_r OR (birth_date_l = birth_date_r"
        f" AND household_street_l = household_street_r AND {_damerau_levenshtein_function(dialect)}"
        "(last_name_match_l, last_name_match_r) <= 1))"
    )
    first_names.insert(
        at,
        {
            "sql_condition": household + two_names,
            "label_for_charts": TWO_NAMES_ONE_HOUSEHOLD,
            "m_probability": parts[-1][0] * 2 ** (target - score),
            "u_probability": parts[-1][1],
            "fix_m_probability": True,
            "fix_u_probability": True,
        },
    )
    return (
        f"{TWO_NAMES_ONE_HOUSEHOLD}: {shared} of {observed} such pairs whose contacts can tell share one; "
        f"such a pair scores {target:+.1f} instead of {score:+.1f}"
    )


def _one_typo_comparison(col: str, *, transpositions: bool, separators: str = ""):
    """Exact, one edit (Levenshtein <= 1; with ``transpositions`` Damerau-Levenshtein <= 1: two
    digits of a number swapped), else. The same levels as Splink's Levenshtein- and
    DamerauLevenshteinAtThresholds, with cheap tests first (``_one_edit_necessary``, then
    Levenshtein): one-edit pairs are rare among the ten million random pairs u estimation
    compares, so it compares them all, and the plain distances on whole addresses cost about
    8 s a comparison."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    close = _one_edit_necessary(col)
    one_edit = _one_edit_apart(col) if transpositions else [cll.LevenshteinLevel(col, 1)]
    label = ("Damerau-Levenshtein" if transpositions else "Levenshtein") + f" distance of {col} <= 1"
    if separators:
        # "hans.jonsson@" / "hansjonsson@" are two mailboxes, and just the forms two people of
        # one name end up with when the first is taken: not a typo, so they fall to "else"
        bare = lambda side: f"translate({col}_{side}, '{separators}', '')"  # noqa: E731  (DuckDB and Spark)
        one_edit.append(cll.CustomLevel(f"{bare('l')} <> {bare('r')}"))
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            cll.ExactMatchLevel(col),
            cll.And(close, *one_edit).configure(label_for_charts=label),
            cll.ElseLevel(),
        ],
    )


def _birth_date_comparison(dialect: str = "duckdb"):
    """Exact, one typo in the written date, day and month swapped, one day apart or one month
    apart on the same day, else.

    One day or month apart across a digit (1952-10-09 / 1952-10-10, 1958-10-09 / 1958-09-09) is
    two characters, not one typo, yet the same slip of the day or the month. No "within ten years" tier: a different birth date is
    evidence of a different person (a parent and a child share name and address; twins share
    the date itself)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    col = "birth_date"
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            cll.ExactMatchLevel(col),
            cll.Or(
                # one edit apart (``_one_edit_apart``) in a CASE: behind an AND, DuckDB computed
                # the Damerau-Levenshtein distance for far more pairs than are within two
                # Levenshtein edits, a CASE only for those; it holds for the same pairs
                cll.CustomLevel(
                    f"CASE WHEN levenshtein(CAST({col}_l AS STRING), CAST({col}_r AS STRING)) <= 2"
                    f" THEN {_damerau_levenshtein_function(dialect)}(CAST({col}_l AS STRING), CAST({col}_r AS STRING)) <= 1"
                    " ELSE false END"
                ),
                cll.CustomLevel(
                    f"month({col}_l) = day({col}_r) AND day({col}_l) = month({col}_r) AND year({col}_l) = year({col}_r)"
                ),
                cll.AbsoluteDateDifferenceLevel(col, input_is_string=False, threshold=1, metric="day"),
                cll.CustomLevel(
                    f"day({col}_l) = day({col}_r)"
                    f" AND abs(year({col}_l) * 12 + month({col}_l) - year({col}_r) * 12 - month({col}_r)) = 1"
                ),
            ).configure(label_for_charts=BIRTH_DATE_TYPO),
            cll.ElseLevel(),
        ],
    )


def splink_settings(config: IdentityConfig, dialect: str = "duckdb", *, swapped: bool = True):
    """Splink settings, shared by every engine: comparisons and prediction blocking rules.

    ``dialect`` (``duckdb`` or ``spark``) only names the backend's Jaro-Winkler function in
    the hand-written address level; everything else is dialect-free. ``swapped``: with the
    swapped-names levels (``_estimate_u`` trains without them).
    """
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            _first_name_comparison(swapped, dialect),
            _last_name_comparison(swapped, dialect),
            _birth_date_comparison(dialect),
            _address_comparison(dialect),
            # exact, or one typo on the whole address: similar name-based addresses
            # (anna.berg12@ vs anna.berg7@) belong to different people
            _one_typo_comparison("email", transpositions=True, separators="._-"),
            _one_typo_comparison("phone", transpositions=True),
        ],
        blocking_rules_to_generate_predictions=[blocking_rule(r) for r in config.splink.blocking_rules],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
        additional_columns_to_retain=["source"],
    )


def blocking_rule(rule: tuple[str, ...] | SqlRule):
    """A Splink blocking rule from ``identity.yaml``: equal columns/expressions, or SQL."""
    from splink import block_on
    from splink.blocking_rule_library import CustomRule

    return CustomRule(rule.sql) if isinstance(rule, SqlRule) else block_on(*rule)


def blocking_rule_name(rule: tuple[str, ...] | SqlRule) -> str:
    if isinstance(rule, SqlRule):
        return rule.name or rule.sql
    return " + ".join(rule)


def _safe(notes: list[str], what: str, fn, *args, **kwargs) -> bool:
    """Training steps can fail on small or one-sided data (no pairs in a block): note it, go on."""
    try:
        fn(*args, **kwargs)
        return True
    except Exception as exc:  # noqa: BLE001 - Splink raises plain Exceptions here
        notes.append(f"{what}: skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})")
        log.warning("identity model: %s skipped: %s", what, exc)
        return False


@contextmanager
def _sql_checks_once():
    """Splink parses a comparison level's SQL with sqlglot each time the level is built (a
    syntax check) and, at every EM session's start, again to normalise it (is it an exact
    match?): pure Python, and a night builds the same levels in five linkers and asks the same
    question in every session. Both answers depend on the level's SQL and dialect alone, so
    within the block each is worked out once per distinct level (about 1.5 of a full night's
    CPU seconds at 100,000 customers). An EM session asks the second question of every level
    only to keep the exact ones whose columns are all its blocking rule's: a level reading any
    other column is never kept, so there it is answered "no" without normalising its SQL (the
    long address, e-mail and first-name levels: about 0.4 CPU s a night at any size). Splink's
    own methods, restored on leaving."""
    from splink.internals.comparison_level import ComparisonLevel
    from splink.internals.parse_sql import get_columns_used_from_sql
    from splink.internals.settings import Settings

    validate, exact = ComparisonLevel.__dict__["_validate_sql"], ComparisonLevel.__dict__["_is_exact_match"]
    corresponding = Settings.__dict__["_get_comparison_levels_corresponding_to_training_blocking_rule"]
    valid: set = set()
    exact_by_sql: dict = {}
    rule_columns: list[set[str]] = []  # the columns of the blocking rule of the EM session being set up

    def key(level) -> tuple:
        return level.sql_condition, level.sqlglot_dialect

    def validate_once(level):
        if (k := key(level)) not in valid:
            validate(level)  # raises on SQL that does not parse, as Splink's
            valid.add(k)
        return True

    def exact_once(level):
        # Splink keeps an exact level for the session when the columns it matches on are all the
        # rule's: those are the level's own columns, so one reading another column is never kept
        if (
            rule_columns
            and not {c.unquote().name.lower() for c in level._input_columns_used_by_sql_condition} <= rule_columns[-1]
        ):
            return False
        if (k := key(level)) not in exact_by_sql:
            exact_by_sql[k] = exact.fget(level)
        return exact_by_sql[k]

    def corresponding_levels(blocking_rule_sql: str, sqlglot_dialect: str, comparisons):
        used = get_columns_used_from_sql(blocking_rule_sql, sqlglot_dialect=sqlglot_dialect)
        rule_columns.append({c.lower() for c in used})
        try:
            return corresponding.__func__(blocking_rule_sql, sqlglot_dialect, comparisons)
        finally:
            rule_columns.pop()

    ComparisonLevel._validate_sql = validate_once
    ComparisonLevel._is_exact_match = property(exact_once)
    Settings._get_comparison_levels_corresponding_to_training_blocking_rule = staticmethod(corresponding_levels)
    try:
        yield
    finally:
        ComparisonLevel._validate_sql = validate
        ComparisonLevel._is_exact_match = exact
        Settings._get_comparison_levels_corresponding_to_training_blocking_rule = corresponding


def train_and_predict(
    con: duckdb.DuckDBPyConnection,
    config: IdentityConfig,
    reports_dir: Path | None,
    *,
    full_refresh: bool = False,
    as_of=None,
    retrain_days: int = 7,
    engine_settings=None,
    name_roles_built: bool = False,
) -> ModelRun:
    """Score tonight's record pairs into ``temp._id_prob_edges`` (and write the reports).
    ``engine_settings``: where to train and score (``engine``: ``spark`` runs Splink's Spark
    backend with the ``spark_*`` settings); in process (DuckDB) when ``None``.
    ``name_roles_built``: as ``build_splink_input`` takes it.

    The stored model is reused unless it is due for retraining (``model_store``); with a
    reused model only records whose model input changed are scored, against every record,
    and the stored scores of unchanged pairs are kept. ``full_refresh`` scores every pair.
    """
    run = ModelRun(records_in_model=build_splink_input(con, config, name_roles_built=name_roles_built))
    _empty_edges(con)
    clear_pending_state(con)
    if run.records_in_model < 2:
        run.training_notes.append("fewer than two named records: no probabilistic linkage")
        forget_state(con)
        return run
    try:
        with _sql_checks_once():
            _train_and_predict(
                con,
                config,
                reports_dir,
                run,
                full_refresh=full_refresh,
                as_of=as_of,
                retrain_days=retrain_days,
                engine_settings=engine_settings,
            )
        run.thresholds = apply_thresholds(con, config.splink)
        run.edges = con.execute(f"SELECT count(*) FROM {PROB_EDGES}").fetchall()[0][0]
    finally:
        _drop_splink_tables(con)
    return run


def _train_and_predict(
    con: duckdb.DuckDBPyConnection,
    config: IdentityConfig,
    reports_dir: Path | None,
    run: ModelRun,
    *,
    full_refresh: bool,
    as_of,
    retrain_days: int,
    engine_settings=None,
) -> None:
    # --- engine dispatch (CDP_ENGINE, docs/spark.md) ---
    if engine_settings is not None and engine_settings.engine == "spark":
        from cdp_pipeline.lib.identity.spark_engine import train_and_predict_on_spark

        # Spark trains and scores everything every night; it keeps no model between nights,
        # so the next in-process night starts from a fresh model.
        forget_state(con)
        run.retrained, run.retrain_reason = True, "CDP_ENGINE=spark trains every night"
        run.household_pairs = household_pair_counts(con)  # read by training alone
        train_and_predict_on_spark(con, config, reports_dir, run, engine_settings)
        run.records_rescored = run.records_in_model
        return
    # --- end engine dispatch ---
    sp = config.splink
    db_api = _temp_tables_api(con)
    sdf = db_api.register(SPLINK_INPUT)
    _input_hashes(con)
    stored = load_model(con)
    run.retrain_reason = retrain_reason(con, stored, config, as_of, retrain_days)
    if run.retrain_reason:
        run.household_pairs = household_pair_counts(con)  # read by training alone
        linker = _rounded(train_model(db_api.register(_training_input(con)), config, run), sdf)
        run.probability_two_random_records_match = linker._settings_obj._probability_two_random_records_match
        _keep_new_model(con, linker, run, as_of, config)
    else:
        linker = _stored_linker(con, db_api, sdf, stored, run)
    if reports_dir is not None:
        _write_reports(linker, Path(reports_dir), run)

    has_scores = table_exists(con, "identity", "scored_pairs") and table_exists(con, "identity", "scored_records")
    if run.retrained or full_refresh or not has_scores:
        run.mode, run.records_rescored = "full", run.records_in_model
        report_phase("identity", f"scoring every pair of {run.records_in_model:,} records")
        # Splink's predict_within, its candidate pairs found more cheaply (blocking.py)
        with predictions(con, linker, sdf, threshold_match_probability=prediction_floor(sp)) as pred:
            names = [r[0] for r in con.execute(f"DESCRIBE {pred}").fetchall()]
            write_probabilistic_edges(
                con,
                pred,
                names,
                config,
                run,
                households=households_seen(con),
                two_names_one_household=two_names_one_household_gamma(linker),
            )
    else:
        report_phase("identity", "scoring changed records")
        _score_changed_records(con, db_api, linker, config, run)
    run.state_ready = True


def _training_input(con: duckdb.DuckDBPyConnection) -> str:
    """The model's input as training reads it: each record numbered by its place among the records,
    1..n. Training samples u on a hash of the numbers (``_sampled_level_counts``), so a night that
    trains numbers its records afresh (``resolve._numbering``), ``gap`` x 1..n, and the numbers
    are divided by ``gap`` here: the sample every training has drawn, whatever the gaps."""
    records, largest, gap = con.execute(f"SELECT count(*), max(rid), max(rid) // count(*) FROM {RECORDS}").fetchall()[0]
    if records and (
        largest != gap * records
        or con.execute(f"SELECT count(*) FROM {RECORDS} WHERE rid % $gap <> 0", {"gap": gap}).fetchall()[0][0]
    ):
        raise RuntimeError(f"training on records numbered up to {largest}, not a multiple of 1..{records}")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _id_splink_training AS
                    SELECT * REPLACE (unique_id // {int(gap or 1)} AS unique_id) FROM {SPLINK_INPUT}""")
    return "_id_splink_training"


def _temp_tables_api(con: duckdb.DuckDBPyConnection):
    """Splink's DuckDB backend on ``con``, its work tables created as TEMP tables. Splink creates
    them in the connection's default schema, here the build database's file: blocked pairs,
    comparison vectors, predictions (hundreds of thousands of rows, some a hundred columns wide)
    compressed and written to the file, then dropped, and the file grows by what they took (26 MB
    at 100,000 customers). TEMP tables stay in memory (spilling to the temp directory past the
    memory limit) like the tables of a plain Splink run on an in-memory connection; Splink reads
    them back by their bare names, which find TEMP tables first."""
    from splink import DuckDBAPI

    class _TempTablesAPI(DuckDBAPI):
        def _setup_for_execute_sql(self, sql: str, physical_name: str) -> str:
            create = super()._setup_for_execute_sql(sql, physical_name)
            if not create.startswith("CREATE TABLE "):  # Splink's parquet materialisation: left as is
                return create
            return "CREATE TEMP TABLE " + create.removeprefix("CREATE TABLE ")

    return _TempTablesAPI(connection=con)


def _input_hashes(con: duckdb.DuckDBPyConnection) -> None:
    """Per record, a hash of exactly what the model sees of it: equal hash, equal scores (with the
    record's ``rid``, tonight's number, which is not kept)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {NEW_SCORED_RECORDS.split(".")[-1]} AS
        SELECT r.source, r.source_record_id,
               {row_hash_sql([f"s.{c}" for c in MODEL_INPUT_COLUMNS])} AS input_hash, r.rid
        FROM {SPLINK_INPUT} s JOIN {RECORDS} r ON r.rid = s.unique_id
        ORDER BY r.rid  -- the record keys' order (records.py numbers them so), sorting integers
    """)


def _tf_columns(linker) -> list[str]:
    return [c.unquote().name for c in linker._settings_obj._term_frequency_columns]


MODEL_SIGNIFICANT_DIGITS = 12


def _round_floats(value):
    if isinstance(value, float):
        return float(f"{value:.{MODEL_SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {k: _round_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round_floats(v) for v in value]
    return value


def _rounded(linker, sdf):
    """The trained linker with its parameters rounded to 12 significant digits.

    DuckDB sums floats in parallel, in whatever order its threads finish, so two trainings on
    the same input can differ in the last bits of an m or u probability, and a pair on the
    threshold could fall either side. Rounded, the same input gives the same model, hence
    the same scores."""
    from splink import Linker

    model = _round_floats(linker.misc.save_model_to_json())
    model.pop("linker_uid", None)
    return Linker(sdf, model, log_level=logging.WARNING, validate_settings=False)


def _keep_new_model(con: duckdb.DuckDBPyConnection, linker, run: ModelRun, as_of, config: IdentityConfig) -> None:
    """Freeze the freshly trained model and its name frequencies (from tonight's input) for later nights."""
    run.retrained = True
    con.execute(f"CREATE OR REPLACE TEMP TABLE {NEW_TF.split('.')[-1]} (column_name VARCHAR, value VARCHAR, tf DOUBLE)")
    for col in _tf_columns(linker):
        tf = linker.table_management.compute_tf_table(col)
        con.execute(
            f"""INSERT INTO {NEW_TF} SELECT $c, "{col}"::VARCHAR, "tf_{col}"
                        FROM {tf.physical_name}""",
            {"c": col},
        )
    model = linker.misc.save_model_to_json()
    model.pop("linker_uid", None)  # a random id per Linker object: the same training must store the same model
    settings_json = json.dumps(model, sort_keys=True)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {NEW_MODEL.split(".")[-1]} AS
                    SELECT $json AS settings_json, $hash AS config_hash, now()::TIMESTAMP AS trained_at,
                           $as_of::DATE AS data_as_of, $records::BIGINT AS records,
                           $erasures::BIGINT AS erasures_at_training""",
        {
            "json": settings_json,
            "hash": config_hash(config),
            "as_of": as_of,
            "records": run.records_in_model,
            "erasures": erasures_executed(con),
        },
    )


def _stored_linker(con: duckdb.DuckDBPyConnection, db_api, sdf, stored: StoredModel, run: ModelRun):
    """A linker with the stored parameters and the stored (frozen) name frequencies."""
    from splink import Linker

    # the stored settings were checked against the input when the model was trained (and a
    # change of rules or code retrains it, ``model_store.retrain_reason``); Splink's check only
    # logs, and parses every level's SQL: 1.5 s of a quiet night's CPU at 1M records
    linker = Linker(sdf, json.loads(stored.settings_json), log_level=logging.WARNING, validate_settings=False)
    for col in _tf_columns(linker):
        table = f"_id_tf_{col}"
        stored_term_frequencies(con, col, table)
        linker.table_management.register_term_frequency_lookup(db_api.register(table), col)
    run.probability_two_random_records_match = linker._settings_obj._probability_two_random_records_match
    run.comparisons = [c.output_column_name for c in linker._settings_obj.comparisons]
    run.training_notes.append(
        f"model reused: trained {stored.trained_at:%Y-%m-%d %H:%M} on "
        f"{stored.records:,} records (data as of {stored.data_as_of})"
    )
    return linker


def _score_changed_records(
    con: duckdb.DuckDBPyConnection, db_api, linker, config: IdentityConfig, run: ModelRun
) -> None:
    """Score only records whose model input changed (or is new) — against every record — and keep
    the stored scores of pairs of unchanged records: with the same model those would score the same."""
    sp = config.splink
    run.mode = "incremental"
    # records that kept their numbers (record_numbers.py) are matched with the kept ones, and their
    # kept pairs read, by number: integer joins instead of joins on the two key strings (the kept
    # rows' numbers are tonight's: write_state); else by key, and the pairs given tonight's numbers
    by_number = numbers_kept(con)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_unchanged AS
        SELECT n.rid, n.source, n.source_record_id
        FROM {NEW_SCORED_RECORDS} n
        JOIN {SCORED_RECORDS} o USING ({"rid" if by_number else "source, source_record_id"}, input_hash)
    """)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _id_splink_changed AS
                    SELECT * FROM {SPLINK_INPUT} WHERE unique_id NOT IN (SELECT rid FROM temp._id_unchanged)
                    ORDER BY unique_id""")
    # a view, not a copy of nearly every record: Splink reads it once, into its own table
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _id_splink_unchanged AS
                    SELECT * FROM {SPLINK_INPUT} WHERE unique_id IN (SELECT rid FROM temp._id_unchanged)""")
    run.records_rescored = con.execute("SELECT count(*) FROM temp._id_splink_changed").fetchall()[0][0]
    if run.records_rescored:
        changed = db_api.register("_id_splink_changed")
        unchanged = db_api.register("_id_splink_unchanged")
        kw = {"threshold_match_probability": prediction_floor(sp), "warning_mode": "never"}
        between = linker.inference.predict_between(unchanged, changed, **kw)
        within = linker.inference.predict_within(changed, **kw)
        con.execute(f"""CREATE OR REPLACE TEMP VIEW _id_new_predictions AS
                        SELECT * FROM {between.physical_name} UNION ALL BY NAME SELECT * FROM {within.physical_name}""")
        names = [r[0] for r in con.execute("DESCRIBE temp._id_new_predictions").fetchall()]
        write_probabilistic_edges(
            con,
            "temp._id_new_predictions",
            names,
            config,
            run,
            households=households_seen(con),
            two_names_one_household=two_names_one_household_gamma(linker),
        )
        con.execute("DROP VIEW temp._id_new_predictions")
    kept_pairs = (
        f"""SELECT p.rid_l, p.rid_r, p.match_probability, p.match_weight, p.match_weights, p.sparse
            FROM {SCORED_PAIRS} p
            WHERE p.rid_l IN (SELECT rid FROM temp._id_unchanged) AND p.rid_r IN (SELECT rid FROM temp._id_unchanged)"""
        if by_number
        else f"""SELECT least(l.rid, r.rid), greatest(l.rid, r.rid), p.match_probability, p.match_weight,
                        p.match_weights, p.sparse
                 FROM {SCORED_PAIRS} p
                 JOIN temp._id_unchanged l ON l.source = p.source_l AND l.source_record_id = p.record_l
                 JOIN temp._id_unchanged r ON r.source = p.source_r AND r.source_record_id = p.record_r"""
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_prob_edges AS
        SELECT * FROM {PROB_EDGES}
        UNION ALL
        {kept_pairs}
        ORDER BY 1, 2
    """)
    total = con.execute(f"SELECT count(*) FROM {PROB_EDGES}").fetchall()[0][0]
    run.pairs_kept = total - run.edges
    run.edges = total


def train_model(sdf, config: IdentityConfig, run: ModelRun, dialect: str = "duckdb"):
    """Unsupervised training on a registered Splink input (any backend); returns the trained linker.

    The one definition of the model both engines use: prior from ``prior_rules``, u by
    seeded random sampling, then one EM session per ``em_rules`` entry.
    """
    from splink import Linker, block_on

    sp = config.splink
    # the settings are checked against the input once, here; the linkers rebuilt from this one's
    # saved model below skip Splink's check (a SQL parse of every level: 0.2 s of CPU each)
    linker = Linker(sdf, splink_settings(config, dialect), log_level=logging.WARNING)
    notes = run.training_notes
    report_phase("identity", "training: prior")
    _safe(
        notes,
        "prior",
        linker.training.estimate_probability_two_random_records_match,
        [block_on(*r) for r in sp.prior_rules],
        recall=sp.prior_recall,
    )
    prior = linker._settings_obj._probability_two_random_records_match
    if not 0 < prior < 0.5:
        # no pair met the near-certain rules (tiny or one-sided input): assume matches are rare
        notes.append(f"prior: estimate {prior!r} unusable; using 1e-6")
        linker._settings_obj._probability_two_random_records_match = 1e-6
    report_phase("identity", "training: u by random sampling")
    model = linker.misc.save_model_to_json()
    u_pairs = u_sample_pairs(sp, run.records_in_model)
    if _safe(notes, "u", _estimate_u, model, sdf, config, dialect, max_pairs=u_pairs, unseen=notes):
        linker = Linker(sdf, model, log_level=logging.WARNING, validate_settings=False)
    for rule in sp.em_rules:
        report_phase("identity", f"training: EM on {blocking_rule_name(rule)}")
        # a failed EM session can leave the settings half-changed (its blocked comparisons
        # removed): restart from the model as it was before the session
        snapshot = linker.misc.save_model_to_json()
        if not _safe(
            notes,
            f"EM on {blocking_rule_name(rule)}",
            linker.training.estimate_parameters_using_expectation_maximisation,
            blocking_rule(rule),
            estimate_without_term_frequencies=True,
            max_pairs=sp.em_max_pairs,
        ):
            linker = Linker(sdf, snapshot, log_level=logging.WARNING, validate_settings=False)
    model = linker.misc.save_model_to_json()
    _weigh_untrained_two_edits_as_else(model, notes)
    _refine_prior(model, sdf, sp, notes)
    # a family landline is to the phone what a family inbox is to the e-mail: Lena's order on
    # the landline, without an e-mail of hers, linked to Linnéa's CRM record on it (+13 for the
    # phone against -6 for the first name)
    for col in ("email", "phone"):
        _add_shared_by_two_names_level(model, col, dialect)
        _add_household_value_beside_another_level(model, col)
    linker = Linker(sdf, model, log_level=logging.WARNING, validate_settings=False)
    note = _add_two_names_one_household_level(model, _level_probabilities(linker), run.household_pairs, dialect)
    if note:
        notes.append(note)
        linker = Linker(sdf, model, log_level=logging.WARNING, validate_settings=False)
    run.probability_two_random_records_match = linker._settings_obj._probability_two_random_records_match
    run.comparisons = [c.output_column_name for c in linker._settings_obj.comparisons]
    return linker


def _weigh_untrained_two_edits_as_else(model: dict, notes: list[str]) -> None:
    """First names two edits apart whose m no EM session could train (data whose typos are one
    edit, as the project's own sample: no true pair at that level) are weighed as "else", the
    level they were carved out of, not at Splink's default m (about +2 against "else"'s -7 on
    the hard-case sample: Ellen / Elin, two sisters, would count as alike). Changes ``model``."""
    levels = next(c for c in model["comparisons"] if c["output_column_name"] == "first_name_match")
    levels = levels["comparison_levels"]
    two = next((lv for lv in levels if lv.get("label_for_charts") == TWO_EDITS_APART), None)
    other = next(lv for lv in levels if lv["sql_condition"] == "ELSE")
    if (
        two is None
        or two.get("m_probability") is not None
        or not (other.get("m_probability") and two.get("u_probability"))
    ):
        return
    # its own u kept; m set so that m / u is "else"'s
    two["m_probability"] = two["u_probability"] * other["m_probability"] / other["u_probability"]
    notes.append(f"first name '{TWO_EDITS_APART}': m not trained, weighed as '{other['label_for_charts']}'")


def _refine_prior(model: dict, sdf, sp, notes: list[str]) -> None:
    """The prior with the prior rules' recall the trained model implies, when lower than
    ``prior_recall`` (identity/prior.py); changes ``model`` in place and notes it."""
    from cdp_pipeline.lib.identity.prior import present_shares, refined_prior

    rules = [tuple(r) for r in sp.prior_rules]
    refined = refined_prior(model, rules, present_shares(sdf, sorted({c for r in rules for c in r})), sp.prior_recall)
    if refined:
        old = model["probability_two_random_records_match"]
        model["probability_two_random_records_match"], implied = refined
        notes.append(f"prior: the prior rules find {implied:.2f} of true pairs by the model, not {sp.prior_recall}")
        log.info("identity model: prior %.3g -> %.3g (prior rules' recall %.3f)", old, refined[0], implied)


# Splink's estimate_u_using_random_sampling stops sampling a comparison once each of its levels
# has been seen this many times (its default, which train_model uses)
U_MIN_COUNT_PER_LEVEL = 100

# Per comparison, keys such that two values without a NULL that share none fall in "else"
# (u_keyed_counts.py): u estimation then grades only the pairs sharing one, not the ten million
# pairs of its sample (4.5 of 5.5 CPU s at 100,000 customers, the same at 1M). Each non-null
# level above "else" needs, for e-mail and phone, the value exact or one edit away
# (_one_typo_comparison); for the birth date, the date's text one edit away or day and month
# swapped in one year, or the dates one day or month apart (_birth_date_comparison); for the address, the street exact, or the
# postcode, city or street name exact or one edit away (_address_comparison). A key is (SQL, one edit).
# Change a level, change its keys: test_u_estimation compares the counts with every pair graded.
_DAY_MONTH = "least(month(birth_date), day(birth_date)) || '-' || greatest(month(birth_date), day(birth_date))"
# two dates one day apart share one of these two (the day number halved, rounded down, and the
# next day's): d and d + 1 fall in one pair of days counted from an even day or from an odd one;
# the same for months on one day of the month
_DAY = "date_diff('day', DATE '1800-01-01', birth_date)"
_MONTH = "(year(birth_date) * 12 + month(birth_date))"
U_PAIR_KEYS: dict[str, list[tuple[str, bool]]] = {
    "birth_date": [
        ("CAST(birth_date AS VARCHAR)", True),
        (f"year(birth_date) || '-' || {_DAY_MONTH}", False),
        (f"{_DAY} // 2", False),
        (f"({_DAY} + 1) // 2", False),
        (f"day(birth_date) || '-' || {_MONTH} // 2", False),
        (f"day(birth_date) || '-' || ({_MONTH} + 1) // 2", False),
    ],
    "address": [("street", False), ("postcode", True), ("city", True), ("street_name", True)],
    "email": [("email", True)],
    "phone": [("phone", True)],
}


def u_sample_pairs(sp: SplinkConfig, records: int) -> float:
    """Pairs in the u sample: ``u_max_pairs``, or ``u_pairs_per_record`` per record when more.

    The rarest levels are values one household holds (a street and postcode, a phone): among
    random pairs their share falls as 1 / records, so a sample of fixed size sees them about
    as often as records per pair. At 1M records (489,000 in the model) ten million pairs saw
    "street and postcode exact" 24 times; at 10M (4.9M in the model) none, and an unseen level
    keeps Splink's default u (a weight of about +10 instead of +21), so a pair sharing a name
    and an address but no e-mail or phone fell below the threshold (docs/identity.md)."""
    return max(float(sp.u_max_pairs), float(sp.u_pairs_per_record) * records)


def _estimate_u(
    model: dict,
    sdf,
    config: IdentityConfig,
    dialect: str,
    *,
    max_pairs: float | None = None,
    unseen: list[str] | None = None,
) -> None:
    """u by seeded random sampling, written into ``model`` (a saved Splink model): the values
    Splink's ``estimate_u_using_random_sampling`` gives, to the last digit, for less CPU.
    ``max_pairs``: the sample's pairs (``u_max_pairs`` when ``None``); a level the sample never
    shows keeps Splink's default u, and is named in ``unseen`` (the training notes).

    Splink grades every pair of a seeded random sample (``u_max_pairs`` pairs), one comparison
    at a time in eleven chunks, and stops a comparison early once each of its levels has been
    seen ``U_MIN_COUNT_PER_LEVEL`` times. Four of the six comparisons have a level rarer than
    that (an exact birth date, a typo in an e-mail), so it graded all pairs for them, ten
    million at 0.15 s of CPU per comparison and million pairs. ``_sampled_level_counts`` grades
    the same pairs, every comparison, for much less; a comparison whose levels all reach the
    count over all pairs is the one Splink stops early on, and only those are left to Splink,
    so every u is the one Splink would have given. On the 100,000-customer sample: 4.4 s of CPU
    instead of 6.6 s (the first names, which Splink stops early on, are 1.5 s of it); the
    comparisons Splink samples itself are told apart on a tenth of the value pairs (``enough``).
    Since the e-mail, phone, birth date and address grade only the value pairs that share a
    key (``U_PAIR_KEYS``), about 1 s of the first names' and surnames' instead of 4.4 s.

    Sampled without the swapped-names levels: two random people practically never have each
    other's first and last names, so such a level is never observed. A swapped full name is as
    unlikely by chance as the same name, so those levels take their comparison's exact-match u."""
    from splink import Linker, SettingsCreator

    sp = config.splink
    max_pairs = sp.u_max_pairs if max_pairs is None else max_pairs
    creator = splink_settings(config, dialect, swapped=False)
    settings = creator.get_settings(dialect)
    keys = U_PAIR_KEYS if dialect == "duckdb" else None  # the keys' SQL is DuckDB's (u_keyed_counts.py)
    counts = _sampled_level_counts(sdf, settings, max_pairs, sp.seed, enough=U_MIN_COUNT_PER_LEVEL, keys=keys)
    sampled = {}
    early = []
    for i, (cc, per_level) in enumerate(zip(settings.comparisons, counts)):
        levels = cc._comparison_levels_excluding_null
        if all(per_level.get(int(lv.comparison_vector_value), 0) >= U_MIN_COUNT_PER_LEVEL for lv in levels):
            early.append(i)
            continue
        compared = sum(n for cvv, n in per_level.items() if cvv != -1)
        for lv in levels:
            if seen := per_level.get(int(lv.comparison_vector_value), 0):
                sampled[(cc.output_column_name, lv.label_for_charts)] = seen / compared
    if early:
        sampler = Linker(
            sdf,
            SettingsCreator(
                link_type=creator.link_type,
                unique_id_column_name=creator.unique_id_column_name,
                comparisons=[creator.comparisons[i] for i in early],
            ),
            log_level=logging.WARNING,
            validate_settings=False,
        )
        with _u_chunks_on_value_pairs() if dialect == "duckdb" else nullcontext():
            sampler.training.estimate_u_using_random_sampling(
                max_pairs=max_pairs, seed=sp.seed, min_count_per_level=U_MIN_COUNT_PER_LEVEL
            )
        sampled |= {
            (c["output_column_name"], level.get("label_for_charts")): level.get("u_probability")
            for c in sampler.misc.save_model_to_json()["comparisons"]
            for level in c["comparison_levels"]
        }
    for comparison in model["comparisons"]:
        name, levels = comparison["output_column_name"], comparison["comparison_levels"]
        exact = next(
            (
                sampled.get((name, lv.get("label_for_charts")))
                for lv in levels
                if lv.get("label_for_charts", "").startswith("Exact match")
            ),
            None,
        )
        for level in levels:
            if level.get("is_null_level"):
                continue
            label = level.get("label_for_charts")
            if label == ONE_NAME_SWAPPED:
                u = _one_name_swapped_u(sdf)
            else:
                u = exact if label == SWAPPED else sampled.get((name, label))
            if u is not None:
                level["u_probability"] = u
            elif unseen is not None:
                unseen.append(f"u: {name} '{label}' not seen in {max_pairs:,.0f} sampled pairs: Splink's default u")


@contextmanager
def _u_chunks_on_value_pairs():
    """Splink's ``estimate_u_using_random_sampling`` (splink 5.0.0, ``internals/estimate_u.py``)
    with each chunk's level counts graded per pair of distinct values, weighted by the record
    pairs carrying it, instead of per record pair: the same pairs (Splink's sample, its
    ``l < r`` and right-hand chunk condition, its SQL) and so the same counts, the same early
    stop and the same u. Splink grades the chunk in one statement over its sample table, whose
    few thousand rows DuckDB reads as one piece of work: at 1M records the first names' chunk
    (a million pairs) ran on one thread, 0.55 of the step's CPU seconds with the other core idle.
    Here the pairs are counted per pair of first-name values (a few hundred thousand), which are
    graded on both threads. Splink's own function where the pairs are not a dedupe's on one
    ``unique_id`` column; restored on leaving."""
    from splink.internals import estimate_u
    from splink.internals.blocking import _sql_gen_where_condition
    from splink.internals.pipeline import CTEPipeline

    original = estimate_u._accumulate_u_counts_from_chunk_and_check_min_count

    def accumulate(**kw) -> bool:
        if kw["split_sqls"] or kw["source_dataset_input_column"] is not None or kw["link_type"] != "dedupe_only":
            return original(**kw)
        db_api, cc, uid = kw["db_api"], kw["comparison"], kw["unique_id_input_column"]
        where = _sql_gen_where_condition(
            kw["link_type"],
            [uid],
            right_chunk=(kw["rhs_chunk_num"], kw["rhs_num_chunks"]),
            sql_dialect=db_api.sql_dialect,
        )
        inputs = cc._input_columns_used_by_case_statement
        names = ", ".join(col.name for col in inputs)
        pipeline = CTEPipeline([kw["df_sample"]])
        # every record of the sample with a number for its values (NULLs alike, as ORDER BY peers)
        pipeline.enqueue_sql(
            f"""SELECT {uid.name}, {names}, dense_rank() OVER (ORDER BY {names}) AS value_id
                FROM {kw["df_sample"].templated_name}""",
            "__splink__u_chunk_records",
        )
        # Splink's record pairs of the chunk (its join condition, its where), counted per value pair
        pipeline.enqueue_sql(
            f"""SELECT l.value_id AS value_l, r.value_id AS value_r, count(*) AS pairs
                FROM __splink__u_chunk_records AS l INNER JOIN __splink__u_chunk_records AS r ON (1=1)
                {where}
                GROUP BY l.value_id, r.value_id""",
            "__splink__u_chunk_pairs",
        )
        pipeline.enqueue_sql(
            f"SELECT DISTINCT value_id, {names} FROM __splink__u_chunk_records", "__splink__u_chunk_values"
        )
        pipeline.enqueue_sql(
            f"""SELECT {", ".join(c for col in inputs for c in col.l_r_names_as_l_r)}, p.pairs
                FROM __splink__u_chunk_pairs AS p
                JOIN __splink__u_chunk_values AS l ON l.value_id = p.value_l
                JOIN __splink__u_chunk_values AS r ON r.value_id = p.value_r""",
            "__splink__u_chunk_value_pairs",
        )
        pipeline.enqueue_sql(
            f"SELECT {cc._case_statement}, pairs FROM __splink__u_chunk_value_pairs", "__splink__u_chunk_vectors"
        )
        gamma = cc._gamma_column_name
        pipeline.enqueue_sql(
            f"""SELECT {gamma} AS comparison_vector_value, sum(pairs)::DOUBLE AS u_count
                FROM __splink__u_chunk_vectors GROUP BY {gamma}""",
            "__splink__u_chunk_counts",
        )
        result = db_api.sql_pipeline_to_splink_dataframe(pipeline)
        try:
            counts = result.as_record_list()
        finally:
            result.drop_table_from_database_and_remove_from_cache()
        accumulator, min_count = kw["counts_accumulator"], kw["min_count_per_level"]
        accumulator.update_from_chunk_counts(counts)
        # as Splink: stop once every level (the null level aside) has been seen min_count times
        return min_count is not None and accumulator.all_levels_meet_min_u_count(min_count)

    estimate_u._accumulate_u_counts_from_chunk_and_check_min_count = accumulate
    try:
        yield
    finally:
        estimate_u._accumulate_u_counts_from_chunk_and_check_min_count = original


def _one_name_swapped_u(sdf) -> float | None:
    """u of the surname's level for one name swapped: the share of record pairs with a surname on
    both in which one record's first name is the other's surname, counted exactly over the model's
    input from the names' frequencies (sum over names of records with it as first name times
    records with it as surname, less a record paired with itself). A random sample sees too few
    such pairs to count. The exact surname's u, which a swapped full name takes, is five times
    this share on FEBRL-class names (2.4e-3 against 4.8e-4 on a FEBRL3-like set; 2.2e-4 in the
    1M sample) and weighed the level 2.3 bits too low. A first name that is also a surname
    (Thomas, James) is what makes the share, and the count has it. None when no pair shows it
    (the level keeps Splink's default u)."""
    from splink.internals.pipeline import CTEPipeline

    t = sdf.physical_name
    pipeline = CTEPipeline()
    pipeline.enqueue_sql(
        f"""WITH named AS (SELECT first_name_match AS f, last_name_match AS l FROM {t} WHERE last_name_match IS NOT NULL),
            fn AS (SELECT f AS name, count(*) AS n FROM named WHERE f IS NOT NULL GROUP BY f),
            ln AS (SELECT l AS name, count(*) AS n FROM named GROUP BY l)
            SELECT (SELECT coalesce(sum(fn.n * ln.n), 0) FROM fn JOIN ln ON fn.name = ln.name)
                   - (SELECT count(*) FROM named WHERE f = l) AS hits,
                   (SELECT count(*) FROM named) AS records""",
        "__splink__u_one_name_swapped",
    )
    result = sdf.db_api.sql_pipeline_to_splink_dataframe(pipeline)
    row = result.as_record_list()[0]
    result.drop_table_from_database_and_remove_from_cache()
    pairs = row["records"] * (row["records"] - 1) / 2
    return row["hits"] / pairs if row["hits"] and pairs else None


def _sampled_level_counts(
    sdf, settings, max_pairs: float, seed: int, enough: int | None = None, keys: dict | None = None
) -> list[dict[int, int]]:
    """Per comparison of ``settings`` (a Splink ``Settings``), how many pairs of the u sample fall
    in each level (by comparison vector value; -1 is the null level).

    The sample is Splink's (the same hash-seeded rows, enough records for ``max_pairs`` pairs)
    and so are the pairs: every pair of its records. But each comparison grades each pair of
    *distinct values* of its columns once, weighted by how many record pairs carry it (n_a * n_b;
    n (n - 1) / 2 for a value with itself), which counts the same for a symmetric comparison
    (all of ours are). In the 100,000-customer sample's 4,472 sampled records, ten million
    pairs are 0.9 million pairs of first names, 0.6 million of surnames, 1.3 million of birth
    dates and 3.3 million of phones (the records without one are one value); e-mail addresses
    barely repeat (9.2 million), but are graded in one query instead of eleven.

    ``enough``: a comparison whose every level (the null level aside) is seen this often in a
    tenth of the value pairs is seen at least as often in all of them, which is all
    ``_estimate_u`` asks of it (Splink samples it): its counts are that tenth's. Every other
    comparison grades the other nine tenths too, and its counts are over every pair.

    ``keys`` (``U_PAIR_KEYS``): a comparison named there is counted over every pair, grading only
    the value pairs that share a key (``u_keyed_counts``): the same counts, for a fraction of
    the CPU when nearly every record is its own value (e-mail, phone, address)."""
    from splink.internals.pipeline import CTEPipeline

    db_api = sdf.db_api
    pipeline = CTEPipeline()
    pipeline.enqueue_sql(f"SELECT count(*) AS n FROM {sdf.physical_name}", "__splink__u_count")
    count = db_api.sql_pipeline_to_splink_dataframe(pipeline)
    total = count.as_record_list()[0]["n"]
    count.drop_table_from_database_and_remove_from_cache()
    # as Splink: the records whose pairs number max_pairs, r (r - 1) / 2 = max_pairs, sampled by a
    # hash of the unique id and the seed
    proportion = min(1.0, 0.5 * ((8 * max_pairs + 1) ** 0.5 + 1) / max(total, 1))
    uid_cols = settings.column_info_settings.unique_id_input_columns
    sample_filter = db_api.sql_dialect.proportion_sample_sql(proportion, uid_cols, seed=seed)
    out = []
    # a tenth of the value pairs, then the rest: disjoint, so their counts add up to all pairs'
    tenth = "l.value_id % 10 = 0"
    for cc in settings.comparisons:
        if keys and cc.output_column_name in keys:
            out.append(keyed_level_counts(sdf, cc, sample_filter, keys[cc.output_column_name]))
            continue
        counts: dict[int, int] = {}
        for part in (tenth, f"NOT ({tenth})") if enough is not None else ("true",):
            for level, pairs in _level_counts(sdf, cc, sample_filter, part).items():
                counts[level] = counts.get(level, 0) + pairs
            if part == tenth and all(
                counts.get(int(lv.comparison_vector_value), 0) >= enough for lv in cc._comparison_levels_excluding_null
            ):
                break
        out.append(counts)
    return out


def _level_counts(sdf, cc, sample_filter: str, pairs_filter: str) -> dict[int, int]:
    """Per level of ``cc``, the sampled record pairs (``_sampled_level_counts``) among the pairs of
    distinct values that pass ``pairs_filter`` (on ``l.value_id``, ``r.value_id``)."""
    from splink.internals.pipeline import CTEPipeline

    db_api = sdf.db_api
    inputs = cc._input_columns_used_by_case_statement
    names = ", ".join(col.name for col in inputs)
    pipeline = CTEPipeline()
    pipeline.enqueue_sql(
        f"""SELECT {names}, count(*) AS records, row_number() OVER (ORDER BY {names}) AS value_id
            FROM {sdf.physical_name} WHERE 1=1 {sample_filter} GROUP BY {names}""",
        "__splink__u_values",
    )
    pipeline.enqueue_sql(
        f"""SELECT {", ".join(c for col in inputs for c in col.l_r_names_as_l_r)},
                   CASE WHEN l.value_id = r.value_id THEN l.records * (l.records - 1) / 2
                        ELSE l.records * r.records END AS pairs
            FROM __splink__u_values AS l INNER JOIN __splink__u_values AS r
              ON l.value_id <= r.value_id AND {pairs_filter}""",
        "__splink__u_pairs",
    )
    pipeline.enqueue_sql(f"SELECT {cc._case_statement}, pairs FROM __splink__u_pairs", "__splink__u_vectors")
    gamma = cc._gamma_column_name
    pipeline.enqueue_sql(
        f"SELECT {gamma} AS level, sum(pairs) AS pairs FROM __splink__u_vectors GROUP BY {gamma}",
        "__splink__u_counts",
    )
    result = db_api.sql_pipeline_to_splink_dataframe(pipeline)
    counts = {int(r["level"]): int(r["pairs"]) for r in result.as_record_list()}
    result.drop_table_from_database_and_remove_from_cache()
    return counts


def two_names_one_household_gamma(linker) -> int | None:
    """The comparison vector value (``gamma_first_name_match``) of the first-name level
    ``TWO_NAMES_ONE_HOUSEHOLD`` in ``linker``'s model, None when the run did not add it."""
    for comparison in linker._settings_obj.comparisons:
        if comparison.output_column_name == "first_name_match":
            for level in comparison.comparison_levels:
                if level.label_for_charts == TWO_NAMES_ONE_HOUSEHOLD:
                    return int(level.comparison_vector_value)
    return None


def households_seen(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the data shows households: two first names on one surname and street whose
    e-mails or phones say two people (neither shared). ``thresholds.sparse_sql``: where it does,
    such pairs without a birth date are not judged on the calibrated threshold."""
    # observed > shared in household_pair_counts(con, "household_key"): one pair whose contacts
    # tell two people is enough, so the search stops at the first
    pair = ", ".join(
        f"a.{c} AS {c}_l, b.{c} AS {c}_r" for c in ("first_name_match", "last_name_match", *NAME_KEY_COLUMNS.values())
    )
    return bool(
        con.execute(
            f"""
            SELECT 1
            FROM (SELECT {pair}
                  FROM {SPLINK_INPUT} a JOIN {SPLINK_INPUT} b
                    ON a.household_key = b.household_key AND a.unique_id < b.unique_id
                  WHERE a.first_name_match <> b.first_name_match
                    AND ((a.contact_email IS NOT NULL AND b.contact_email IS NOT NULL)
                         OR (a.contact_phone IS NOT NULL AND b.contact_phone IS NOT NULL))
                    AND NOT coalesce(a.contact_email = b.contact_email OR a.contact_phone = b.contact_phone, false))
            WHERE NOT list_contains($same::VARCHAR[], {first_name_grade_sql()})
            LIMIT 1""",
            {"same": list(SAME_FIRST_NAME_GRADES)},
        ).fetchall()
    )


def write_probabilistic_edges(
    con: duckdb.DuckDBPyConnection,
    predictions: str,
    names: list[str],
    config: IdentityConfig,
    run: ModelRun,
    *,
    households: bool = True,
    two_names_one_household: int | None = None,
) -> None:
    """``temp._id_prob_edges`` from Splink's predictions (a table or view in ``con`` with columns
    ``names``); ``households``: ``households_seen``, ``two_names_one_household``: the comparison
    vector value of that first-name level when the model has it (``two_names_one_household_gamma``;
    both for ``thresholds.sparse_sql``)."""
    sp = config.splink
    log.debug("prediction columns: %s", names)
    mw_cols = [c for c in names if c.startswith("mw_") and not c.startswith("mw_tf_adj_")]
    # per comparison: its match weight including the term-frequency adjustment (Splink 5 names
    # it mw_tf_adj_<comparison>), so that the prior's weight and these add up to match_weight
    terms = [
        f'"{c[3:]}" := round("{c}"'
        + (f' + coalesce("mw_tf_adj_{c[3:]}", 0)' if f"mw_tf_adj_{c[3:]}" in names else "")
        + ", 3)"
        for c in mw_cols
    ]
    mw_json = ("to_json(struct_pack(" + ", ".join(terms) + "))") if mw_cols else "NULL"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _id_prob_edges AS
        SELECT least(unique_id_l, unique_id_r)::BIGINT AS rid_l, greatest(unique_id_l, unique_id_r)::BIGINT AS rid_r,
               match_probability, match_weight, {mw_json}::VARCHAR AS match_weights,
               coalesce({sparse_sql(households, two_names_one_household)}, false) AS sparse
        FROM {predictions}
        WHERE match_probability >= $t
        ORDER BY rid_l, rid_r
    """,
        {"t": prediction_floor(sp)},
    )
    run.edges = con.execute(f"SELECT count(*) FROM {PROB_EDGES}").fetchall()[0][0]


def _empty_edges(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE OR REPLACE TEMP TABLE _id_prob_edges (rid_l BIGINT, rid_r BIGINT,
                   match_probability DOUBLE, match_weight DOUBLE, match_weights VARCHAR, sparse BOOLEAN)""")


def _write_reports(linker, out: Path, run: ModelRun) -> None:
    out.mkdir(parents=True, exist_ok=True)
    run.model_path = out / "splink_model.json"
    linker.misc.save_model_to_json(str(run.model_path), overwrite=True)
    charts = {
        "match_weights": linker.visualisations.match_weights_chart,
        "m_u_parameters": linker.visualisations.m_u_parameters_chart,
    }
    for name, make in charts.items():
        path = out / f"{name}.html"
        try:
            # inline=True bundles vega: the report opens without internet
            make().save(str(path), inline=True)
            run.charts[name] = path
        except Exception as exc:  # noqa: BLE001 - a chart must never fail the night
            run.training_notes.append(f"chart {name}: {exc}")
    (out / "training_notes.json").write_text(json.dumps(run.training_notes, indent=2), encoding="utf-8")


def splink_model_markdown(model_json: str) -> str:
    """What Splink's match-weights and m/u charts show, as a markdown table: per comparison
    level, m, u and the match weight log2(m/u). Readable in the Dagster UI from any machine,
    where the charts' HTML files on the pipeline's host are not."""
    import math

    model = json.loads(Path(model_json).read_text(encoding="utf-8"))
    prior = model.get("probability_two_random_records_match")
    lines = []
    if prior:
        lines.append(f"Prior (two random records match): {prior:.3g}, weight {math.log2(prior / (1 - prior)):+.2f}\n")
    lines += ["| comparison | level | m | u | match weight |", "| --- | --- | ---: | ---: | ---: |"]
    for comparison in model.get("comparisons", []):
        name = comparison.get("output_column_name") or comparison.get("comparison_description", "")
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = f"{math.log2(m / u):+.2f}" if m and u else "n/a"
            label = str(level.get("label_for_charts", level.get("sql_condition", ""))).replace("|", "\\|")
            lines.append(f"| {name} | {label} | {_num(m)} | {_num(u)} | {weight} |")
    return "\n".join(lines)


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _drop_splink_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Splink caches its work tables in the shared connection; the build DB should not keep them."""
    rows = con.execute("""SELECT database_name, schema_name, table_name, temporary FROM duckdb_tables()
                          WHERE table_name LIKE '__splink__%'""").fetchall()
    for db, schema, table, _ in rows:
        con.execute(f'DROP TABLE IF EXISTS "{db}"."{schema}"."{table}"')
    views = con.execute("""SELECT database_name, schema_name, view_name FROM duckdb_views()
                           WHERE view_name LIKE '__splink__%'""").fetchall()
    for db, schema, view in views:
        con.execute(f'DROP VIEW IF EXISTS "{db}"."{schema}"."{view}"')
