"""Probabilistic linkage with Splink: settings, unsupervised training, prediction, reports.

The model compares names (with term-frequency adjustments, so a shared rare surname
counts for more than a shared common one), birth date, address, email and phone. It
is trained without labels on every run: the prior from near-certain rules, u by
random sampling with a fixed seed, m by expectation maximisation over several
blocking rules. Only records with a usable name take part: a record carrying just a
phone or a card number is linked by stitching or not at all, never on a guess.
Junk and over-shared identifiers are blanked in the model's input, so two records
cannot be matched on ``test@test.com``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp_pipeline.lib.identity.config import IdentityConfig
from cdp_pipeline.lib.identity.junk_guard import EXCLUDED
from cdp_pipeline.lib.identity.records import RECORDS

SPLINK_INPUT = "_id_splink_input"
PROB_EDGES = "temp._id_prob_edges"
COMPARED_COLUMNS = ("first_name_match", "last_name_match", "birth_date", "street", "postcode", "city",
                    "email", "phone")

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


def build_splink_input(con: duckdb.DuckDBPyConnection) -> int:
    """The model's view of each record: junk/over-shared values blanked; nameless records left out."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {SPLINK_INPUT} AS
        WITH r AS (
            SELECT rid, source,
                   CASE WHEN coalesce(name_is_junk, false) THEN NULL ELSE nullif(trim(first_name_match), '') END AS first_name_match,
                   CASE WHEN coalesce(name_is_junk, false) THEN NULL ELSE nullif(trim(last_name_match), '') END AS last_name_match,
                   birth_date, nullif(trim(lower(street)), '') AS street,
                   nullif(upper(replace(postcode, ' ', '')), '') AS postcode,
                   nullif(trim(lower(city)), '') AS city,
                   CASE WHEN coalesce(email_is_junk, false) THEN NULL ELSE email END AS email,
                   CASE WHEN coalesce(phone_is_junk, false) THEN NULL ELSE phone END AS phone
            FROM {RECORDS}
        )
        SELECT r.rid AS unique_id, r.source, r.first_name_match, r.last_name_match, r.birth_date,
               r.street, r.postcode, r.city,
               CASE WHEN xe.value IS NULL THEN r.email END AS email,
               CASE WHEN xp.value IS NULL THEN r.phone END AS phone
        FROM r
        LEFT JOIN {EXCLUDED} xe ON xe.kind = 'email' AND xe.value = r.email
        LEFT JOIN {EXCLUDED} xp ON xp.kind = 'phone' AND xp.value = r.phone
        WHERE r.first_name_match IS NOT NULL OR r.last_name_match IS NOT NULL
        ORDER BY r.rid
    """)
    return con.execute(f"SELECT count(*) FROM {SPLINK_INPUT}").fetchall()[0][0]


def _jaro_winkler_function(dialect: str) -> str:
    """The backend's name for Jaro-Winkler similarity (DuckDB: jaro_winkler_similarity; Spark: Splink's UDF)."""
    from splink.internals.dialects import SplinkDialect

    return SplinkDialect.from_string(dialect).jaro_winkler_function_name


def _address_comparison(dialect: str = "duckdb"):
    import splink.comparison_library as cl

    jw = _jaro_winkler_function(dialect)
    both = lambda c: f"{c}_l IS NOT NULL AND {c}_r IS NOT NULL"  # noqa: E731
    return cl.CustomComparison(
        output_column_name="address",
        comparison_description="street, postcode and city together (they are not independent)",
        comparison_levels=[
            {"sql_condition": "(street_l IS NULL OR street_r IS NULL) AND (postcode_l IS NULL OR postcode_r IS NULL)"
                              " AND (city_l IS NULL OR city_r IS NULL)",
             "label_for_charts": "address missing", "is_null_level": True},
            {"sql_condition": f"{both('street')} AND street_l = street_r AND postcode_l = postcode_r",
             "label_for_charts": "street and postcode exact"},
            {"sql_condition": f"{both('street')} AND postcode_l = postcode_r"
                              f" AND {jw}(street_l, street_r) >= 0.9",
             "label_for_charts": "street similar, postcode exact"},
            {"sql_condition": f"{both('street')} AND street_l = street_r AND city_l = city_r",
             "label_for_charts": "street and city exact"},
            {"sql_condition": "postcode_l = postcode_r", "label_for_charts": "postcode exact"},
            {"sql_condition": "city_l = city_r", "label_for_charts": "city exact"},
            {"sql_condition": "ELSE", "label_for_charts": "all other"},
        ],
    )


def _first_name_comparison():
    """Exact (term-frequency adjusted), typo tiers, an initial ("a" / "anders"), else.

    The initial gets its own level so that "all other" holds only truly different first
    names and its weight is strongly negative (different first names at one address with
    one surname are a household, not a person).
    """
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    col = "first_name_match"
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            cll.ExactMatchLevel(col, term_frequency_adjustments=True),
            cll.JaroWinklerLevel(col, 0.92),
            cll.JaroWinklerLevel(col, 0.88),
            cll.CustomLevel(f"(length({col}_l) = 1 OR length({col}_r) = 1) "
                            f"AND substr({col}_l, 1, 1) = substr({col}_r, 1, 1)", label_for_charts="initial"),
            cll.JaroWinklerLevel(col, 0.7),
            cll.ElseLevel(),
        ],
    )


# A probabilistic link between records whose first names are clearly different (not a
# typo, not an initial) stands only when both carry the same birth date, or when they
# share an email or phone and their first names start alike (nicknames: micke/michael,
# pelle/peter). Surname, address and even an email are shared by a household; a birth
# date rarely is.
FIRST_NAME_CONFLICT_GUARD = """
    NOT (first_name_match_l IS NOT NULL AND first_name_match_r IS NOT NULL
         AND jaro_winkler_similarity(first_name_match_l, first_name_match_r) < 0.88
         AND NOT ((length(first_name_match_l) = 1 OR length(first_name_match_r) = 1)
                  AND substr(first_name_match_l, 1, 1) = substr(first_name_match_r, 1, 1))
         AND NOT coalesce(birth_date_l = birth_date_r, false)
         AND NOT (substr(first_name_match_l, 1, 2) = substr(first_name_match_r, 1, 2)
                  AND (coalesce(email_l = email_r, false) OR coalesce(phone_l = phone_r, false))))
"""


def splink_settings(config: IdentityConfig, dialect: str = "duckdb"):
    """Splink settings, shared by every engine: comparisons and prediction blocking rules.

    ``dialect`` (``duckdb`` or ``spark``) only names the backend's Jaro-Winkler function in
    the hand-written address level; everything else is dialect-free.
    """
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            _first_name_comparison(),
            cl.NameComparison("last_name_match"),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            _address_comparison(dialect),
            # exact or one typo on the whole address: similar name-based addresses
            # (anna.berg12@ vs anna.berg7@) belong to different people
            cl.LevenshteinAtThresholds("email", [1]),
            cl.DamerauLevenshteinAtThresholds("phone", [1]),
        ],
        blocking_rules_to_generate_predictions=[block_on(*r) for r in config.splink.blocking_rules],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
        additional_columns_to_retain=["source"],
    )


def _safe(notes: list[str], what: str, fn, *args, **kwargs) -> bool:
    """Training steps can fail on small or one-sided data (no pairs in a block): note it, go on."""
    try:
        fn(*args, **kwargs)
        return True
    except Exception as exc:  # noqa: BLE001 - Splink raises plain Exceptions here
        notes.append(f"{what}: skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})")
        log.warning("identity model: %s skipped: %s", what, exc)
        return False


def train_and_predict(con: duckdb.DuckDBPyConnection, config: IdentityConfig, reports_dir: Path | None) -> ModelRun:
    """Train the model on ``_id_splink_input``, write ``temp._id_prob_edges`` and the reports."""
    run = ModelRun(records_in_model=build_splink_input(con))
    _empty_edges(con)
    if run.records_in_model < 2:
        run.training_notes.append("fewer than two named records: no probabilistic linkage")
        return run
    try:
        _train_and_predict(con, config, reports_dir, run)
    finally:
        _drop_splink_tables(con)
    return run


def _train_and_predict(con: duckdb.DuckDBPyConnection, config: IdentityConfig, reports_dir: Path | None,
                       run: ModelRun) -> None:
    # --- engine dispatch (CDP_ENGINE, docs/spark.md) ---
    from cdp_pipeline.settings import get_settings

    if get_settings().engine == "spark":
        from cdp_pipeline.lib.identity.spark_engine import train_and_predict_on_spark

        train_and_predict_on_spark(con, config, reports_dir, run)
        return
    # --- end engine dispatch ---
    from splink import DuckDBAPI

    sp = config.splink
    db_api = DuckDBAPI(connection=con)
    sdf = db_api.register(SPLINK_INPUT)
    linker = train_model(sdf, config, run)
    if reports_dir is not None:
        _write_reports(linker, Path(reports_dir), run)

    pred = linker.inference.predict(threshold_match_probability=sp.match_threshold)
    names = [r[0] for r in con.execute(f"DESCRIBE {pred.physical_name}").fetchall()]
    write_probabilistic_edges(con, pred.physical_name, names, config, run)


def train_model(sdf, config: IdentityConfig, run: ModelRun, dialect: str = "duckdb"):
    """Unsupervised training on a registered Splink input (any backend); returns the trained linker.

    The one definition of the model both engines use: prior from ``prior_rules``, u by
    seeded random sampling, then one EM session per ``em_rules`` entry.
    """
    from splink import Linker, block_on

    sp = config.splink
    linker = Linker(sdf, splink_settings(config, dialect), log_level=logging.WARNING)
    notes = run.training_notes
    _safe(notes, "prior", linker.training.estimate_probability_two_random_records_match,
          [block_on(*r) for r in sp.prior_rules], recall=sp.prior_recall)
    prior = linker._settings_obj._probability_two_random_records_match
    if not 0 < prior < 0.5:
        # no pair met the near-certain rules (tiny or one-sided input): assume matches are rare
        notes.append(f"prior: estimate {prior!r} unusable; using 1e-6")
        linker._settings_obj._probability_two_random_records_match = 1e-6
    _safe(notes, "u", linker.training.estimate_u_using_random_sampling, max_pairs=sp.u_max_pairs, seed=sp.seed)
    for rule in sp.em_rules:
        # a failed EM session can leave the settings half-changed (its blocked comparisons
        # removed): restart from the model as it was before the session
        snapshot = linker.misc.save_model_to_json()
        if not _safe(notes, f"EM on {'+'.join(rule)}",
                     linker.training.estimate_parameters_using_expectation_maximisation,
                     block_on(*rule), estimate_without_term_frequencies=True, max_pairs=sp.em_max_pairs):
            linker = Linker(sdf, snapshot, log_level=logging.WARNING)
    run.probability_two_random_records_match = linker._settings_obj._probability_two_random_records_match
    run.comparisons = [c.output_column_name for c in linker._settings_obj.comparisons]
    return linker


def write_probabilistic_edges(con: duckdb.DuckDBPyConnection, predictions: str, names: list[str],
                              config: IdentityConfig, run: ModelRun) -> None:
    """``temp._id_prob_edges`` from Splink's predictions (a table or view in ``con`` with columns ``names``)."""
    sp = config.splink
    log.debug("prediction columns: %s", names)
    mw_cols = [c for c in names if c.startswith("mw_") and not c.startswith("mw_tf_")]
    # per comparison: its match weight including the term-frequency adjustment
    terms = [f'"{c[3:]}" := round("{c}"' + (f' + coalesce("mw_tf_{c[3:]}", 0)' if f"mw_tf_{c[3:]}" in names else "")
             + ", 3)" for c in mw_cols]
    mw_json = ("to_json(struct_pack(" + ", ".join(terms) + "))") if mw_cols else "NULL"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_prob_edges AS
        SELECT least(unique_id_l, unique_id_r)::BIGINT AS rid_l, greatest(unique_id_l, unique_id_r)::BIGINT AS rid_r,
               match_probability, match_weight, {mw_json}::VARCHAR AS match_weights
        FROM {predictions}
        WHERE match_probability >= $t AND ({FIRST_NAME_CONFLICT_GUARD})
        ORDER BY rid_l, rid_r
    """, {"t": sp.match_threshold})
    run.edges = con.execute(f"SELECT count(*) FROM {PROB_EDGES}").fetchall()[0][0]


def _empty_edges(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE OR REPLACE TEMP TABLE _id_prob_edges (rid_l BIGINT, rid_r BIGINT,
                   match_probability DOUBLE, match_weight DOUBLE, match_weights VARCHAR)""")


def _write_reports(linker, out: Path, run: ModelRun) -> None:
    out.mkdir(parents=True, exist_ok=True)
    run.model_path = out / "splink_model.json"
    linker.misc.save_model_to_json(str(run.model_path), overwrite=True)
    charts = {"match_weights": linker.visualisations.match_weights_chart,
              "m_u_parameters": linker.visualisations.m_u_parameters_chart}
    for name, make in charts.items():
        path = out / f"{name}.html"
        try:
            # inline=True bundles vega: the report opens without internet
            make().save(str(path), inline=True)
            run.charts[name] = path
        except Exception as exc:  # noqa: BLE001 - a chart must never fail the night
            run.training_notes.append(f"chart {name}: {exc}")
    (out / "training_notes.json").write_text(json.dumps(run.training_notes, indent=2), encoding="utf-8")


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
