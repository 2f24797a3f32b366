-- List golden customers that no source record backs: not in identity.customer_map, or with no record counted.
SELECT g.customer_id
FROM golden.customers AS g
WHERE coalesce(g.record_count, 0) = 0
   OR coalesce(len(g.sources), 0) = 0
   OR NOT EXISTS (SELECT 1 FROM {customer_map} AS m WHERE m.customer_id = g.customer_id)
ORDER BY g.customer_id
LIMIT 20
