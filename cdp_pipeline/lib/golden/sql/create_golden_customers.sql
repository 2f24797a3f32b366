-- Store the golden row of every customer (temp._golden_customer_rows) as golden.customers.
CREATE OR REPLACE TABLE golden.customers AS
FROM _golden_customer_rows
ORDER BY customer_id
