-- Customers holding more distinct values of a ruled column than its rule allows: at most 20 per rule, rules
-- in config order, most values first. The map is joined to the records once for every rule ({columns}: the
-- ruled columns as c0, c1, ...), for the records holding a value of one ({valued}: a record with none adds no
-- distinct value; at 1M records 4 in 10 hold none). Only a customer whose values of a ruled column are not all the same
-- ({suspect}: min < max; any value for a rule allowing none) can break a rule, so only their rows have their
-- distinct values counted ({distinct_counts}: d0, d1, ..., and v0, v1, ...: the values, for rules with a typo tolerance). {violations}
-- takes each rule's worst 20, or every candidate of a tolerant rule (cardinality_violations decides those).
WITH records AS MATERIALIZED (
    SELECT m.customer_id, {columns}
    FROM identity.customer_map m
    JOIN staging.identity_records s USING (source, source_record_id)
    WHERE {valued}
),
suspects AS (
    SELECT customer_id FROM records GROUP BY customer_id HAVING {suspect}
),
per_customer AS MATERIALIZED (
    SELECT customer_id, {distinct_counts}
    FROM records AS r
    SEMI JOIN suspects AS x ON r.customer_id IS NOT DISTINCT FROM x.customer_id  -- a NULL id is a customer too
    GROUP BY customer_id
)
SELECT customer_id, rule, distinct_values, rule_order, vals
FROM ({violations})
ORDER BY rule_order, distinct_values DESC, customer_id
