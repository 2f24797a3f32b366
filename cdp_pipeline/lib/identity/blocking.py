"""Tonight's candidate pairs for scoring, found by one join per blocking rule and a GROUP BY.

Splink's ``predict_within`` finds them with one join per rule too, but removes the pairs an
earlier rule found by testing every earlier rule on each pair (``AND NOT (rule 1 OR rule 2
...)``): rule k's join carries the columns of the k - 1 rules before it, and the last of the 26
rules tests 25. At 1M records that was 5.6 CPU s for 1,233,877 pairs; the same pairs, each under
the first rule that finds it (Splink's ``match_key``), come from joining on each rule alone and
keeping one row per pair: 3.0 CPU s (``benchmarks/results/2026-12-06-s34-identity-input-1m.md``).
Rules on the same expressions of both records join on numbers given to the values instead of
the strings (``blocked_pairs_sql``; ``benchmarks/results/2026-12-06-s35-identity-blocking-1m.md``).
The pairs are then scored exactly as ``predict_within`` scores them (its second stage, the same
SQL), so every score is the same, in a view that the probabilistic edges are read from
(``predictions``).
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import duckdb

PREDICTIONS = "_id_predictions"


def _same_keys(rule) -> list[str] | None:
    """The key expressions of ``rule`` when it is a plain equi-join on the same expression of
    both records (``l.a = r.a AND substr(l.b, 1, 3) = substr(r.b, 1, 3)``; the form of every
    ``block_on`` rule), as Splink parses them, without the table prefix (a bare column name
    quoted, as ``block_on`` writes it), and the rule's other condition only tests columns for
    NULL (``_null_tests``); ``None`` for any other rule (a name on one side against another
    column on the other, a condition that is no equality)."""
    try:
        keys, rest = rule._equi_join_conditions, rule._filter_conditions
    except Exception:  # noqa: BLE001 - SQL sqlglot cannot split: joined as written
        return None
    if not keys or any(left != right for left, right in keys) or _null_tests(rest) is None:
        return None
    return [f'"{left}"' if _BARE.fullmatch(left) else left for left, _ in keys]


# a bare column name, as Splink gives a SQL rule's key
_BARE = re.compile(r"[A-Za-z_]\w*")


def _null_tests(condition: str) -> tuple[object, set[str]] | None:
    """A rule's condition besides its equalities (Splink writes "none" as TRUE) as sqlglot's tree
    and the columns it reads, when it only tests the two records' columns for NULL (``(l.a IS
    NULL OR r.a IS NULL)``, with AND, OR, NOT, IS NOT NULL); ``None`` for any other condition.
    Such a test reads the same on a column's number (``_numbering_ctes``), which is NULL exactly
    when the column is: the rule joins on numbers too."""
    import sqlglot
    from sqlglot import exp

    if condition.strip().upper() in ("", "TRUE"):
        return None, set()
    try:
        tree = sqlglot.parse_one(condition, read="duckdb")
    except Exception:  # noqa: BLE001 - not parsed: joined as written
        return None
    allowed = (exp.And, exp.Or, exp.Not, exp.Paren, exp.Is, exp.Null, exp.Column, exp.Identifier)
    columns = set()
    for node in tree.walk():
        if not isinstance(node, allowed):
            return None
        if isinstance(node, exp.Column):
            if node.table not in ("l", "r") or not isinstance(node.parent, exp.Is) or node.parent.this is not node:
                return None
            columns.add(node.name)
        if isinstance(node, exp.Is) and not isinstance(node.expression, exp.Null):
            return None
    return tree, columns


def _numbered_tests(condition: str, exprs: dict[str, str]) -> str:
    """``condition`` (``_null_tests``'s) on the columns' numbers (``exprs``: expression -> name)."""
    from sqlglot import exp

    tree, _ = _null_tests(condition)
    if tree is None:
        return ""
    numbered = tree.transform(
        lambda node: exp.column(exprs[f'"{node.name}"'], table=node.table) if isinstance(node, exp.Column) else node
    )
    return f" AND ({numbered.sql(dialect='duckdb')})"


def blocked_pairs_sql(rules, table: str) -> str:
    """SQL of Splink's blocked-pairs table (``match_key``, ``join_key_l``, ``join_key_r``) for a
    dedupe of ``table`` (column ``unique_id``) under ``rules`` (Splink ``BlockingRule``s, in
    order): every pair of records, the lower id on the left, that some rule's condition holds
    for, with the index of the first such rule as ``match_key`` (text, as Splink writes it).

    A rule on the same expressions of both records (``_same_keys``; besides its equalities at
    most tests of columns for NULL, read on their numbers) joins on integers: each
    expression any rule uses gets a number per distinct non-NULL value (``_keys``, made once
    for all rules), and two records have the same value exactly when they have the same number
    (NULL has none and joins nothing, as in the rule). Joined on the names, addresses and
    e-mails themselves, every rule's join hashed and compared the strings (3.1-3.2 CPU s at 1M
    records; 2.3-2.4 so, the numbering included). Other rules join as written."""
    keyed = [_same_keys(rule) for rule in rules]
    exprs: dict[str, str] = {}
    for rule, keys in zip(rules, keyed):
        if keys:
            tested = sorted(_null_tests(rule._filter_conditions)[1])
            for expr in [*keys, *(f'"{c}"' for c in tested)]:
                exprs.setdefault(expr, f"_k{len(exprs)}")
    joins = []
    for i, (rule, keys) in enumerate(zip(rules, keyed)):
        tests = ""
        if keys:
            on = " AND ".join(f"l.{exprs[e]} = r.{exprs[e]}" for e in keys)
            source = "_keys"
            tests = _numbered_tests(rule._filter_conditions, exprs)
        else:
            on, source = f"({rule.blocking_rule_sql})", table
        joins.append(
            f"""SELECT {i} AS rule, l.unique_id AS l, r.unique_id AS r
            FROM {source} AS l JOIN {source} AS r ON {on}
            WHERE l.unique_id < r.unique_id{tests}"""
        )
    union = "\n            UNION ALL\n".join(joins)
    pairs = f"""SELECT CAST(min(rule) AS VARCHAR) AS match_key, l AS join_key_l, r AS join_key_r
        FROM ({union}) GROUP BY l, r"""
    if not exprs:
        return pairs
    return "WITH " + ",\n".join(_numbering_ctes(exprs, table)) + "\n" + pairs


# a key that is the first n characters of a column, as sqlglot writes it
_PREFIX = re.compile(r'SUBSTRING\(("?)(\w+)\1, 1, (\d+)\)')


def _numbering_ctes(exprs: dict[str, str], table: str) -> list[str]:
    """CTEs numbering each key expression's distinct non-NULL values (``exprs``: expression ->
    name), ending with ``_keys``: every record's ``unique_id`` and its number for each (NULL
    where the expression is NULL). Which number a value gets is arbitrary: only compared for
    equality. A column's prefix (``SUBSTRING(col, 1, n)``) is numbered from the column's
    distinct values and reaches the records through the column's number (an integer join),
    not by a join of every record on the prefix's text: 0.63 against 0.84 CPU s at 1M."""
    prefixes = {e: m for e in exprs if (m := _PREFIX.fullmatch(e))}
    columns = {e: name for e, name in exprs.items() if e not in prefixes}
    by_column = {e.strip('"'): name for e, name in columns.items()}
    for m in prefixes.values():
        if m.group(2) not in by_column:
            by_column[m.group(2)] = columns[f'"{m.group(2)}"'] = f"_c{len(by_column)}"
    # materialised: a prefix's numbers are read off its column's, so both reads must see one
    # numbering (row_number() OVER () numbers in whatever order the DISTINCT comes out)
    ctes = [
        f"""{name} AS MATERIALIZED (SELECT _value, row_number() OVER () AS _number
            FROM (SELECT DISTINCT {expr} AS _value FROM {table} WHERE {expr} IS NOT NULL))"""
        for expr, name in columns.items()
    ]
    for expr, m in prefixes.items():
        name, column, n = exprs[expr], by_column[m.group(2)], m.group(3)
        # the prefix's number for each number of its column
        ctes.append(
            f"""{name} AS (SELECT c._number AS _of, p._number
            FROM {column} AS c JOIN (SELECT _value, row_number() OVER () AS _number
                                     FROM (SELECT DISTINCT substring(_value, 1, {n}) AS _value FROM {column})) AS p
              ON p._value = substring(c._value, 1, {n}))"""
        )
    ctes.append(
        "_keys AS MATERIALIZED (SELECT t.unique_id, "
        + ", ".join(f"{name}._number AS {name}" for name in exprs.values())
        + f" FROM {table} AS t "
        + " ".join(f"LEFT JOIN {name} ON {name}._value = {expr}" for expr, name in columns.items())
        + " "
        + " ".join(
            f"LEFT JOIN {exprs[e]} ON {exprs[e]}._of = {by_column[m.group(2)]}._number" for e, m in prefixes.items()
        )
        + ")"
    )
    return ctes


def _plain_dedupe(settings) -> bool:
    """Whether ``blocked_pairs_sql`` finds what Splink's blocking would: a dedupe of one table on
    ``unique_id``, no rule that explodes an array column."""
    from splink.internals.blocking import ExplodingBlockingRule

    info = settings.column_info_settings
    return (
        settings._link_type == "dedupe_only"
        and info.source_dataset_input_column is None
        and info.unique_id_input_column.unquote().name == "unique_id"
        and bool(settings._blocking_rules_to_generate_predictions)
        and not any(isinstance(r, ExplodingBlockingRule) for r in settings._blocking_rules_to_generate_predictions)
    )


@contextmanager
def predictions(con: duckdb.DuckDBPyConnection, linker, sdf, *, threshold_match_probability: float):
    """The name of a relation in ``con`` holding what
    ``linker.inference.predict_within(sdf, threshold_match_probability=...)`` returns, for the
    ``with`` block: its scoring SQL (the same as Splink's) over the candidate pairs of
    ``blocked_pairs_sql``, as a view. Splink writes its predictions to a table, every column of
    both records beside the scores (80 columns, name lists among them, for 362,000 pairs at 1M);
    what reads the view computes the columns it reads. Splink's own method and table where its
    blocking is not a plain dedupe (``_plain_dedupe``)."""
    from splink.internals.comparison_vector_values import compute_comparison_vector_values_from_id_pairs_sqls
    from splink.internals.pipeline import CTEPipeline
    from splink.internals.predict import predict_from_comparison_vectors_sqls_using_settings

    inference = linker.inference
    settings = inference._clone_settings_with_overrides(None, None)
    if not _plain_dedupe(settings):
        table = inference.predict_within(
            sdf, threshold_match_probability=threshold_match_probability, warning_mode="never"
        )
        try:
            yield table.physical_name
        finally:
            table.drop_table_from_database_and_remove_from_cache()
        return
    pipeline = CTEPipeline()
    pipeline.enqueue_sql(
        blocked_pairs_sql(settings._blocking_rules_to_generate_predictions, sdf.physical_name),
        "__splink__blocked_id_pairs",
    )
    blocked_pairs = linker._db_api.sql_pipeline_to_splink_dataframe(pipeline)
    # predict_within's second stage (splink 5.0.0, linker_components/inference.py: the concat
    # with term frequencies, then _score_blocked_pairs), its SQL as Splink writes it
    pipeline = CTEPipeline([blocked_pairs])
    inference._append_required_tf_to_pipeline(pipeline, [sdf])
    inference._enqueue_concat_with_tf_cte(
        pipeline, {sdf.templated_name: sdf}, "__splink__df_concat_with_tf", force_source_dataset=False
    )
    info = settings.column_info_settings
    pipeline.enqueue_list_of_sqls(
        compute_comparison_vector_values_from_id_pairs_sqls(
            settings._columns_to_select_for_blocking,
            settings._columns_to_select_for_comparison_vector_values,
            input_tablename_l="__splink__df_concat_with_tf",
            input_tablename_r="__splink__df_concat_with_tf",
            source_dataset_input_column=info.source_dataset_input_column,
            unique_id_input_column=info.unique_id_input_column,
            link_type=settings._link_type,
            sql_dialect_str=linker._sql_dialect_str,
        )
    )
    pipeline.enqueue_list_of_sqls(
        predict_from_comparison_vectors_sqls_using_settings(settings, threshold_match_probability, None)
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {PREDICTIONS} AS {pipeline.generate_cte_pipeline_sql()}")
    try:
        yield f"temp.{PREDICTIONS}"
    finally:
        con.execute(f"DROP VIEW IF EXISTS temp.{PREDICTIONS}")
        blocked_pairs.drop_table_from_database_and_remove_from_cache()
