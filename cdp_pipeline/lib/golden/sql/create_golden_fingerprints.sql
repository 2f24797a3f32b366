-- Fingerprint every mapped record (lib/golden/incremental.py): its customer, and hashes of its identity record and of its rows in every staging event table (temp._golden_event_hashes); a view, read once per build.
CREATE OR REPLACE TEMP VIEW _golden_fingerprints AS
WITH record_hashes AS (
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
LEFT JOIN temp._golden_event_hashes AS e USING (record_key)
