"""u estimation: Splink's random-sampling estimate, to the last digit, for less CPU."""

import copy
import logging

from splink import DuckDBAPI, Linker

from cdp_pipeline.lib.identity.junk_guard import find_excluded_identifiers
from cdp_pipeline.lib.identity.name_keys import write_first_name_table
from cdp_pipeline.lib.identity.name_variants import load_name_variants
from cdp_pipeline.lib.identity.records import RECORDS, build_identifiers, build_records
from cdp_pipeline.lib.identity.splink_model import (
    SPLINK_INPUT,
    SWAPPED,
    U_MIN_COUNT_PER_LEVEL,
    _estimate_u,
    _sampled_level_counts,
    build_splink_input,
    splink_settings,
)

from .synthetic import build_synthetic


def _splink_input(con, config):
    build_synthetic(con)
    build_records(con, "staging.identity_records")
    write_first_name_table(con, f"SELECT DISTINCT first_name_match FROM {RECORDS}", load_name_variants())
    build_identifiers(con)
    find_excluded_identifiers(con, config)
    build_splink_input(con)
    return DuckDBAPI(connection=con).register(SPLINK_INPUT)


def test_u_is_splinks_random_sampling_estimate_to_the_last_digit(con, config):
    sdf = _splink_input(con, config)
    sp = config.splink
    untrained = Linker(sdf, splink_settings(config), log_level=logging.WARNING).misc.save_model_to_json()
    ours = copy.deepcopy(untrained)
    _estimate_u(ours, sdf, config, "duckdb")

    # Splink's own estimate, every comparison sampled by Splink (the swapped-names levels take
    # their comparison's exact-match u)
    reference = Linker(sdf, splink_settings(config, swapped=False), log_level=logging.WARNING)
    reference.training.estimate_u_using_random_sampling(max_pairs=sp.u_max_pairs, seed=sp.seed)
    expected = {
        (c["output_column_name"], level.get("label_for_charts")): level.get("u_probability")
        for c in reference.misc.save_model_to_json()["comparisons"]
        for level in c["comparison_levels"]
    }
    compared = 0
    for comparison, before in zip(ours["comparisons"], untrained["comparisons"]):
        name = comparison["output_column_name"]
        labels = [lv["label_for_charts"] for lv in comparison["comparison_levels"]]
        exact = next((label for label in labels if label.startswith("Exact match")), None)
        for level, old in zip(comparison["comparison_levels"], before["comparison_levels"]):
            if level.get("is_null_level"):
                continue
            label = level["label_for_charts"]
            want = expected[(name, exact if label == SWAPPED else label)]
            if want is None:  # never observed: left as it was
                assert level.get("u_probability") == old.get("u_probability"), (name, label)
            else:
                assert level["u_probability"] == want, (name, label)
                compared += 1
    assert compared >= 20

    # both ways were taken: comparisons whose every level is common (Splink stops early on
    # them, so Splink samples them) and comparisons with a rare level (counted in one pass)
    settings = splink_settings(config, swapped=False).get_settings("duckdb")
    counts = _sampled_level_counts(sdf, settings, sp.u_max_pairs, sp.seed)
    early = [
        all(
            per.get(int(lv.comparison_vector_value), 0) >= U_MIN_COUNT_PER_LEVEL
            for lv in cc._comparison_levels_excluding_null
        )
        for cc, per in zip(settings.comparisons, counts)
    ]
    assert any(early) and not all(early)


def test_level_counts_are_over_every_pair_of_the_sample(con, config):
    """Counted per pair of distinct values, weighted: the same as grading every pair of records."""
    sdf = _splink_input(con, config)
    settings = splink_settings(config, swapped=False).get_settings("duckdb")
    everyone = 1e9  # more pairs than there are: the sample is every record
    counts = _sampled_level_counts(sdf, settings, everyone, 42)
    records = con.execute(f"SELECT count(*) FROM {SPLINK_INPUT}").fetchall()[0][0]
    email = next(i for i, cc in enumerate(settings.comparisons) if cc.output_column_name == "email")
    assert sum(counts[email].values()) == records * (records - 1) // 2
    # the e-mail's levels counted directly over every pair of records
    direct = dict(
        con.execute(f"""
            SELECT CASE WHEN l.email IS NULL OR r.email IS NULL THEN -1 WHEN l.email = r.email THEN 2
                        WHEN damerau_levenshtein(l.email, r.email) <= 1
                             AND translate(l.email, '._-', '') <> translate(r.email, '._-', '') THEN 1
                        ELSE 0 END AS level, count(*)
            FROM {SPLINK_INPUT} l JOIN {SPLINK_INPUT} r ON l.unique_id < r.unique_id GROUP BY level
        """).fetchall()
    )
    assert counts[email] == direct
    assert direct[2] > 0 and direct[1] > 0
