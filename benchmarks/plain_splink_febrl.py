"""A plain Splink 5 dedupe of FEBRL records, as a competent user would write it.

It reads the raw FEBRL fields (no standardisation beyond what the file holds), compares
names with term-frequency adjustments, the date of birth, and the address parts, trains
the usual way (prior from a deterministic rule, u by random sampling, EM on three blocking
rules), predicts and clusters at one fixed threshold. The identity-accuracy benchmark runs
it beside the pipeline on the same records (benchmarks/identity_accuracy.py); the sample
data sets use benchmarks/bare_splink.py, the same recipe on staging.identity_records.
"""

from __future__ import annotations

import logging

THRESHOLD = 0.9


def plain_splink_febrl(rows: list[dict], seed: int = 42, threshold: float = THRESHOLD) -> list[dict]:
    """``rows``: febrl_landing.splink_rows output. Returns ``source, source_record_id,
    customer_id`` for every record (a customer_map-shaped list)."""
    import duckdb
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    con = duckdb.connect()
    con.register("rows_in", pa.Table.from_pylist(rows))
    con.execute("CREATE TABLE records AS SELECT * FROM rows_in")
    con.unregister("rows_in")
    db_api = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.ExactMatch("street_number"),
            cl.LevenshteinAtThresholds("address_1", [1, 2]),
            cl.LevenshteinAtThresholds("suburb", [1, 2]),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("surname", "date_of_birth"),
            block_on("given_name", "date_of_birth"),
            block_on("postcode", "street_number"),
            block_on("address_1", "suburb"),
        ],
        retain_matching_columns=False,
        additional_columns_to_retain=["source", "source_record_id"],
    )
    linker = Linker(db_api.register("records"), settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=seed)
    for rule in (block_on("given_name", "surname"), block_on("date_of_birth"), block_on("postcode")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pred = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=threshold)
    out = con.execute(f"""
        SELECT r.source, r.source_record_id, c.cluster_id::VARCHAR AS customer_id
        FROM {clusters.physical_name} c JOIN records r USING (unique_id)
        ORDER BY r.source, r.source_record_id""").fetchall()
    con.close()
    return [{"source": s, "source_record_id": i, "customer_id": c} for s, i, c in out]
