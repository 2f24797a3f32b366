-- Fingerprint every mapped record (lib/golden/incremental.py): its customer, and hashes of its identity record and of its rows in every staging event table; a view, read once per build.
CREATE OR REPLACE TEMP VIEW _golden_fingerprints AS
WITH events AS (
    -- Whole rows, whatever columns golden reads today; the table name keeps equal rows of two tables apart.
    SELECT hash(source, source_record_id) AS record_key, hash('orders', e) AS h FROM {orders} AS e
    UNION ALL
    SELECT hash(source, source_record_id), hash('email_activity', e) FROM {email_activity} AS e
    UNION ALL
    SELECT hash(source, source_record_id), hash('sms_messages', e) FROM {sms_messages} AS e
    UNION ALL
    SELECT hash(source, source_record_id), hash('web_sessions', e) FROM {web_sessions} AS e
    UNION ALL
    SELECT hash(source, source_record_id), hash('web_events', e) FROM {web_events} AS e
    UNION ALL
    SELECT hash(source, source_record_id), hash('consent_events', e) FROM {consent_events} AS e
),
event_hashes AS (
    SELECT record_key, sum(h) AS events_hash, count(*) AS events FROM events GROUP BY record_key
),
record_hashes AS (
    SELECT hash(source, source_record_id) AS record_key, sum(hash(r)) AS record_hash, count(*) AS records
    FROM {identity_records} AS r
    GROUP BY record_key
),
mapped AS (
    -- One row per record: a record mapped to several customers (never, by the contract) shows in map_rows.
    SELECT hash(source, source_record_id) AS record_key, min(customer_id) AS customer_id, count(*) AS map_rows,
           sum(hash(customer_id)) AS map_hash
    FROM {customer_map}
    GROUP BY record_key
)
SELECT m.record_key, m.customer_id, m.map_rows, m.map_hash,
       r.record_hash, coalesce(r.records, 0) AS records,
       e.events_hash, coalesce(e.events, 0) AS events
FROM mapped AS m
LEFT JOIN record_hashes AS r USING (record_key)
LEFT JOIN event_hashes AS e USING (record_key)
