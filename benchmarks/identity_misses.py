"""Every true pair a run left in two customers, and why: fields, blocking, the model's score, guards.

    python benchmarks/identity_misses.py WORKFOLDER [--json OUT.json]

``WORKFOLDER`` is a data set's folder that ``identity_accuracy.py --keep`` left (``truth/truth.csv``
and ``data/warehouse/build/cdp_build.duckdb``). Reads a copy of the build database and prints, per
true pair whose two records ended in two customers: the two records' fields; the blocking rules of
``identity.yaml`` that bring the pair up (none: it was never scored); the stored score
(``identity.scored_pairs`` holds the pairs at or above the floor) and any ``identity.rejected_links``
row (a guard cut it); and the pair's match probability, weight and per-comparison levels and
weights under the run's own stored model and frozen name frequencies, so that a pair never
blocked or scored below the floor is weighed too. Ends with a tally: the missed pairs by where
they stopped (a guard's cut; scored under the sparse threshold or under ``match_threshold``;
blocked but under the floor; never blocked, and whether the stored model would have linked the
pair), and the splits (a person's two customers) by the nearest of their missed pairs, with the
pairs that joining each would recover. Uses the identity code on ``PYTHONPATH``: run
it with the code that made the run (the blocking rules and the model's input are rebuilt).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
from pathlib import Path

import duckdb

FIELDS = ("first_name", "last_name", "birth_date", "street", "postcode", "city", "email", "phone")


def _model_input(con, config) -> None:
    """The model's input as the run built it, with each record's key and person (``main.si``)."""
    from cdp_pipeline.lib.identity.junk_guard import find_excluded_identifiers
    from cdp_pipeline.lib.identity.name_keys import write_first_name_table
    from cdp_pipeline.lib.identity.name_variants import load_name_variants
    from cdp_pipeline.lib.identity.records import build_identifiers, build_records
    from cdp_pipeline.lib.identity.splink_model import SPLINK_INPUT, build_splink_input
    from cdp_pipeline.lib.identity.stitching import build_deterministic_edges

    build_records(con, "staging.identity_records")
    variants = load_name_variants()
    write_first_name_table(
        con, "SELECT DISTINCT nullif(trim(first_name_match), '') FROM staging.identity_records", variants
    )
    build_identifiers(con)
    find_excluded_identifiers(con, config)
    # stitching's household values (a family inbox or landline: its records name two people), which
    # the model's levels added after training read; without them those levels never hold here, and
    # a household member's own mailbox beside the family inbox weighed as two e-mails (-3.8 instead
    # of 0: a pair the run scored 0.71 came out 0.15)
    build_deterministic_edges(con, config, variants)
    build_splink_input(con, config)
    con.execute(f"""CREATE OR REPLACE TABLE main.si AS
        SELECT i.*, r.source AS src, r.source_record_id AS srid, t.person_id
        FROM {SPLINK_INPUT} i JOIN temp._id_records r ON r.rid = i.unique_id
        JOIN temp.truth t ON t.source = r.source AND t.source_record_id = r.source_record_id""")


def _blocked_by(con, config) -> dict[tuple, list[str]]:
    from cdp_pipeline.lib.identity.splink_model import blocking_rule, blocking_rule_name

    out: dict[tuple, list[str]] = {}
    for rule in config.splink.blocking_rules:
        sql = blocking_rule(rule).get_blocking_rule("duckdb").blocking_rule_sql
        for row in con.execute(f"""SELECT l.src, l.srid, r.src, r.srid FROM main.si l JOIN main.si r
                ON l.person_id = r.person_id AND (l.src, l.srid) < (r.src, r.srid) AND ({sql})""").fetchall():
            out.setdefault(tuple(row), []).append(blocking_rule_name(rule))
    return out


def _true_pair_scores(con) -> dict[tuple, dict]:
    """Every true pair in the model scored by the stored model (blocking on the truth's person)."""
    from splink import DuckDBAPI, Linker

    from cdp_pipeline.lib.identity.thresholds import sparse_sql

    settings = json.loads(con.execute("SELECT settings_json FROM identity.model").fetchall()[0][0])
    settings["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": "l.person_id = r.person_id", "sql_dialect": "duckdb"}
    ]
    settings["retain_intermediate_calculation_columns"] = True
    settings["retain_matching_columns"] = True
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register("si"), settings, log_level=logging.ERROR)
    for col in [c.unquote().name for c in linker._settings_obj._term_frequency_columns]:
        con.execute(f"""CREATE OR REPLACE TABLE main.tf_{col} AS SELECT value AS "{col}", tf AS tf_{col}
                        FROM identity.model_term_frequencies WHERE column_name = '{col}'""")
        linker.table_management.register_term_frequency_lookup(db_api.register(f"main.tf_{col}"), col)
    pred = linker.inference.predict(threshold_match_probability=None)
    cols = [r[0] for r in con.execute(f"DESCRIBE {pred.physical_name}").fetchall()]
    gammas = [c for c in cols if c.startswith("gamma_")]
    weights = [
        f"p.{c}" + (f" + p.mw_tf_adj_{c[3:]}" if f"mw_tf_adj_{c[3:]}" in cols else "") + f" AS {c}"
        for c in cols
        if c.startswith("mw_") and not c.startswith("mw_tf_")
    ]
    rows = con.execute(f"""SELECT l.src, l.srid, r.src, r.srid, p.match_probability, p.match_weight,
               {", ".join("p." + g for g in gammas)}, {", ".join(weights)},
               {sparse_sql(False)} AS sparse_where_no_households, {sparse_sql(True)} AS sparse_where_households
        FROM {pred.physical_name} p JOIN main.si l ON l.unique_id = p.unique_id_l
        JOIN main.si r ON r.unique_id = p.unique_id_r""")
    names = [d[0] for d in rows.description]
    out = {}
    for row in rows.fetchall():
        a, b = (row[0], row[1]), (row[2], row[3])
        out[(*min(a, b), *max(a, b))] = dict(zip(names[4:], row[4:]))
    return out


def missed_pairs(work: Path) -> dict:
    from cdp_pipeline.lib.identity.config import load_identity_config

    truth = work / "truth" / "truth.csv"
    scratch = Path(tempfile.mkdtemp())
    try:
        shutil.copy(work / "data" / "warehouse" / "build" / "cdp_build.duckdb", scratch / "build.duckdb")
        con = duckdb.connect(str(scratch / "build.duckdb"))
        config = load_identity_config()
        con.execute(
            "CREATE TEMP TABLE truth AS SELECT * FROM read_csv(?, header = true, all_varchar = true)", [str(truth)]
        )
        missed = con.execute("""
            SELECT a.source, a.source_record_id, b.source, b.source_record_id, a.person_id,
                   ma.customer_id, mb.customer_id
            FROM temp.truth a JOIN temp.truth b ON a.person_id = b.person_id
             AND (a.source, a.source_record_id) < (b.source, b.source_record_id)
            JOIN identity.customer_map ma ON ma.source = a.source AND ma.source_record_id = a.source_record_id
            JOIN identity.customer_map mb ON mb.source = b.source AND mb.source_record_id = b.source_record_id
            WHERE ma.customer_id <> mb.customer_id ORDER BY ALL""").fetchall()
        true_pairs = con.execute(
            "SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) n FROM temp.truth GROUP BY person_id)"
        ).fetchall()[0][0]
        _model_input(con, config)
        blocked = _blocked_by(con, config)
        model = _true_pair_scores(con)
        staged = {c[0] for c in con.execute("DESCRIBE staging.identity_records").fetchall()}
        fields = [f for f in FIELDS if f in staged]
        records = {
            (r[0], r[1]): dict(zip(fields, (None if v is None else str(v) for v in r[2:])))
            for r in con.execute(
                f"SELECT source, source_record_id, {', '.join(fields)} FROM staging.identity_records"
            ).fetchall()
        }
        stored = {}
        for r in con.execute(
            "SELECT source_l, record_l, source_r, record_r, match_probability, sparse FROM identity.scored_pairs"
        ).fetchall():
            a, b = (r[0], r[1]), (r[2], r[3])
            stored[(*min(a, b), *max(a, b))] = {"match_probability": r[4], "sparse": r[5]}
        rejected = {}
        for r in con.execute(
            "SELECT source_l, record_l, source_r, record_r, reason FROM identity.rejected_links"
        ).fetchall():
            a, b = (r[0], r[1]), (r[2], r[3])
            rejected[(*min(a, b), *max(a, b))] = r[4]
        run = dict(
            zip(
                ("match_threshold", "sparse_pair_threshold", "clusters_split"),
                con.execute(
                    "SELECT match_threshold, sparse_pair_threshold, clusters_split FROM identity.runs "
                    'ORDER BY "at" DESC LIMIT 1'
                ).fetchall()[0],
            )
        )
        pairs = []
        for sl, rl, sr, rr, person, cl, cr in missed:
            key = (sl, rl, sr, rr)
            pairs.append(
                {
                    "person": person,
                    "customers": sorted([str(cl), str(cr)]),
                    "records": [[sl, rl], [sr, rr]],
                    "fields": [records[(sl, rl)], records[(sr, rr)]],
                    "blocked_by": blocked.get(key, []),
                    "stored_score": stored.get(key),
                    "rejected": rejected.get(key),
                    "model": model.get(key),
                }
            )
        con.close()
        return {"true_pairs": int(true_pairs), "missed": len(pairs), "run": run, "pairs": pairs}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _print(result: dict) -> None:
    print(f"true pairs {result['true_pairs']:,}, missed {result['missed']:,}; run {result['run']}")
    for p in result["pairs"]:
        (a, b), (fa, fb) = p["records"], p["fields"]
        print(f"\nperson {p['person']}: {a[0]} {a[1]} / {b[0]} {b[1]}")
        for f in fa:
            print(f"  {f:11} {fa[f] or '':32} {fb[f] or '':32}{'' if fa[f] == fb[f] else ' <>'}")
        print(f"  blocked by: {', '.join(p['blocked_by']) or 'no rule'}")
        print(f"  stored score: {p['stored_score']}; cut by a guard: {p['rejected']}")
        m = p["model"]
        if m:
            levels = {k[6:]: v for k, v in m.items() if k.startswith("gamma_")}
            weights = {k[3:]: round(v, 2) for k, v in m.items() if k.startswith("mw_") and v is not None}
            print(
                f"  stored model: p {m['match_probability']:.4f}, weight {m['match_weight']:.2f}, sparse "
                f"{m['sparse_where_no_households']} (where no households are seen) / {m['sparse_where_households']}"
            )
            print(f"  levels {levels}\n  weights {weights}")
        else:
            print("  stored model: not in the model (a record without a name)")


CLASSES = (
    "a guard cut it",
    "scored, below the sparse threshold",
    "scored, below match_threshold",
    "blocked, below the floor",
    "never blocked, would link",
    "never blocked",
)


def pair_class(p: dict, run: dict) -> str:
    """Where a missed pair stopped, nearest to a link first: a guard's cut; a stored score under its
    threshold; compared but under the floor; never compared (and whether the stored model, had it
    been compared, would have put it at its threshold)."""
    if p["rejected"]:
        return CLASSES[0]
    if p["stored_score"]:
        return CLASSES[1] if p["stored_score"]["sparse"] else CLASSES[2]
    if p["blocked_by"]:
        return CLASSES[3]
    m = p["model"]
    if m and m["match_probability"] >= (
        run["sparse_pair_threshold"] if m["sparse_where_no_households"] else run["match_threshold"]
    ):
        return CLASSES[4]
    return CLASSES[5]


def summary(result: dict) -> dict:
    """Missed pairs by class, and splits (a person's two customers) by the nearest class of any
    missed pair between them."""
    pairs: dict[str, int] = dict.fromkeys(CLASSES, 0)
    best: dict[tuple, int] = {}
    size: dict[tuple, int] = {}
    for p in result["pairs"]:
        c = CLASSES.index(pair_class(p, result["run"]))
        pairs[CLASSES[c]] += 1
        split = (p["person"], *p["customers"])
        best[split] = min(best.get(split, c), c)
        size[split] = size.get(split, 0) + 1
    splits = dict.fromkeys(CLASSES, 0)
    split_pairs = dict.fromkeys(CLASSES, 0)
    for split, c in best.items():
        splits[CLASSES[c]] += 1
        split_pairs[CLASSES[c]] += size[split]
    return {"pairs": pairs, "splits": splits, "split pairs": split_pairs, "persons split": len({s[0] for s in best})}


def _print_summary(result: dict) -> None:
    s = summary(result)
    # pairs: each missed pair by where it stopped; splits: each pair of a person's customers by its
    # nearest pair, and the missed pairs between them (what joining the split would recover)
    print(f"\n{'class':40} {'pairs':>6} {'splits':>6} {'their pairs':>11}")
    for c in CLASSES:
        print(f"{c:40} {s['pairs'][c]:6} {s['splits'][c]:6} {s['split pairs'][c]:11}")
    total = sum(s["splits"].values())
    print(f"{'total':40} {sum(s['pairs'].values()):6} {total:6} {'':11} ({s['persons split']} persons)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workfolder", type=Path, help="a data set's folder left by identity_accuracy.py --keep")
    ap.add_argument("--json", type=Path, help="also write the pairs here")
    args = ap.parse_args()
    result = missed_pairs(args.workfolder)
    _print(result)
    _print_summary(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
