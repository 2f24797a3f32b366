-- Set, on every golden row where it changed, what is relative to every buyer or to the date: RFM quintiles and labels, days since the last order, the as-of date.
UPDATE golden.customers AS g
SET days_since_last_order = n.days_since_last_order,
    rfm_recency = n.rfm_recency, rfm_frequency = n.rfm_frequency, rfm_monetary = n.rfm_monetary,
    rfm_segment = n.rfm_segment, as_of_date = n.as_of_date
FROM (
    WITH rfm AS (
        -- Quintiles over customers with at least one order; customer_id makes ties deterministic.
        SELECT customer_id,
               ntile(5) OVER (ORDER BY last_order_at, customer_id) AS rfm_recency,
               ntile(5) OVER (ORDER BY orders_count, customer_id) AS rfm_frequency,
               ntile(5) OVER (ORDER BY total_spend, customer_id) AS rfm_monetary
        FROM golden.customers
        WHERE orders_count > 0
    )
    SELECT c.customer_id,
           date_diff('day', CAST(c.last_order_at AS DATE), CAST($as_of_date AS DATE)) AS days_since_last_order,
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
           CAST($as_of_date AS DATE) AS as_of_date
    FROM golden.customers AS c
    LEFT JOIN rfm AS r USING (customer_id)
) AS n
WHERE g.customer_id = n.customer_id
  AND (g.days_since_last_order, g.rfm_recency, g.rfm_frequency, g.rfm_monetary, g.rfm_segment, g.as_of_date)
      IS DISTINCT FROM
      (n.days_since_last_order, n.rfm_recency, n.rfm_frequency, n.rfm_monetary, n.rfm_segment, n.as_of_date)
