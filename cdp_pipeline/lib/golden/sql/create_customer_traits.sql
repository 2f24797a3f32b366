-- Compute each customer's behavioural traits from their events before the cutoff: orders, email, SMS and web activity, first and last seen (RFM and days since the last order, relative to everyone or the date, are set by update_golden_ranks).
CREATE OR REPLACE TEMP TABLE _golden_traits AS
WITH customers AS (
    SELECT DISTINCT customer_id FROM {customer_map}
),
orders AS (
    -- Cancelled (before the cutoff) and voided orders are not sales; refunds are netted off.
    -- An order whose total (or refund) could not be read (staging.orders.dq_flags) is an order
    -- of unknown amount: NULL, not 0; it counts as an order but adds nothing to spend.
    -- So is an order in another currency than the warehouse's ($currency: CDP_CURRENCY) or of an unreadable one:
    -- 100 EUR added to SEK spend as 100 would be a meaningless sum (golden check money_in_one_currency counts them).
    -- A fully refunded order (financial_status refunded, or refunds of at least its total; a Square return) is
    -- not a purchase: it is left out of the counts, first/last order and the store preference, so a customer whose
    -- only order came back is not a buyer; its net amount (0, or a return's negative) still counts in spend.
    SELECT m.customer_id, o.order_id, o.ordered_at, o.channel, o.store_id,
           NOT (coalesce(lower(o.financial_status), '') = 'refunded'
                OR coalesce(o.refunded_amount > 0 AND o.refunded_amount >= o.total, false)) AS purchase,
           CASE WHEN o.total IS NOT NULL AND NOT coalesce(list_contains(o.dq_flags, 'unreadable_refunded_amount'), false)
                     AND o.currency = $currency
                THEN o.total - coalesce(o.refunded_amount, 0)
           END AS net_total
    FROM {orders} AS o
    JOIN {customer_map} AS m ON m.source = o.source AND m.source_record_id = o.source_record_id
    WHERE o.ordered_at < CAST($cutoff AS TIMESTAMP)
      AND (o.cancelled_at IS NULL OR o.cancelled_at >= CAST($cutoff AS TIMESTAMP))
      AND coalesce(lower(o.financial_status), '') <> 'voided'
),
order_traits AS (
    SELECT customer_id,
           count(*) FILTER (WHERE purchase) AS orders_count,
           count(*) FILTER (WHERE purchase AND channel = 'online') AS online_orders_count,
           count(*) FILTER (WHERE purchase AND channel = 'store') AS store_orders_count,
           count(net_total) FILTER (WHERE purchase) AS priced_orders_count,
           greatest(sum(net_total), 0) AS total_spend,
           greatest(coalesce(sum(net_total) FILTER (WHERE channel = 'online'), 0), 0) AS online_spend,
           greatest(coalesce(sum(net_total) FILTER (WHERE channel = 'store'), 0), 0) AS store_spend,
           min(ordered_at) FILTER (WHERE purchase) AS first_order_at,
           max(ordered_at) FILTER (WHERE purchase) AS last_order_at
    FROM orders
    GROUP BY customer_id
),
store_preference AS (
    SELECT customer_id, store_id AS preferred_store
    FROM (SELECT customer_id, store_id,
                 row_number() OVER (PARTITION BY customer_id
                                    ORDER BY count(*) DESC, max(ordered_at) DESC, store_id) AS rank
          FROM orders
          WHERE channel = 'store' AND store_id IS NOT NULL AND purchase
          GROUP BY customer_id, store_id)
    WHERE rank = 1
),
sms AS (
    -- Received: outbound messages that were not reported failed; replied: inbound messages.
    -- SMS only: WhatsApp messages on the same account are another channel.
    SELECT m.customer_id,
           count(*) FILTER (WHERE s.direction <> 'inbound'
                            AND coalesce(lower(s.status), '') NOT IN ('failed', 'undelivered')) AS sms_received,
           count(*) FILTER (WHERE s.direction = 'inbound') AS sms_replied
    FROM {sms_messages} AS s
    JOIN {customer_map} AS m ON m.source = s.source AND m.source_record_id = s.source_record_id
    WHERE s.sent_at < CAST($cutoff AS TIMESTAMP) AND s.channel = 'sms'
    GROUP BY m.customer_id
),
key_events AS (
    -- a web event's event_type on the timeline is its event_name; no other event has these types
    SELECT customer_id, event_type AS event_name, event_time
    FROM {timeline}
    WHERE event_type IN ('add_to_cart', 'purchase')
),
purchases AS (
    SELECT customer_id, event_time FROM key_events WHERE event_name = 'purchase'
    UNION ALL
    SELECT customer_id, ordered_at FROM orders
),
cart_events AS (
    -- Abandoned: added to cart in the last 30 days and no purchase (web or order) within 7 days after.
    SELECT c.customer_id, c.event_time,
           c.event_time >= CAST($cutoff AS TIMESTAMP) - INTERVAL 30 DAY
           AND NOT EXISTS (SELECT 1 FROM purchases AS p
                           WHERE p.customer_id = c.customer_id
                             AND p.event_time >= c.event_time
                             AND p.event_time < c.event_time + INTERVAL 7 DAY) AS abandoned
    FROM key_events AS c
    WHERE c.event_name = 'add_to_cart'
),
carts AS (
    SELECT customer_id, max(event_time) AS last_add_to_cart_at, bool_or(abandoned) AS has_abandoned_cart
    FROM cart_events
    GROUP BY customer_id
),
timeline_traits AS (
    -- Email and web traits from the timeline's rows (every one before the cutoff, of a mapped record), which hold
    -- each ESP activity (email_<action>) and web session (web_session) with its customer: no join of those staging
    -- tables to the map again.
    SELECT customer_id,
           count(*) FILTER (WHERE event_type = 'email_open' AND event_time >= CAST($cutoff AS TIMESTAMP) - INTERVAL 30 DAY) AS email_opens_30d,
           count(*) FILTER (WHERE event_type = 'email_click' AND event_time >= CAST($cutoff AS TIMESTAMP) - INTERVAL 30 DAY) AS email_clicks_30d,
           count(*) FILTER (WHERE event_type = 'email_open' AND event_time >= CAST($cutoff AS TIMESTAMP) - INTERVAL 90 DAY) AS email_opens_90d,
           count(*) FILTER (WHERE event_type = 'email_click' AND event_time >= CAST($cutoff AS TIMESTAMP) - INTERVAL 90 DAY) AS email_clicks_90d,
           count(*) FILTER (WHERE event_type = 'web_session' AND event_time >= CAST($cutoff AS TIMESTAMP) - INTERVAL 30 DAY) AS web_sessions_30d,
           max(event_time) FILTER (WHERE event_type = 'web_session') AS last_web_visit
    FROM {timeline}
    WHERE event_type IN ('email_open', 'email_click', 'web_session')
    GROUP BY customer_id
),
seen AS (
    SELECT customer_id, min(t) AS first_seen, max(t) AS last_seen
    FROM (SELECT customer_id, event_time AS t FROM {timeline}
          UNION ALL
          SELECT customer_id, record_time FROM {records} WHERE record_time < CAST($cutoff AS TIMESTAMP))
    GROUP BY customer_id
)
SELECT c.customer_id,
       s.first_seen, s.last_seen,
       coalesce(o.orders_count, 0) AS orders_count,
       coalesce(o.online_orders_count, 0) AS online_orders_count,
       coalesce(o.store_orders_count, 0) AS store_orders_count,
       CAST(coalesce(o.total_spend, 0) AS DECIMAL(18, 2)) AS total_spend,
       CAST(coalesce(o.online_spend, 0) AS DECIMAL(18, 2)) AS online_spend,
       CAST(coalesce(o.store_spend, 0) AS DECIMAL(18, 2)) AS store_spend,
       -- Money stays in DECIMAL: DECIMAL / BIGINT is a DOUBLE in DuckDB, which rounds some half cents down (3,877.10 / 4
       -- = 969.275 gave 969.27). Whole mills by integer division (exact truncation: total_spend >= 0), then round the
       -- DECIMAL half away from zero, as DuckDB rounds DECIMALs: a truncated third decimal never crosses a half cent.
       -- over the orders whose amount is known (an unreadable total would pull it down as a 0)
       CASE WHEN o.priced_orders_count > 0
            THEN CAST(round(CAST(CAST(o.total_spend * 1000 AS HUGEINT) // o.priced_orders_count AS DECIMAL(38, 0)) * 0.001, 2)
                      AS DECIMAL(18, 2))
       END AS average_order_value,
       o.first_order_at, o.last_order_at,
       sp.preferred_store,
       CASE WHEN coalesce(o.orders_count, 0) = 0 THEN NULL
            WHEN o.online_orders_count > o.store_orders_count THEN 'online'
            WHEN o.store_orders_count > o.online_orders_count THEN 'store'
            WHEN o.store_spend > o.online_spend THEN 'store'
            ELSE 'online'
       END AS preferred_channel,
       coalesce(tl.email_opens_30d, 0) AS email_opens_30d,
       coalesce(tl.email_clicks_30d, 0) AS email_clicks_30d,
       coalesce(tl.email_opens_90d, 0) AS email_opens_90d,
       coalesce(tl.email_clicks_90d, 0) AS email_clicks_90d,
       coalesce(sm.sms_received, 0) AS sms_received,
       coalesce(sm.sms_replied, 0) AS sms_replied,
       coalesce(tl.web_sessions_30d, 0) AS web_sessions_30d,
       tl.last_web_visit,
       ca.last_add_to_cart_at,
       coalesce(ca.has_abandoned_cart, false) AS has_abandoned_cart
FROM customers AS c
LEFT JOIN seen AS s USING (customer_id)
LEFT JOIN timeline_traits AS tl USING (customer_id)
LEFT JOIN order_traits AS o USING (customer_id)
LEFT JOIN store_preference AS sp USING (customer_id)
LEFT JOIN sms AS sm USING (customer_id)
LEFT JOIN carts AS ca USING (customer_id)
