"""Accuracy against known answers: pairwise precision/recall/F1, cluster measures, recall per
source pair, and, when the truth has a companion naming hard cases (twins, nicknames, ...),
recall and false merges per case type.

Pair counts come from group sizes (a group of n records holds n(n-1)/2 pairs, two
groups of n and m across sources n*m), so no pairs are enumerated and a million
records score in a second.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import quote_literal

_PAIRS = "(n * (n - 1) / 2)"


def _prepare(con_or_map, truth_csv: Path | str) -> tuple[duckdb.DuckDBPyConnection, bool]:
    if isinstance(con_or_map, duckdb.DuckDBPyConnection):
        con, own = con_or_map.cursor(), False
        con.execute("""CREATE OR REPLACE TEMP VIEW _ev_map AS
                       SELECT source, source_record_id, customer_id FROM identity.customer_map""")
    else:
        con, own = duckdb.connect(":memory:"), True
        con.register("_ev_input", con_or_map)
        con.execute("""CREATE OR REPLACE TEMP VIEW _ev_map AS
                       SELECT source::VARCHAR AS source, source_record_id::VARCHAR AS source_record_id,
                              customer_id::VARCHAR AS customer_id FROM _ev_input""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _ev_truth AS
                    SELECT source::VARCHAR AS source, source_record_id::VARCHAR AS source_record_id,
                           person_id::VARCHAR AS person_id
                    FROM read_csv({quote_literal(str(truth_csv))}, header = true, all_varchar = true)""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _ev_j AS
                   SELECT t.source, t.source_record_id, t.person_id, m.customer_id
                   FROM _ev_truth t JOIN _ev_map m USING (source, source_record_id)""")
    return con, own


def truth_cases_path(truth_csv: Path | str) -> Path:
    """The truth's companion naming hard cases, beside it: truth.csv → truth_cases.csv
    (``person_id, case_type, case_group``; `cdp sample` writes it)."""
    truth_csv = Path(truth_csv)
    return truth_csv.with_name(truth_csv.stem + "_cases.csv")


def _by_case(con, cases_csv: Path) -> list[dict]:
    """Per case type: its persons, how many are split over customers, record pairs within
    them (true / found / recall), false merges (customers holding a person of the case and
    another person), and pairs of persons of one case instance (the two twins, parent and
    child, a household's members: ``case_group``) that share a customer."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _ev_cases AS
                    SELECT DISTINCT person_id::VARCHAR AS person_id, case_type::VARCHAR AS case_type,
                           coalesce(case_group, '')::VARCHAR AS case_group
                    FROM read_csv({quote_literal(str(cases_csv))}, header = true, all_varchar = true)""")
    rows = con.execute(f"""
        WITH pc AS (SELECT person_id, customer_id, count(*) AS n FROM _ev_j GROUP BY ALL),
        person AS (SELECT person_id, sum(n) AS n, count(*) AS customers FROM pc GROUP BY person_id),
        mixed AS (SELECT customer_id FROM pc GROUP BY customer_id HAVING count(*) > 1),
        ct AS (SELECT DISTINCT person_id, case_type FROM _ev_cases),
        base AS (SELECT case_type, count(*) AS persons, count(*) FILTER (WHERE customers > 1) AS split,
                        sum({_PAIRS}) AS true_pairs
                 FROM ct JOIN person USING (person_id) GROUP BY case_type),
        found AS (SELECT case_type, sum({_PAIRS}) AS found_pairs FROM ct JOIN pc USING (person_id) GROUP BY case_type),
        mix AS (SELECT case_type, count(DISTINCT customer_id) AS mixed
                FROM ct JOIN pc USING (person_id) JOIN mixed USING (customer_id) GROUP BY case_type),
        members AS (SELECT DISTINCT case_type, case_group, person_id FROM _ev_cases JOIN person USING (person_id)
                    WHERE case_group <> ''),
        groups AS (SELECT case_type, sum(m * (m - 1) / 2) AS case_pairs
                   FROM (SELECT case_type, case_group, count(*) AS m FROM members GROUP BY ALL) GROUP BY case_type),
        merged AS (SELECT a.case_type, count(DISTINCT (a.person_id, b.person_id)) AS case_pairs_merged
                   FROM members a JOIN members b ON a.case_type = b.case_type AND a.case_group = b.case_group
                                                AND a.person_id < b.person_id
                   JOIN pc x ON x.person_id = a.person_id
                   JOIN pc y ON y.person_id = b.person_id AND y.customer_id = x.customer_id
                   GROUP BY a.case_type)
        SELECT case_type, persons, split, true_pairs, coalesce(found_pairs, 0), coalesce(mixed, 0),
               coalesce(case_pairs, 0), coalesce(case_pairs_merged, 0)
        FROM base LEFT JOIN found USING (case_type) LEFT JOIN mix USING (case_type)
                  LEFT JOIN groups USING (case_type) LEFT JOIN merged USING (case_type)
        ORDER BY case_type""").fetchall()
    return [
        {
            "case_type": case_type,
            "persons": int(persons),
            "persons_split": int(split),
            "true_pairs": int(true_pairs),
            "found_pairs": int(found),
            "recall": _ratio(found, true_pairs),
            "false_merge_customers": int(mixed),
            "case_pairs": int(case_pairs),
            "case_pairs_merged": int(case_merged),
        }
        for case_type, persons, split, true_pairs, found, mixed, case_pairs, case_merged in rows
    ]


def _ratio(a: float, b: float) -> float | None:
    return (a / b) if b else None


def evaluate_against_truth(con_or_map, truth_csv: Path | str, cases_csv: Path | str | None = None) -> dict:
    """Compare a customer map (a DuckDB connection holding ``identity.customer_map``, or a
    DataFrame with ``source, source_record_id, customer_id``) with a truth CSV
    (``source, source_record_id, person_id``). Records missing from either side are
    counted and left out of the measures.

    When a hard-case file is given, or sits beside the truth (``truth_cases_path``), the
    result also holds ``cases_file`` and ``by_case`` (see ``_by_case``); else neither key."""
    if cases_csv is None and truth_cases_path(truth_csv).is_file():
        cases_csv = truth_cases_path(truth_csv)
    con, own = _prepare(con_or_map, truth_csv)
    try:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        coverage = q("""SELECT (SELECT count(*) FROM _ev_j),
                               (SELECT count(*) FROM _ev_truth t ANTI JOIN _ev_map m USING (source, source_record_id)),
                               (SELECT count(*) FROM _ev_map m ANTI JOIN _ev_truth t USING (source, source_record_id))""")[
            0
        ]
        tp, pred, true = q(f"""
            SELECT (SELECT coalesce(sum({_PAIRS}), 0) FROM (SELECT count(*) n FROM _ev_j GROUP BY customer_id, person_id)),
                   (SELECT coalesce(sum({_PAIRS}), 0) FROM (SELECT count(*) n FROM _ev_j GROUP BY customer_id)),
                   (SELECT coalesce(sum({_PAIRS}), 0) FROM (SELECT count(*) n FROM _ev_j GROUP BY person_id))""")[0]
        precision, recall = _ratio(tp, pred), _ratio(tp, true)
        f1 = (2 * precision * recall / (precision + recall)) if precision and recall else None

        clusters = q("""
            WITH pc AS (SELECT person_id, count(DISTINCT customer_id) AS k, any_value(customer_id) AS c
                        FROM _ev_j GROUP BY person_id),
                 cp AS (SELECT customer_id, count(DISTINCT person_id) AS k FROM _ev_j GROUP BY customer_id)
            SELECT (SELECT count(*) FROM pc),
                   (SELECT count(*) FROM pc JOIN cp ON cp.customer_id = pc.c WHERE pc.k = 1 AND cp.k = 1),
                   (SELECT count(*) FROM pc WHERE k > 1),
                   (SELECT count(*) FROM cp),
                   (SELECT count(*) FROM cp WHERE k > 1)""")[0]
        persons, exact, under, customers, over = clusters

        by_pair = q("""
            WITH grp AS (SELECT person_id, customer_id, source, count(*) AS n FROM _ev_j GROUP BY ALL),
            -- pairs between (or within) sources, from group sizes
            t AS (SELECT person_id, source, sum(n) AS n FROM grp GROUP BY ALL),
            p AS (SELECT customer_id, source, sum(n) AS n FROM grp GROUP BY ALL),
            true_pairs AS (
                SELECT a.source AS s1, b.source AS s2,
                       sum(CASE WHEN a.source = b.source THEN a.n * (a.n - 1) / 2 ELSE a.n * b.n END) AS n
                FROM t a JOIN t b ON a.person_id = b.person_id AND a.source <= b.source GROUP BY ALL),
            tp_pairs AS (
                SELECT a.source AS s1, b.source AS s2,
                       sum(CASE WHEN a.source = b.source THEN a.n * (a.n - 1) / 2 ELSE a.n * b.n END) AS n
                FROM grp a JOIN grp b ON a.person_id = b.person_id AND a.customer_id = b.customer_id
                                     AND a.source <= b.source GROUP BY ALL),
            pred_pairs AS (
                SELECT a.source AS s1, b.source AS s2,
                       sum(CASE WHEN a.source = b.source THEN a.n * (a.n - 1) / 2 ELSE a.n * b.n END) AS n
                FROM p a JOIN p b ON a.customer_id = b.customer_id AND a.source <= b.source GROUP BY ALL)
            SELECT s1, s2, coalesce(t.n, 0), coalesce(tp.n, 0), coalesce(pp.n, 0)
            FROM true_pairs t FULL JOIN tp_pairs tp USING (s1, s2) FULL JOIN pred_pairs pp USING (s1, s2)
            WHERE coalesce(t.n, 0) + coalesce(pp.n, 0) > 0
            ORDER BY s1, s2""")
        thresholds = None if own else _run_thresholds(con)
        by_case = _by_case(con, Path(cases_csv)) if cases_csv is not None else None
    finally:
        if own:
            con.close()
    return {
        "thresholds": thresholds,
        "records_evaluated": coverage[0],
        "records_missing_from_map": coverage[1],
        "records_missing_from_truth": coverage[2],
        "pairwise": {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "true_positive_pairs": int(tp),
            "predicted_pairs": int(pred),
            "true_pairs": int(true),
        },
        "clusters": {
            "persons": persons,
            "customers": customers,
            "persons_exactly_recovered": exact,
            "share_exactly_recovered": _ratio(exact, persons),
            "over_merged_customers": over,
            "under_merged_persons": under,
        },
        "by_source_pair": [
            {
                "sources": f"{s1}<->{s2}",
                "true_pairs": int(tn),
                "found_pairs": int(tpn),
                "predicted_pairs": int(pn),
                "recall": _ratio(tpn, tn),
                "precision": _ratio(tpn, pn),
            }
            for s1, s2, tn, tpn, pn in by_pair
        ],
    } | ({"cases_file": str(cases_csv), "by_case": by_case} if by_case is not None else {})


def _run_thresholds(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The thresholds the latest identity run linked at (``thresholds.py``), if it recorded them."""
    try:
        cur = con.execute("""SELECT match_threshold, sparse_pair_threshold, sparse_expected_precision, sparse_links
                             FROM identity.runs ORDER BY "at" DESC LIMIT 1""")
    except duckdb.Error:  # no runs table, or one from before the thresholds were recorded
        return None
    row = cur.fetchall()
    if not row or row[0][0] is None:
        return None
    t, ts, prec, links = row[0]
    return {"match_threshold": t, "sparse_pair_threshold": ts, "sparse_expected_precision": prec, "sparse_links": links}


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def format_evaluation(result: dict) -> str:
    """The evaluation as terminal text (``cdp evaluate``)."""
    p, c = result["pairwise"], result["clusters"]
    lines = [
        f"Records evaluated: {result['records_evaluated']:,}  (missing from map: "
        f"{result['records_missing_from_map']:,}; not in truth: {result['records_missing_from_truth']:,})",
        "",
        f"Pairwise  precision {_fmt(p['precision'])}  recall {_fmt(p['recall'])}  F1 {_fmt(p['f1'])}",
        f"          pairs: true {p['true_pairs']:,}  predicted {p['predicted_pairs']:,}  "
        f"correct {p['true_positive_pairs']:,}",
        "",
        f"Clusters  persons {c['persons']:,}  customers {c['customers']:,}  exactly recovered "
        f"{c['persons_exactly_recovered']:,} ({_fmt(c['share_exactly_recovered'])})",
        f"          over-merged customers {c['over_merged_customers']:,}  "
        f"under-merged persons {c['under_merged_persons']:,}",
        "",
        f"{'sources':<14}{'true pairs':>12}{'found':>10}{'recall':>9}{'predicted':>11}{'precision':>11}",
    ]
    t = result.get("thresholds")
    if t:
        lines[2:2] = [
            f"Thresholds  pairs with an e-mail or phone to compare: {t['match_threshold']:.4f}; "
            f"pairs judged on name, birth date and address: {t['sparse_pair_threshold']:.4f}",
            f"            (calibrated this run: {t['sparse_links'] or 0:,} such links, expected precision "
            f"{_fmt(t['sparse_expected_precision'])})",
            "",
        ]
    for row in result["by_source_pair"]:
        lines.append(
            f"{row['sources']:<14}{row['true_pairs']:>12,}{row['found_pairs']:>10,}{_fmt(row['recall']):>9}"
            f"{row['predicted_pairs']:>11,}{_fmt(row['precision']):>11}"
        )
    if "by_case" in result:
        lines += [
            "",
            f"Hard cases ({Path(result['cases_file']).name}): recall over the record pairs of the case's "
            "persons; false merges = customers mixing",
            "a person of the case with another person; case pairs = persons of one case (the twins, parent "
            "and child, a household) in one customer",
            f"{'case type':<20}{'persons':>8}{'split':>7}{'true pairs':>12}{'found':>9}{'recall':>9}"
            f"{'false merges':>14}{'case pairs merged':>19}",
        ]
        for row in result["by_case"]:
            merged = f"{row['case_pairs_merged']:,} / {row['case_pairs']:,}" if row["case_pairs"] else "-"
            lines.append(
                f"{row['case_type']:<20}{row['persons']:>8,}{row['persons_split']:>7,}"
                f"{row['true_pairs']:>12,}{row['found_pairs']:>9,}{_fmt(row['recall']):>9}"
                f"{row['false_merge_customers']:>14,}{merged:>19}"
            )
    return "\n".join(lines)


def blocking_recall(
    con: duckdb.DuckDBPyConnection, truth_csv: Path | str, config=None, source_table: str = "staging.identity_records"
) -> dict:
    """Share of true pairs among the model's records that the prediction blocking rules put
    up for scoring (a pair no rule blocks can never be linked probabilistically).

    Counts only true pairs (joined on the truth's person), so it stays cheap. Rebuilds the
    identity work tables (TEMP) in ``con``.
    """
    from cdp_pipeline.lib.identity.config import load_identity_config
    from cdp_pipeline.lib.identity.junk_guard import find_excluded_identifiers
    from cdp_pipeline.lib.identity.name_keys import write_first_name_table
    from cdp_pipeline.lib.identity.name_variants import load_name_variants
    from cdp_pipeline.lib.identity.records import build_identifiers, build_records
    from cdp_pipeline.lib.identity.splink_model import (
        SPLINK_INPUT,
        blocking_rule,
        blocking_rule_name,
        build_splink_input,
    )

    config = config or load_identity_config()
    build_records(con, source_table)
    write_first_name_table(
        con, f"SELECT DISTINCT nullif(trim(first_name_match), '') FROM {source_table}", load_name_variants()
    )
    build_identifiers(con)
    find_excluded_identifiers(con, config)
    build_splink_input(con, config)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _br_input AS
        SELECT i.*, t.person_id
        FROM {SPLINK_INPUT} i JOIN temp._id_records r ON r.rid = i.unique_id
        JOIN read_csv({quote_literal(str(truth_csv))}, header = true, all_varchar = true) t
          ON t.source = r.source AND t.source_record_id = r.source_record_id
    """)
    true_pairs = con.execute(f"""SELECT coalesce(sum({_PAIRS}), 0) FROM
                                 (SELECT count(*) n FROM temp._br_input GROUP BY person_id)""").fetchall()[0][0]
    rules = [
        (blocking_rule_name(r), blocking_rule(r).get_blocking_rule("duckdb").blocking_rule_sql)
        for r in config.splink.blocking_rules
    ]
    per_rule, union_parts = [], []
    for name, sql in rules:
        part = f"""SELECT l.unique_id AS a, r.unique_id AS b FROM temp._br_input l JOIN temp._br_input r
                   ON l.person_id = r.person_id AND l.unique_id < r.unique_id AND ({sql})"""
        union_parts.append(part)
        n = con.execute(f"SELECT count(*) FROM ({part})").fetchall()[0][0]
        per_rule.append({"rule": name, "true_pairs_blocked": n, "recall": _ratio(n, true_pairs)})
    blocked = (
        con.execute(f"SELECT count(*) FROM ({' UNION '.join(union_parts)})").fetchall()[0][0] if union_parts else 0
    )
    return {
        "records_in_model": con.execute("SELECT count(*) FROM temp._br_input").fetchall()[0][0],
        "true_pairs": int(true_pairs),
        "true_pairs_blocked": int(blocked),
        "recall": _ratio(blocked, true_pairs),
        "by_rule": per_rule,
    }
