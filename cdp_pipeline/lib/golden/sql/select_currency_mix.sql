-- Orders of mapped records before the cutoff that are not in the warehouse currency ($currency; a NULL currency is one
-- that could not be read), and the customers they belong to or whose orders mix currencies: the golden traits leave
-- their amounts out of spend (create_customer_traits.sql).
WITH orders AS (
    SELECT m.customer_id, o.currency
    FROM {orders} AS o
    JOIN {customer_map} AS m ON m.source = o.source AND m.source_record_id = o.source_record_id
    WHERE o.ordered_at < CAST($cutoff AS TIMESTAMP)
),
customers AS (
    SELECT customer_id,
           count(*) FILTER (WHERE currency IS DISTINCT FROM $currency) AS other,
           count(DISTINCT coalesce(currency, '?')) AS currencies
    FROM orders
    GROUP BY customer_id
)
SELECT coalesce(sum(other), 0) AS orders_not_in_warehouse_currency,
       count(*) FILTER (WHERE other > 0) AS customers_with_such_orders,
       count(*) FILTER (WHERE currencies > 1) AS customers_mixing_currencies
FROM customers
