-- Store the golden row of every customer (temp._golden_customer_rows) as golden.customers, with what is relative to
-- every buyer or to the date (temp macro _golden_ranks over the same customers' traits) set as it is stored: a whole
-- build runs no update_golden_ranks (at 1M records 0.8 CPU s, an update of every row).
-- Sorted although no reader relies on the order: an incremental night's update_golden_ranks updates every row, and at 1M
-- records did so in 0.8 CPU s on this sorted table against 2.9 on an unsorted one (the first night's compaction on).
CREATE OR REPLACE TABLE golden.customers AS
SELECT r.* REPLACE (n.days_since_last_order AS days_since_last_order, n.rfm_recency AS rfm_recency,
                    n.rfm_frequency AS rfm_frequency, n.rfm_monetary AS rfm_monetary, n.rfm_segment AS rfm_segment,
                    n.as_of_date AS as_of_date)
FROM _golden_customer_rows AS r
LEFT JOIN _golden_ranks($as_of_date) AS n USING (customer_id)
ORDER BY customer_id
