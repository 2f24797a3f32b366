-- Per mapped record's key, the sum of the hashes of its rows in every staging event table and their number (lib/golden/incremental.py): a view, read by create_golden_fingerprints and, in a whole build, by create_record_state_from_records.
CREATE OR REPLACE TEMP VIEW _golden_event_hashes AS
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
)
SELECT record_key, sum(h) AS events_hash, count(*) AS events FROM events GROUP BY record_key
