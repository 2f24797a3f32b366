-- Compare, per staging event table, the mapped events before the cutoff with the timeline rows: each must appear exactly once, for its customer.
WITH expected AS (
    SELECT 'orders' AS kind, m.customer_id, o.order_id AS event_ref, count(*) AS n
    FROM {orders} AS o JOIN {customer_map} AS m ON m.source = o.source AND m.source_record_id = o.source_record_id
    WHERE o.ordered_at < CAST($cutoff AS TIMESTAMP) GROUP BY ALL
    UNION ALL
    SELECT 'email_activity', m.customer_id, a.activity_id, count(*)
    FROM {email_activity} AS a JOIN {customer_map} AS m ON m.source = a.source AND m.source_record_id = a.source_record_id
    WHERE a.event_time < CAST($cutoff AS TIMESTAMP) GROUP BY ALL
    UNION ALL
    SELECT 'sms_messages', m.customer_id, s.message_id, count(*)
    FROM {sms_messages} AS s JOIN {customer_map} AS m ON m.source = s.source AND m.source_record_id = s.source_record_id
    WHERE s.sent_at < CAST($cutoff AS TIMESTAMP) GROUP BY ALL
    UNION ALL
    SELECT 'web_sessions', m.customer_id, w.session_id, count(*)
    FROM {web_sessions} AS w JOIN {customer_map} AS m ON m.source = w.source AND m.source_record_id = w.source_record_id
    WHERE w.started_at < CAST($cutoff AS TIMESTAMP) GROUP BY ALL
    UNION ALL
    SELECT 'web_events', m.customer_id, e.event_id, count(*)
    FROM {web_events} AS e JOIN {customer_map} AS m ON m.source = e.source AND m.source_record_id = e.source_record_id
    WHERE e.event_name IN ('add_to_cart', 'purchase', 'login') AND e.event_time < CAST($cutoff AS TIMESTAMP) GROUP BY ALL
    UNION ALL
    SELECT 'consent_events', m.customer_id,
           concat_ws('|', 'consent', c.channel, c.identifier, c.state, c.reason, strftime(c.event_time, '%Y-%m-%dT%H:%M:%S')),
           count(*)
    FROM {consent_events} AS c JOIN {customer_map} AS m ON m.source = c.source AND m.source_record_id = c.source_record_id
    WHERE c.event_time < CAST($cutoff AS TIMESTAMP) GROUP BY ALL
),
actual AS (
    SELECT CASE WHEN event_type IN ('online_order', 'store_receipt') THEN 'orders'
                WHEN event_type LIKE 'email\_%' ESCAPE '\' THEN 'email_activity'
                WHEN event_type LIKE 'sms\_%' ESCAPE '\' THEN 'sms_messages'
                WHEN event_type = 'web_session' THEN 'web_sessions'
                WHEN event_type LIKE 'consent\_%' ESCAPE '\' THEN 'consent_events'
                ELSE 'web_events' END AS kind,
           customer_id, event_ref, count(*) AS n
    FROM golden.customer_timeline
    GROUP BY ALL
)
SELECT coalesce(e.kind, a.kind) AS kind,
       count(*) FILTER (WHERE a.n IS NULL) AS missing,
       count(*) FILTER (WHERE e.n IS NULL) AS unexpected,
       count(*) FILTER (WHERE e.n <> a.n) AS miscounted
FROM expected AS e
FULL OUTER JOIN actual AS a ON a.kind = e.kind AND a.customer_id = e.customer_id AND a.event_ref = e.event_ref
GROUP BY ALL
ORDER BY kind
