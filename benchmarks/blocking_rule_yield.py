"""What each blocking rule of ``identity.yaml`` brings up, and what of it is linked and true, on a kept run.

    python benchmarks/blocking_rule_yield.py WORKFOLDER [WORKFOLDER ...] [--json OUT.json]
    python benchmarks/blocking_rule_yield.py --db BUILD.duckdb --truth TRUTH.csv [--json OUT.json]

``WORKFOLDER`` is a data set's folder that ``identity_accuracy.py --keep`` left (``truth/truth.csv``
and ``data/warehouse/build/cdp_build.duckdb``); ``--db``/``--truth`` name a build database (a 1M
``run_benchmark.py --keep`` night's ``data/warehouse/build/cdp_build.duckdb``) and its truth. Reads
a copy of the database, rebuilds the model's input as the run built it (as ``identity_misses.py``
does; run it with the code that made the run), joins the records once per rule and prints per rule:

- ``first``: the pairs the rule brings up that no earlier rule does (its ``match_key``, what the
  scoring pays for: rule order decides which rule a pair is counted under);
- ``only``: the pairs no other rule brings up, earlier or later (what dropping the rule loses);
- of each, how many are true pairs (one person by the truth) and how many the run linked (a
  probabilistic link in ``identity.links``: scored at or above the threshold and kept by the
  clustering);
- ``cut``: of the ``only`` pairs the run linked, those whose two records would no longer be one
  customer without them (the customer's other links do not join them), and how many are true;
- ``join_cpu``: CPU seconds of the rule's join alone over the model's input (as written, on the
  strings: the pipeline's ``blocking.py`` joins on numbered keys and pays less).

``--levels`` adds, per comparison level (``gamma``), how many true pairs fall in it under the run's
stored model (every true pair scored, as ``identity_misses.py`` scores them) and how many of those
ended in one customer: a level no true pair uses anywhere only ever weighs two people.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _components(n: int, edges) -> list[int]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    return [find(x) for x in range(n)]


def rule_yield(db: Path, truth: Path, levels: bool = False, drop: tuple[int, ...] = ()) -> dict:
    from identity_misses import _model_input, _true_pair_scores

    from cdp_pipeline.lib.identity.config import load_identity_config
    from cdp_pipeline.lib.identity.splink_model import blocking_rule, blocking_rule_name

    scratch = Path(tempfile.mkdtemp(dir="/tmp/s38/rules/tmp" if Path("/tmp/s38/rules/tmp").is_dir() else None))
    try:
        shutil.copy(db, scratch / "build.duckdb")
        con = duckdb.connect(str(scratch / "build.duckdb"))
        config = load_identity_config()
        con.execute(
            "CREATE TEMP TABLE truth AS SELECT * FROM read_csv(?, header = true, all_varchar = true)", [str(truth)]
        )
        _model_input(con, config)
        rules = config.splink.blocking_rules
        names = [blocking_rule_name(r) for r in rules]
        con.execute("CREATE TEMP TABLE pr (rule INTEGER, l BIGINT, r BIGINT)")
        join_cpu = []
        for i, rule in enumerate(rules):
            sql = blocking_rule(rule).get_blocking_rule("duckdb").blocking_rule_sql
            t = time.process_time()
            con.execute(f"""CREATE OR REPLACE TEMP TABLE one AS SELECT l.unique_id AS l, r.unique_id AS r
                FROM main.si l JOIN main.si r ON ({sql}) WHERE l.unique_id < r.unique_id""")
            join_cpu.append(time.process_time() - t)
            con.execute(f"INSERT INTO pr SELECT {i}, l, r FROM one")
        # every blocked pair: its first rule, how many rules bring it up, true, linked
        con.execute("""CREATE TEMP TABLE recs AS
            SELECT row_number() OVER (ORDER BY source, source_record_id) - 1 AS n, source, source_record_id,
                   customer_id FROM identity.customer_map""")
        con.execute("""CREATE TEMP TABLE plinks AS
            SELECT least(a.n, b.n) AS a, greatest(a.n, b.n) AS b FROM identity.links k
            JOIN recs a ON a.source = k.source_l AND a.source_record_id = k.record_l
            JOIN recs b ON b.source = k.source_r AND b.source_record_id = k.record_r
            WHERE k.link_type = 'probabilistic'""")
        con.execute("""CREATE TEMP TABLE pairs AS
            SELECT p.l, p.r, min(rule) AS first, count(*) AS nrules, any_value(sl.person_id = sr.person_id) AS true_,
                   any_value(least(ra.n, rb.n)) AS a, any_value(greatest(ra.n, rb.n)) AS b
            FROM pr p JOIN main.si sl ON sl.unique_id = p.l JOIN main.si sr ON sr.unique_id = p.r
            JOIN recs ra ON ra.source = sl.src AND ra.source_record_id = sl.srid
            JOIN recs rb ON rb.source = sr.src AND rb.source_record_id = sr.srid
            GROUP BY p.l, p.r""")
        con.execute("""CREATE TEMP TABLE pairs2 AS SELECT p.*, k.a IS NOT NULL AS linked
            FROM pairs p LEFT JOIN (SELECT DISTINCT a, b FROM plinks) k ON k.a = p.a AND k.b = p.b""")
        by_first = {
            r[0]: r[1:]
            for r in con.execute("""SELECT first, count(*), count(*) FILTER (true_),
                count(*) FILTER (linked), count(*) FILTER (linked AND true_) FROM pairs2 GROUP BY first""").fetchall()
        }
        con.execute("""CREATE TEMP TABLE only_ AS SELECT p.rule, q.a, q.b, q.true_, q.linked
            FROM pr p JOIN pairs2 q ON q.l = p.l AND q.r = p.r WHERE q.nrules = 1""")
        by_only = {
            r[0]: r[1:]
            for r in con.execute("""SELECT rule, count(*), count(*) FILTER (true_),
                count(*) FILTER (linked), count(*) FILTER (linked AND true_) FROM only_ GROUP BY rule""").fetchall()
        }
        # links of every kind, by record number, and each only-pair link's rule
        n = con.execute("SELECT count(*) FROM recs").fetchall()[0][0]
        all_links = con.execute("""SELECT a.n, b.n FROM identity.links k
            JOIN recs a ON a.source = k.source_l AND a.source_record_id = k.record_l
            JOIN recs b ON b.source = k.source_r AND b.source_record_id = k.record_r""").fetchall()
        only_linked: dict[int, list[tuple[int, int, bool]]] = {}
        for rule, a, b, true_ in con.execute("SELECT rule, a, b, true_ FROM only_ WHERE linked").fetchall():
            only_linked.setdefault(rule, []).append((a, b, bool(true_)))
        cut = {}
        for rule, removed in only_linked.items():
            gone = {(a, b) for a, b, _ in removed}
            comp = _components(n, [(a, b) for a, b in all_links if (min(a, b), max(a, b)) not in gone])
            split = [(a, b, t) for a, b, t in removed if comp[a] != comp[b]]
            cut[rule] = (len(split), sum(t for _, _, t in split))
        dropped = {}
        if drop:
            # the pairs only the dropped rules bring up, together, and those of them whose records
            # the other links would no longer join
            lost = con.execute(f"""SELECT q.a, q.b, any_value(q.true_), any_value(q.linked)
                FROM pr p JOIN pairs2 q ON q.l = p.l AND q.r = p.r
                GROUP BY q.a, q.b HAVING bool_and(p.rule IN ({",".join(map(str, drop))}))""").fetchall()
            gone = {(a, b) for a, b, _, linked in lost if linked}
            comp = _components(n, [(a, b) for a, b in all_links if (min(a, b), max(a, b)) not in gone])
            split = [t for a, b, t, linked in lost if linked and comp[a] != comp[b]]
            dropped = {
                "rules": [names[i] for i in drop],
                "lost": len(lost),
                "lost_true": sum(bool(t) for _, _, t, _ in lost),
                "lost_linked": len(gone),
                "lost_linked_true": sum(bool(t) for _, _, t, linked in lost if linked),
                "cut": len(split),
                "cut_true": sum(bool(t) for t in split),
            }
        totals = con.execute(
            "SELECT count(*), count(*) FILTER (true_), count(*) FILTER (linked) FROM pairs2"
        ).fetchall()[0]
        level_counts = {}
        if levels:
            customer = dict(
                ((s, r), c)
                for s, r, c in con.execute(
                    "SELECT source, source_record_id, customer_id FROM identity.customer_map"
                ).fetchall()
            )
            # gamma -> level label, from the run's stored model (levels differ between runs: some are
            # added only where the data has the case)
            label = {}
            for comp in json.loads(con.execute("SELECT settings_json FROM identity.model").fetchall()[0][0])[
                "comparisons"
            ]:
                lvls = comp["comparison_levels"]
                gamma = sum(not lv.get("is_null_level") for lv in lvls) - 1
                for lv in lvls:
                    name = lv.get("label_for_charts") or lv.get("sql_condition")
                    if lv.get("is_null_level"):
                        label[(comp["output_column_name"], -1)] = name
                    else:
                        label[(comp["output_column_name"], gamma)] = name
                        gamma -= 1
            for (col, _), name in label.items():
                level_counts[f"{col}: {name}"] = [0, 0]
            for key, p in _true_pair_scores(con).items():
                same = customer.get(key[:2]) == customer.get(key[2:])
                for g, v in p.items():
                    if g.startswith("gamma_"):
                        c = level_counts.setdefault(f"{g[6:]}: {label.get((g[6:], v), v)}", [0, 0])
                        c[0] += 1
                        c[1] += same
        con.close()
        out = []
        for i, name in enumerate(names):
            f = by_first.get(i, (0, 0, 0, 0))
            o = by_only.get(i, (0, 0, 0, 0))
            c = cut.get(i, (0, 0))
            out.append(
                {
                    "rule": i,
                    "name": name,
                    "first": f[0],
                    "first_true": f[1],
                    "first_linked": f[2],
                    "first_linked_true": f[3],
                    "only": o[0],
                    "only_true": o[1],
                    "only_linked": o[2],
                    "only_linked_true": o[3],
                    "cut": c[0],
                    "cut_true": c[1],
                    "join_cpu": round(join_cpu[i], 3),
                }
            )
        return {
            "pairs": totals[0],
            "true": totals[1],
            "linked": totals[2],
            "rules": out,
            "levels": level_counts,
            "drop": dropped,
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


COLS = ("first", "first_true", "first_linked", "first_linked_true", "only", "only_true", "only_linked")
COLS += ("only_linked_true", "cut", "cut_true", "join_cpu")


def _print(label: str, result: dict) -> None:
    print(f"## {label}: {result['pairs']} pairs, {result['true']} true, {result['linked']} linked")
    print("| # | rule | " + " | ".join(COLS) + " |")
    print("|---|---|" + "---|" * len(COLS))
    for r in result["rules"]:
        print(f"| {r['rule']} | {r['name'][:60]} | " + " | ".join(str(r[c]) for c in COLS) + " |")
    if result["drop"]:
        print("dropped together:", result["drop"])
    for level, (n, same) in sorted(result["levels"].items()):
        print(f"{level}: {n} true pairs, {same} in one customer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("work", nargs="*", type=Path)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--truth", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--levels", action="store_true", help="also count true pairs per comparison level")
    parser.add_argument("--drop", type=int, nargs="+", default=[], help="rule indexes to drop together: what is lost")
    args = parser.parse_args()
    runs = [
        (str(w), w / "data" / "warehouse" / "build" / "cdp_build.duckdb", w / "truth" / "truth.csv") for w in args.work
    ]
    if args.db:
        runs.append((str(args.db), args.db, args.truth))
    results = {}
    for label, db, truth in runs:
        results[label] = rule_yield(db, truth, args.levels, tuple(args.drop))
        _print(label, results[label])
        sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
