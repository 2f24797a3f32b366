-- Create golden.customer_timeline empty, for insert_customer_timeline to fill (a whole build).
-- Its long strings that rarely repeat (summary, source_record_id, event_ref) stored with ZSTD rather than DuckDB's
-- default for text (a dictionary with FSST): at 1M records that stored the timeline in 3.6-3.7 CPU s against
-- 4.4-4.6, in a file of about the same size (115.5 against 113.0 MB); the short, repeating columns keep the default.
CREATE OR REPLACE TABLE golden.customer_timeline (
    customer_id VARCHAR,
    event_time TIMESTAMP,
    channel VARCHAR,
    event_type VARCHAR,
    summary VARCHAR USING COMPRESSION zstd,
    source VARCHAR,
    source_record_id VARCHAR USING COMPRESSION zstd,
    event_ref VARCHAR USING COMPRESSION zstd
)
