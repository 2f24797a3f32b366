-- Keep the golden rows of the customers being rebuilt (temp._golden_customer_rows) in a temp table, to compare before replacing.
CREATE OR REPLACE TEMP TABLE {target} AS
FROM _golden_customer_rows
ORDER BY customer_id
