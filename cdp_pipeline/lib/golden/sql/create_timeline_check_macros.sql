-- What the timeline check compares, as table macros, so its fast figures (select_timeline_fingerprints) and its event-by-event comparison (select_timeline_mismatches) read one definition:
-- _timeline_expected(cutoff): every mapped staging event before the cutoff, by staging table;
-- _timeline_actual(): every timeline row, by the staging table its event type comes from (_timeline_kind).
CREATE OR REPLACE TEMP MACRO _timeline_expected(cutoff) AS TABLE
    SELECT e.kind, m.customer_id, e.event_ref
    FROM (
        SELECT 'orders' AS kind, source, source_record_id, order_id AS event_ref
        FROM {orders} WHERE ordered_at < cutoff
        UNION ALL
        SELECT 'email_activity', source, source_record_id, activity_id
        FROM {email_activity} WHERE event_time < cutoff
        UNION ALL
        SELECT 'sms_messages', source, source_record_id, message_id
        FROM {sms_messages} WHERE sent_at < cutoff
        UNION ALL
        SELECT 'web_sessions', source, source_record_id, session_id
        FROM {web_sessions} WHERE started_at < cutoff
        UNION ALL
        SELECT 'web_events', source, source_record_id, event_id
        FROM {web_events} WHERE event_name IN ('add_to_cart', 'purchase', 'login') AND event_time < cutoff
        UNION ALL
        SELECT 'consent_events', source, source_record_id,
               concat_ws('|', 'consent', channel, identifier, state, reason, strftime(event_time, '%Y-%m-%dT%H:%M:%S'))
        FROM {consent_events} WHERE event_time < cutoff
    ) AS e
    JOIN {customer_map} AS m ON m.source = e.source AND m.source_record_id = e.source_record_id;

-- _timeline_kind(event_type): the staging table a timeline event type comes from.
CREATE OR REPLACE TEMP MACRO _timeline_kind(event_type) AS
    CASE WHEN event_type IN ('online_order', 'store_receipt') THEN 'orders'
         WHEN event_type LIKE 'email\_%' ESCAPE '\' THEN 'email_activity'
         WHEN event_type LIKE '%\_inbound' ESCAPE '\' OR event_type LIKE '%\_outbound' ESCAPE '\' THEN 'sms_messages'
         WHEN event_type = 'web_session' THEN 'web_sessions'
         WHEN event_type LIKE 'consent\_%' ESCAPE '\' THEN 'consent_events'
         ELSE 'web_events' END;

CREATE OR REPLACE TEMP MACRO _timeline_actual() AS TABLE
    SELECT _timeline_kind(event_type) AS kind, customer_id, event_ref
    FROM golden.customer_timeline;
