-- Compares identity.customer_map with staging.identity_records: every record mapped exactly once, nothing extra.
-- One grouping of both tables' keys instead of two anti joins and a grouping; a key with a NULL part matches
-- nothing (as in a join), so its rows count as unmapped (staging) or not in staging (map).
WITH keys AS (
    SELECT source, source_record_id,
           count(*) FILTER (WHERE in_staging) AS staging_rows,
           count(*) FILTER (WHERE NOT in_staging) AS map_rows,
           count(*) FILTER (WHERE NOT in_staging AND customer_id IS NULL) AS map_rows_without_id,
           bool_or(source IS NULL OR source_record_id IS NULL) AS null_key
    FROM (SELECT source, source_record_id, true AS in_staging, NULL::VARCHAR AS customer_id
          FROM staging.identity_records
          UNION ALL
          SELECT source, source_record_id, false, customer_id FROM identity.customer_map)
    GROUP BY source, source_record_id
)
SELECT
    coalesce(sum(staging_rows), 0) AS identity_records,
    coalesce(sum(map_rows), 0) AS mapped_rows,
    coalesce(sum(staging_rows) FILTER (WHERE map_rows = 0 OR null_key), 0) AS unmapped_records,
    count(*) FILTER (WHERE map_rows > 1) AS records_mapped_twice,
    coalesce(sum(map_rows) FILTER (WHERE staging_rows = 0 OR null_key), 0) AS mapped_records_not_in_staging,
    coalesce(sum(map_rows_without_id), 0) AS null_customer_ids
FROM keys
