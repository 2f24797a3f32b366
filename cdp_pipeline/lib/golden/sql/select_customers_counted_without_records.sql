-- List golden customers that count no source record (select_customers_without_records.sql without its look-up in identity.customer_map, for when select_customer_coverage.sql has just found every golden row's customer_id there).
SELECT g.customer_id
FROM golden.customers AS g
WHERE coalesce(g.record_count, 0) = 0
   OR coalesce(len(g.sources), 0) = 0
ORDER BY g.customer_id
LIMIT 20
