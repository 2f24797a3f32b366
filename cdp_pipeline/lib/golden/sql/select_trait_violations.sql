-- Count golden rows breaking trait sanity: negative money, last_seen before first_seen, counts that do not add up, scores out of 1-5.
SELECT
    count(*) FILTER (WHERE total_spend < 0 OR online_spend < 0 OR store_spend < 0 OR average_order_value < 0) AS negative_spend,
    count(*) FILTER (WHERE last_seen < first_seen) AS last_seen_before_first_seen,
    count(*) FILTER (WHERE orders_count <> online_orders_count + store_orders_count
                        OR last_order_at < first_order_at) AS inconsistent_orders,
    count(*) FILTER (WHERE rfm_recency NOT BETWEEN 1 AND 5 OR rfm_frequency NOT BETWEEN 1 AND 5
                        OR rfm_monetary NOT BETWEEN 1 AND 5
                        OR (orders_count = 0) <> (rfm_segment = 'prospect')) AS bad_rfm,
    count(*) FILTER (WHERE days_since_last_order < 0) AS order_after_as_of
FROM golden.customers
