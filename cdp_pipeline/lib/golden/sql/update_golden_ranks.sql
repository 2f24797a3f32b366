-- Set, on every golden row where it changed, what is relative to every buyer or to the date (temp._golden_ranks, create_golden_ranks over golden.customers): RFM quintiles and labels, days since the last order, the as-of date.
UPDATE golden.customers AS g
SET days_since_last_order = n.days_since_last_order,
    rfm_recency = n.rfm_recency, rfm_frequency = n.rfm_frequency, rfm_monetary = n.rfm_monetary,
    rfm_segment = n.rfm_segment, as_of_date = n.as_of_date
FROM temp._golden_ranks AS n
WHERE g.customer_id = n.customer_id
  AND (g.days_since_last_order, g.rfm_recency, g.rfm_frequency, g.rfm_monetary, g.rfm_segment, g.as_of_date)
      IS DISTINCT FROM
      (n.days_since_last_order, n.rfm_recency, n.rfm_frequency, n.rfm_monetary, n.rfm_segment, n.as_of_date)
