-- Customers holding more distinct values of a ruled column than the rule allows ({column}, at most {max_distinct}).
SELECT m.customer_id, '{rule}' AS rule, count(DISTINCT s."{column}") AS distinct_values
FROM identity.customer_map m
JOIN staging.identity_records s USING (source, source_record_id)
GROUP BY m.customer_id
HAVING count(DISTINCT s."{column}") > {max_distinct}
ORDER BY distinct_values DESC, m.customer_id
LIMIT 20
