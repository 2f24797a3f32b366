-- Compute, per customer of {rows}, what is relative to every buyer or to the date: RFM quintiles and labels, days since the last order, the as-of date.
-- A table macro over golden.customers (update_golden_ranks sets its columns on every row where they changed) or, in a
-- whole build, over the traits of every customer (create_golden_customers sets them as it stores the rows: no update).
CREATE OR REPLACE TEMP MACRO _golden_ranks(rank_date) AS TABLE
WITH rfm AS (
    -- Quintiles over customers with at least one order; customer_id makes ties deterministic.
    SELECT customer_id,
           ntile(5) OVER (ORDER BY last_order_at, customer_id) AS rfm_recency,
           ntile(5) OVER (ORDER BY orders_count, customer_id) AS rfm_frequency,
           ntile(5) OVER (ORDER BY total_spend, customer_id) AS rfm_monetary
    FROM {rows}
    WHERE orders_count > 0
)
SELECT c.customer_id,
       date_diff('day', CAST(c.last_order_at AS DATE), CAST(rank_date AS DATE)) AS days_since_last_order,
       r.rfm_recency, r.rfm_frequency, r.rfm_monetary,
       CASE WHEN r.customer_id IS NULL THEN 'prospect'
            WHEN r.rfm_recency >= 4 AND r.rfm_frequency >= 4 AND r.rfm_monetary >= 4 THEN 'champions'
            WHEN r.rfm_recency >= 3 AND r.rfm_frequency >= 3 THEN 'loyal'
            WHEN r.rfm_recency >= 4 THEN 'new'
            WHEN r.rfm_recency >= 3 THEN 'potential'
            WHEN r.rfm_frequency >= 3 THEN 'at_risk'
            WHEN r.rfm_recency = 2 THEN 'hibernating'
            ELSE 'lost'
       END AS rfm_segment,
       CAST(rank_date AS DATE) AS as_of_date
FROM {rows} AS c
LEFT JOIN rfm AS r USING (customer_id)
