-- Count mapped customers missing from golden.customers, golden rows of no mapped customer, and duplicated golden rows.
SELECT
    (SELECT count(*) FROM (SELECT DISTINCT customer_id FROM {customer_map}) AS m
      WHERE NOT EXISTS (SELECT 1 FROM golden.customers AS g WHERE g.customer_id = m.customer_id)) AS missing,
    (SELECT count(*) FROM golden.customers AS g
      WHERE NOT EXISTS (SELECT 1 FROM {customer_map} AS m WHERE m.customer_id = g.customer_id)) AS unmapped,
    (SELECT count(*) - count(DISTINCT customer_id) FROM golden.customers) AS duplicated
