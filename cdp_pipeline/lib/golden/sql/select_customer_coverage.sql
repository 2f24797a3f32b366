-- Count mapped customers missing from golden.customers, golden rows of no mapped customer, and duplicated golden rows.
-- One grouping of both tables' customer_ids instead of two anti joins and a distinct count. A NULL id
-- matches nothing (as in a join): a mapped NULL is missing, and every golden row with a NULL id is both
-- unmapped and a duplicate (count(*) - count(DISTINCT customer_id) counts it).
WITH ids AS (
    SELECT customer_id, count(*) FILTER (WHERE in_golden) AS golden_rows, bool_or(NOT in_golden) AS mapped
    FROM (SELECT DISTINCT customer_id, false AS in_golden FROM {customer_map}
          UNION ALL
          SELECT customer_id, true FROM golden.customers)
    GROUP BY customer_id
)
SELECT
    count(*) FILTER (WHERE mapped AND (golden_rows = 0 OR customer_id IS NULL)) AS missing,
    coalesce(sum(golden_rows) FILTER (WHERE NOT mapped OR customer_id IS NULL), 0) AS unmapped,
    coalesce(sum(golden_rows - CASE WHEN customer_id IS NULL THEN 0 ELSE 1 END) FILTER (WHERE golden_rows > 0), 0)
        AS duplicated
FROM ids
