-- What is relative to every buyer or to the date, for every customer of {customers} (its customer_id, last_order_at, orders_count, total_spend), the date a day in $tz: RFM quintiles and labels, days since the last order, the as-of date. A whole build stores them with its rows (create_golden_customers_view); update_golden_ranks sets them on the rows of an incremental one.
CREATE OR REPLACE TEMP TABLE _golden_ranks AS
WITH customers AS (
    FROM {customers}
),
rfm AS (
    -- Quintiles over customers with at least one order, by value: 1 + 5 * (rank - 1) // buyers, so equal values share
    -- the score of the lowest place they hold. ntile(5) with customer_id breaking ties split equal customers by their
    -- ids (at 1M, 24,180 one-order buyers got F = 2 and 32,595 F = 1; two-order buyers F = 2 or 3, so loyal or not).
    SELECT customer_id,
           1 + 5 * (rank() OVER (ORDER BY last_order_at) - 1) // count(*) OVER () AS rfm_recency,
           1 + 5 * (rank() OVER (ORDER BY orders_count) - 1) // count(*) OVER () AS rfm_frequency,
           1 + 5 * (rank() OVER (ORDER BY total_spend) - 1) // count(*) OVER () AS rfm_monetary
    FROM customers
    WHERE orders_count > 0
)
SELECT c.customer_id,
       -- the order's date in the zone of the as-of date ($tz): an order at 00:30 local (22:30 UTC the day before) is today's
       date_diff('day', CAST(timezone($tz, c.last_order_at AT TIME ZONE 'UTC') AS DATE), CAST($as_of_date AS DATE))
           AS days_since_last_order,
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
FROM customers AS c
LEFT JOIN rfm AS r USING (customer_id)
