-- Set, on every golden row where it changed, what is relative to every buyer or to the date: RFM quintiles and labels, days since the last order, the as-of date (temp macro _golden_ranks over golden.customers).
UPDATE golden.customers AS g
SET days_since_last_order = n.days_since_last_order,
    rfm_recency = n.rfm_recency, rfm_frequency = n.rfm_frequency, rfm_monetary = n.rfm_monetary,
    rfm_segment = n.rfm_segment, as_of_date = n.as_of_date
FROM _golden_ranks($as_of_date) AS n
WHERE g.customer_id = n.customer_id
  AND (g.days_since_last_order, g.rfm_recency, g.rfm_frequency, g.rfm_monetary, g.rfm_segment, g.as_of_date)
      IS DISTINCT FROM
      (n.days_since_last_order, n.rfm_recency, n.rfm_frequency, n.rfm_monetary, n.rfm_segment, n.as_of_date)
