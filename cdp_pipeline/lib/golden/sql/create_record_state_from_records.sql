-- A whole build's golden._record_state from the records it has in hand ({records}: every customer_map row with its identity record and that row's hash, create_customer_records), when each record has one map row and at most one identity record and every identity record is mapped (incremental.write_state checks): then each record's group of create_golden_fingerprints is one row, and this is its rows without the two aggregates of 1M groups and their join (and without reading identity_records again).
CREATE OR REPLACE TABLE golden._record_state AS
SELECT hash(m.source, m.source_record_id) AS record_key, m.customer_id, CAST(1 AS BIGINT) AS map_rows,
       CAST(hash(m.customer_id) AS HUGEINT) AS map_hash,
       CAST(m.record_row_hash AS HUGEINT) AS record_hash, CAST(m.record_row_hash IS NOT NULL AS BIGINT) AS records,
       e.events_hash, coalesce(e.events, 0) AS events
FROM {records} AS m
LEFT JOIN temp._golden_event_hashes AS e ON e.record_key = hash(m.source, m.source_record_id)
