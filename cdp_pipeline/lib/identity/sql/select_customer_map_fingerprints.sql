-- The coverage check's fast figures: per table the number of rows and the exact (HUGEINT) sum of the 64-bit hashes of their
-- (source, source_record_id) keys, with the rows holding a NULL key part (or, in the map, a NULL customer_id), and the map's
-- distinct key hashes. Equal counts and sums, distinct hashes for every map row and no NULL make the map hold each record
-- once and nothing else, the case of every night (customer_map_coverage: one pass over each table, no grouping of the
-- key strings); any other figures send the check to select_customer_map_coverage.sql, which counts what is wrong.
SELECT s.n AS staging_rows, s.h AS staging_hash_sum, s.null_keys AS staging_null_keys,
       m.n AS map_rows, m.h AS map_hash_sum, m.distinct_hashes AS map_distinct_hashes, m.nulls AS map_nulls
FROM (SELECT count(*) AS n, coalesce(sum(hash(source, source_record_id)), 0) AS h,
             count(*) FILTER (WHERE source IS NULL OR source_record_id IS NULL) AS null_keys
      FROM staging.identity_records) AS s,
     (SELECT count(*) AS n, coalesce(sum(hash(source, source_record_id)), 0) AS h,
             count(DISTINCT hash(source, source_record_id)) AS distinct_hashes,
             count(*) FILTER (WHERE source IS NULL OR source_record_id IS NULL OR customer_id IS NULL) AS nulls
      FROM identity.customer_map) AS m
