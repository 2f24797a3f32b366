"""The minimal Splink 5 dedupe a user would write instead of cdp_pipeline's identity stage.

It reads the same standardised records (``staging.identity_records`` of a published
warehouse), links them with a straightforward DuckDB Splink model, clusters at 0.9 and
writes the clusters as a customer_map-shaped Parquet file (source, source_record_id,
customer_id) so the project's own evaluation can score it. No junk handling, no
deterministic stitching, no guards: the baseline.

    python benchmarks/bare_splink.py --warehouse data/warehouse/cdp.duckdb \
        --out clusters.parquet --timings timings.json

The benchmark harness runs it in its own process, to time it and measure its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True, help="published warehouse (read-only)")
    parser.add_argument("--out", required=True, help="Parquet file for source, source_record_id, customer_id")
    parser.add_argument("--timings", help="JSON file for phase timings and counts")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args(argv)

    phases: dict[str, float] = {}
    t_all = t = time.monotonic()

    def lap(name: str) -> None:
        nonlocal t
        now = time.monotonic()
        phases[name] = round(now - t, 3)
        t = now

    con = duckdb.connect()
    warehouse = str(Path(args.warehouse).resolve()).replace("'", "''")
    con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
    con.execute("""
        CREATE TABLE records AS
        SELECT source || ':' || source_record_id AS unique_id, source, source_record_id,
               first_name_match, last_name_match, birth_date, email, phone, street, postcode, city
        FROM wh.staging.identity_records
    """)
    con.execute("DETACH wh")
    records = con.execute("SELECT count(*) FROM records").fetchall()[0][0]

    db_api = DuckDBAPI(connection=con)
    sdf = db_api.register("records")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name_match"),
            cl.NameComparison("last_name_match"),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.LevenshteinAtThresholds("email", [1]),
            cl.LevenshteinAtThresholds("phone", [1]),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("city"),
            cl.LevenshteinAtThresholds("street", [1, 3]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name_match", "last_name_match"),
            block_on("birth_date", "last_name_match"),
            block_on("email"),
            block_on("phone"),
            block_on("street", "postcode"),
        ],
        retain_matching_columns=False,
        additional_columns_to_retain=["source", "source_record_id"],
    )
    linker = Linker(sdf, settings, log_level=logging.WARNING)
    lap("load")

    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name_match", "last_name_match", "birth_date"), block_on("email")], recall=0.7
    )
    lap("prior")
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=args.seed)
    lap("u (random sampling, 1e7 pairs)")
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name_match", "last_name_match"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    lap("EM (2 rules)")

    blocked = linker.inference.compute_blocked_pairs_for_predict()  # predict reuses it
    candidate_pairs = con.execute(f"SELECT count(*) FROM {blocked.physical_name}").fetchall()[0][0]
    pred = linker.inference.predict(threshold_match_probability=args.threshold)
    predicted = con.execute(f"SELECT count(*) FROM {pred.physical_name}").fetchall()[0][0]
    lap("predict")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=args.threshold
    )
    lap("cluster")
    splink_seconds = time.monotonic() - t_all

    out = str(Path(args.out).resolve()).replace("'", "''")
    con.execute(f"""
        COPY (SELECT r.source, r.source_record_id, c.cluster_id::VARCHAR AS customer_id
              FROM {clusters.physical_name} c JOIN records r USING (unique_id)
              ORDER BY r.source, r.source_record_id)
        TO '{out}' (FORMAT parquet)
    """)
    n_clusters = con.execute(f"SELECT count(DISTINCT cluster_id) FROM {clusters.physical_name}").fetchall()[0][0]
    lap("write")
    report = {
        "records": records,
        "candidate_pairs": candidate_pairs,
        "pairs_above_threshold": predicted,
        "clusters": n_clusters,
        "threshold": args.threshold,
        "phases": phases,
        "splink_seconds": round(splink_seconds, 3),
        "probability_two_random_records_match": linker._settings_obj._probability_two_random_records_match,
    }
    if args.timings:
        Path(args.timings).write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
