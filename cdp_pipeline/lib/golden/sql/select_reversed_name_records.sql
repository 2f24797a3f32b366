-- The records whose first and last name another record of the same customer carries the other way round ("Lindberg Eva" beside "Eva Lindberg"): the candidates of survivorship's unswapped_name rule, which the name tables then judge (survivorship.mark_swapped_names). A junk name, or a first name equal to the last name, is no evidence.
-- The named records' lower-case names are made once and the pairs found by a semi join on all three keys
-- (customer, and each name against the other's): the correlated EXISTS lowered every name again and cost
-- 0.32-0.34 CPU s at 1M records against 0.18-0.24 (benchmarks/results/2026-12-07-s43-perf.md), the same rows.
WITH named AS MATERIALIZED (
    SELECT rowid AS _row, customer_id, first_name, last_name,
           lower(first_name) AS first_lower, lower(last_name) AS last_lower
    FROM {records}
    WHERE first_name IS NOT NULL AND last_name IS NOT NULL AND NOT coalesce(name_is_junk, false)
)
SELECT a._row, a.first_name, a.last_name
FROM named AS a
SEMI JOIN named AS b
    ON b.customer_id = a.customer_id AND b.first_lower = a.last_lower AND b.last_lower = a.first_lower
WHERE a.first_lower <> a.last_lower
ORDER BY a._row
