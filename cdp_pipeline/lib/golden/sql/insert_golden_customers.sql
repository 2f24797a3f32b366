-- Store the golden row of every customer (temp._golden_customer_rows) in golden.customers (create_golden_customers made it empty), with what is relative to every buyer or to the date (temp._golden_ranks): a whole build.
-- Unsorted: no reader relies on the order, and with its ranks set here no statement updates its rows afterwards
-- (update_golden_ranks, which did so on every row of a whole build, ran faster on a table sorted by customer_id).
INSERT INTO golden.customers BY NAME
SELECT g.* REPLACE (
           n.days_since_last_order AS days_since_last_order,
           n.rfm_recency AS rfm_recency, n.rfm_frequency AS rfm_frequency, n.rfm_monetary AS rfm_monetary,
           n.rfm_segment AS rfm_segment, n.as_of_date AS as_of_date
       )
FROM _golden_customer_rows AS g
LEFT JOIN temp._golden_ranks AS n USING (customer_id)
