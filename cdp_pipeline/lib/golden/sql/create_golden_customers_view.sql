-- The golden row of every customer (temp._golden_customer_rows) with what is relative to every buyer or to the date
-- (temp._golden_ranks): a whole build's golden.customers, made with this view's columns and filled from it (build.py).
CREATE OR REPLACE TEMP VIEW _golden_customers_whole AS
SELECT g.* REPLACE (
           n.days_since_last_order AS days_since_last_order,
           n.rfm_recency AS rfm_recency, n.rfm_frequency AS rfm_frequency, n.rfm_monetary AS rfm_monetary,
           n.rfm_segment AS rfm_segment, n.as_of_date AS as_of_date
       )
FROM _golden_customer_rows AS g
LEFT JOIN temp._golden_ranks AS n USING (customer_id)
