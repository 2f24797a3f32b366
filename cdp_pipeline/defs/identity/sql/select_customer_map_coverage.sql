-- Compares identity.customer_map with staging.identity_records: every record mapped exactly once, nothing extra.
SELECT
    (SELECT count(*) FROM staging.identity_records) AS identity_records,
    (SELECT count(*) FROM identity.customer_map) AS mapped_rows,
    (SELECT count(*) FROM staging.identity_records s
        ANTI JOIN identity.customer_map m USING (source, source_record_id)) AS unmapped_records,
    (SELECT count(*) FROM (SELECT source, source_record_id FROM identity.customer_map
                           GROUP BY ALL HAVING count(*) > 1)) AS records_mapped_twice,
    (SELECT count(*) FROM identity.customer_map m
        ANTI JOIN staging.identity_records s USING (source, source_record_id)) AS mapped_records_not_in_staging,
    (SELECT count(*) FROM identity.customer_map WHERE customer_id IS NULL) AS null_customer_ids
