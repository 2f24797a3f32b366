"""A plain Splink 5 dedupe, as a competent user would write it, for the identity-accuracy benchmark.

One recipe for every data set: compare names with term-frequency adjustments, the date of
birth and the contact/address fields; estimate the prior from a near-certain rule, u by
random sampling (fixed seed), m by EM on a few blocking rules; predict; cluster at one
fixed threshold. Only the columns differ, because the records differ:

- FEBRL (``febrl_spec``): the raw FEBRL fields as the file holds them
  (benchmarks/febrl_landing.splink_rows).
- the project's sample (``sample_spec``): ``staging.identity_records`` of the warehouse the
  night built (names, birth date, e-mail, phone, postcode, street, city), read by
  ``sample_rows``.

No junk handling, no stitching on shared identifiers, no guards: the baseline. (The speed
baseline of run_benchmark.py is benchmarks/bare_splink.py; it is left as it is.)
"""

from __future__ import annotations

import logging
from pathlib import Path

THRESHOLD = 0.9


def febrl_spec() -> dict:
    import splink.comparison_library as cl
    from splink import block_on

    return {
        "comparisons": [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.ExactMatch("street_number"),
            cl.LevenshteinAtThresholds("address_1", [1, 2]),
            cl.LevenshteinAtThresholds("suburb", [1, 2]),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
        ],
        "blocking": [
            block_on("given_name", "surname"),
            block_on("surname", "date_of_birth"),
            block_on("given_name", "date_of_birth"),
            block_on("postcode", "street_number"),
            block_on("address_1", "suburb"),
        ],
        "prior": [block_on("given_name", "surname", "date_of_birth")],
        "em": [block_on("given_name", "surname"), block_on("date_of_birth"), block_on("postcode")],
    }


def sample_spec() -> dict:
    import splink.comparison_library as cl
    from splink import block_on

    return {
        "comparisons": [
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.LevenshteinAtThresholds("email", [1]),
            cl.ExactMatch("phone"),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.LevenshteinAtThresholds("street", [1, 3]),
            cl.ExactMatch("city"),
        ],
        "blocking": [
            block_on("first_name", "last_name"),
            block_on("last_name", "birth_date"),
            block_on("email"),
            block_on("phone"),
            block_on("street", "postcode"),
        ],
        "prior": [block_on("first_name", "last_name", "birth_date"), block_on("email")],
        "em": [block_on("first_name", "last_name"), block_on("birth_date"), block_on("postcode")],
    }


def sample_rows(warehouse: Path | str) -> list[dict]:
    """The built warehouse's identity records, keyed like the truth file."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cur = con.execute("""
            SELECT source || ':' || source_record_id AS unique_id, source, source_record_id,
                   first_name_match AS first_name, last_name_match AS last_name, birth_date,
                   email, phone, postcode, street, city
            FROM staging.identity_records ORDER BY source, source_record_id""")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]
    finally:
        con.close()


def plain_splink_dedupe(
    rows: list[dict], spec: dict, seed: int = 42, threshold: float = THRESHOLD
) -> tuple[list[dict], list[str]]:
    """Cluster ``rows`` (``unique_id, source, source_record_id`` and the spec's columns).

    Returns ``source, source_record_id, customer_id`` per record, and notes on training
    steps Splink refused (an EM session whose data leaves a level's m at zero raises in
    Splink 5; that session is skipped and said so, as a user would drop that rule).
    """
    import duckdb
    import pyarrow as pa
    from splink import DuckDBAPI, Linker, SettingsCreator

    notes: list[str] = []
    con = duckdb.connect()
    con.register("rows_in", pa.Table.from_pylist(rows))
    con.execute("CREATE TABLE records AS SELECT * FROM rows_in")
    con.unregister("rows_in")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=spec["comparisons"],
        blocking_rules_to_generate_predictions=spec["blocking"],
        retain_matching_columns=False,
        additional_columns_to_retain=["source", "source_record_id"],
    )
    linker = Linker(DuckDBAPI(connection=con).register("records"), settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(spec["prior"], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=seed)
    for rule in spec["em"]:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except ValueError as exc:
            notes.append(f"EM on {rule.get_blocking_rule('duckdb').blocking_rule_sql} skipped: {exc}")
    pred = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold_match_probability=threshold)
    out = con.execute(f"""
        SELECT r.source, r.source_record_id, c.cluster_id::VARCHAR AS customer_id
        FROM {clusters.physical_name} c JOIN records r USING (unique_id)
        ORDER BY r.source, r.source_record_id""").fetchall()
    con.close()
    return [{"source": s, "source_record_id": i, "customer_id": c} for s, i, c in out], notes
