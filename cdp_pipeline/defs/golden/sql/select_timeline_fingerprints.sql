-- Per staging event table, the number and a hash sum of (customer, event) pairs expected from the mapped events before the cutoff and found in the timeline: equal multisets give equal figures (select_timeline_mismatches names the differences).
WITH events AS (
    SELECT 'orders' AS kind, source, source_record_id, order_id AS event_ref
    FROM {orders} WHERE ordered_at < CAST($cutoff AS TIMESTAMP)
    UNION ALL
    SELECT 'email_activity', source, source_record_id, activity_id
    FROM {email_activity} WHERE event_time < CAST($cutoff AS TIMESTAMP)
    UNION ALL
    SELECT 'sms_messages', source, source_record_id, message_id
    FROM {sms_messages} WHERE sent_at < CAST($cutoff AS TIMESTAMP)
    UNION ALL
    SELECT 'web_sessions', source, source_record_id, session_id
    FROM {web_sessions} WHERE started_at < CAST($cutoff AS TIMESTAMP)
    UNION ALL
    SELECT 'web_events', source, source_record_id, event_id
    FROM {web_events} WHERE event_name IN ('add_to_cart', 'purchase', 'login') AND event_time < CAST($cutoff AS TIMESTAMP)
    UNION ALL
    SELECT 'consent_events', source, source_record_id,
           concat_ws('|', 'consent', channel, identifier, state, reason, strftime(event_time, '%Y-%m-%dT%H:%M:%S'))
    FROM {consent_events} WHERE event_time < CAST($cutoff AS TIMESTAMP)
),
expected AS (
    SELECT e.kind, count(*) AS n, sum(hash(m.customer_id, e.event_ref)) AS h
    FROM events AS e
    JOIN {customer_map} AS m ON m.source = e.source AND m.source_record_id = e.source_record_id
    GROUP BY ALL
),
actual AS (
    SELECT CASE WHEN event_type IN ('online_order', 'store_receipt') THEN 'orders'
                WHEN event_type LIKE 'email\_%' ESCAPE '\' THEN 'email_activity'
                WHEN event_type LIKE 'sms\_%' ESCAPE '\' THEN 'sms_messages'
                WHEN event_type = 'web_session' THEN 'web_sessions'
                WHEN event_type LIKE 'consent\_%' ESCAPE '\' THEN 'consent_events'
                ELSE 'web_events' END AS kind,
           count(*) AS n, sum(hash(customer_id, event_ref)) AS h
    FROM golden.customer_timeline
    GROUP BY ALL
)
SELECT coalesce(e.kind, a.kind) AS kind
FROM expected AS e
FULL OUTER JOIN actual AS a USING (kind)
WHERE e.n IS DISTINCT FROM a.n OR e.h IS DISTINCT FROM a.h
ORDER BY kind
