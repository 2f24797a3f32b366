-- Store the golden row of every customer (temp._golden_customer_rows) as golden.customers.
-- Not sorted: every reader orders its own rows (an incremental build appends its replaced rows anyway).
CREATE OR REPLACE TABLE golden.customers AS
FROM _golden_customer_rows
