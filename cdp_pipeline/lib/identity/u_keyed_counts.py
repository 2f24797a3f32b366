"""u estimation's level counts of a comparison, grading only the value pairs that can be above "else".

``splink_model._level_counts`` grades every pair of the u sample's distinct values: for the
e-mail, the phone and the address nearly every record is its own value, so about ten million
pairs at 100,000 customers, the same at 1M (the sample has a fixed size), and nearly all of
them land in "else". A comparison here names *keys*: column expressions such that a pair of
values without a NULL in the comparison's columns that shares no key is graded "else" by the
comparison (its other levels all need an equal or one-edit-apart column). Only the pairs that
share a key, the pairs with a value holding a NULL (the null level reads those) and each value
with itself are graded; every other pair is counted into "else" by arithmetic. The counts are
the same numbers as grading every pair (``cdp_pipeline_tests/lib/identity/test_u_estimation.py``).

A key is ``(sql, one_edit)``: pairs of values whose ``sql`` is equal, or, with ``one_edit``,
within one edit (Damerau-Levenshtein <= 1: the two strings share a string made by deleting at
most one character from each; a substitution, an insertion or deletion, or two neighbours
swapped all leave one). DuckDB only (``range``, ``substr`` on characters, as its edit distances).
"""

from __future__ import annotations

VALUES = "__splink__uk_values"


def _key_pairs(i: int, sql: str, one_edit: bool) -> list[tuple[str, str]]:
    """The CTEs giving ``__splink__uk_near_{i}``: pairs (a, b) of the key's values, a value with
    itself included, that are equal (or within one edit)."""
    vals = f"__splink__uk_vals_{i}"
    ctes = [(f"SELECT DISTINCT {sql} AS v FROM {VALUES} WHERE NOT has_null AND {sql} IS NOT NULL", vals)]
    if not one_edit:
        ctes.append((f"SELECT v AS a, v AS b FROM {vals}", f"__splink__uk_near_{i}"))
        return ctes
    ctes += [
        (f"SELECT v, unnest(range(1, length(v) + 1)) AS pos FROM {vals}", f"__splink__uk_pos_{i}"),
        (
            f"""SELECT v, v AS d FROM {vals}
                UNION SELECT v, substr(v, 1, pos - 1) || substr(v, pos + 1) FROM __splink__uk_pos_{i}""",
            f"__splink__uk_del_{i}",
        ),
        (
            f"""SELECT DISTINCT x.v AS a, y.v AS b
                FROM __splink__uk_del_{i} x JOIN __splink__uk_del_{i} y ON x.d = y.d""",
            f"__splink__uk_near_{i}",
        ),
    ]
    return ctes


def keyed_level_counts(sdf, cc, sample_filter: str, keys: list[tuple[str, bool]]) -> dict[int, int]:
    """Per level of ``cc`` (by comparison vector value), the record pairs of the u sample
    (``sample_filter``: Splink's seeded row filter), as ``splink_model._level_counts`` over every
    pair, grading only the pairs ``keys`` put up (module docstring)."""
    from splink.internals.pipeline import CTEPipeline

    db_api = sdf.db_api
    inputs = cc._input_columns_used_by_case_statement
    names = ", ".join(col.name for col in inputs)
    has_null = " OR ".join(f"{col.name} IS NULL" for col in inputs)
    pipeline = CTEPipeline()
    pipeline.enqueue_sql(
        f"""SELECT {names}, count(*) AS records, row_number() OVER (ORDER BY {names}) AS value_id,
                   {has_null} AS has_null
            FROM {sdf.physical_name} WHERE 1=1 {sample_filter} GROUP BY {names}""",
        VALUES,
    )
    for i, (sql, one_edit) in enumerate(keys):
        for cte_sql, name in _key_pairs(i, sql, one_edit):
            pipeline.enqueue_sql(cte_sql, name)
    # the value pairs each key puts up, through its equal (or one-edit-apart) key values
    candidates = [
        f"""SELECT l.value_id AS id_l, r.value_id AS id_r
            FROM __splink__uk_near_{i} n
            JOIN (SELECT value_id, {sql} AS k FROM {VALUES} WHERE NOT has_null) l ON l.k = n.a
            JOIN (SELECT value_id, {sql} AS k FROM {VALUES} WHERE NOT has_null) r ON r.k = n.b
            WHERE l.value_id < r.value_id"""
        for i, (sql, _) in enumerate(keys)
    ]
    pipeline.enqueue_sql(" UNION ".join(candidates), "__splink__uk_candidates")
    pipeline.enqueue_sql(
        f"""SELECT id_l, id_r FROM __splink__uk_candidates
            UNION ALL SELECT value_id, value_id FROM {VALUES}
            UNION ALL SELECT l.value_id, r.value_id FROM {VALUES} l JOIN {VALUES} r
                      ON l.value_id < r.value_id AND (l.has_null OR r.has_null)""",
        "__splink__uk_graded",
    )
    pipeline.enqueue_sql(
        f"""SELECT {", ".join(c for col in inputs for c in col.l_r_names_as_l_r)},
                   CASE WHEN l.value_id = r.value_id THEN l.records * (l.records - 1) / 2
                        ELSE l.records * r.records END AS pairs
            FROM __splink__uk_graded g JOIN {VALUES} l ON l.value_id = g.id_l JOIN {VALUES} r ON r.value_id = g.id_r""",
        "__splink__uk_pairs",
    )
    pipeline.enqueue_sql(f"SELECT {cc._case_statement}, pairs FROM __splink__uk_pairs", "__splink__uk_vectors")
    gamma = cc._gamma_column_name
    # the ungraded pairs: two values without a NULL and no key in common, all "else"
    pipeline.enqueue_sql(
        f"""SELECT {gamma} AS level, sum(pairs) AS pairs FROM __splink__uk_vectors GROUP BY {gamma}
            UNION ALL
            SELECT NULL, coalesce((sum(records) * sum(records) - sum(records * records)) / 2, 0)
                         - coalesce((SELECT sum(l.records * r.records) FROM __splink__uk_candidates c
                                     JOIN {VALUES} l ON l.value_id = c.id_l JOIN {VALUES} r ON r.value_id = c.id_r), 0)
            FROM {VALUES} WHERE NOT has_null""",
        "__splink__uk_counts",
    )
    result = db_api.sql_pipeline_to_splink_dataframe(pipeline)
    rows = result.as_record_list()
    result.drop_table_from_database_and_remove_from_cache()
    else_level = next(int(lv.comparison_vector_value) for lv in cc.comparison_levels if lv._is_else_level)
    # as _level_counts: a level only values with themselves reach (one record each) shows 0
    counts = {int(r["level"]): int(r["pairs"]) for r in rows if r["level"] is not None}
    if ungraded := sum(int(r["pairs"]) for r in rows if r["level"] is None):
        counts[else_level] = counts.get(else_level, 0) + ungraded
    return counts
