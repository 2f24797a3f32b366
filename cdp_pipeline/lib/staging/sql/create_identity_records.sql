-- One row per identity-bearing source record (its latest version), standardised for linkage.
-- The table is made in steps (KeyedTable.steps in lib/staging/incremental.py), each a temp table,
-- which DuckDB writes out to disk when memory runs short, where it holds a MATERIALIZED CTE, and
-- the hash tables of joins, in memory (at 10M records one statement needed 12 GB):
--   create_identity_records_located.sql: the latest version of each record, its country;
--   create_identity_records_named.sql: its e-mail address, names, birth date, street, city;
--   create_identity_records_phone_texts.sql: its distinct numbers with their lookup keys;
--   then this view: its phone number and postcode (each read in the record's country) and its
--   data-quality flags, which insert_staging_rows.sql writes as they come. It was a temp table of
--   its own, sorted into the table by a statement after it (a sort beside these joins' hash tables
--   did not fit where each alone did); unsorted (insert_staging_rows.sql says why), the rows go
--   from the joins to the table without that copy.
-- The standardisation functions are Python: each is called once per distinct value, which is
-- then joined back (a person's email is on their CRM, ESP and order records; a number is on
-- every message to it). The functions are pure, so this changes the speed, not the rows. A
-- *_checked function gives a value with its flags from one call. Addresses and timestamps are
-- read in SQL where SQL gives the Python's answer (lib/staging/macros.sql); phones, names,
-- postcodes and birth dates are Python.
-- Lookups are MATERIALIZED: else DuckDB pushes a filter on a result (phone IS NOT NULL) below
-- the DISTINCT and calls the function on every row again.
CREATE OR REPLACE TEMP VIEW identity_records_rows AS
WITH phones AS MATERIALIZED (
    -- with is_junk_phone of the number from the same reading (it is false without a number);
    -- read in a step before (add_identity_phones.sql): joined from staging.phone_lookup by the
    -- keys of the distinct pairs (create_identity_records_phone_texts.sql), the function reads
    -- only a pair the lookup lacks (none, after that step)
    SELECT raw_phone, country, checked.value AS phone, checked.flags AS phone_flags,
           checked.is_junk AS phone_is_junk
    FROM (SELECT d.raw_phone, d.country,
                 CASE WHEN l.phone_text IS NULL THEN std_phone_checked_junk(d.raw_phone, d.country)
                      ELSE {'value': l.phone, 'flags': l.flags, 'is_junk': l.is_junk} END AS checked
          FROM temp.identity_records_phone_texts d
          LEFT JOIN staging.phone_lookup l
              ON l.phone_text = d.phone_text AND l.country IS NOT DISTINCT FROM d.key_country)
),
postcodes AS MATERIALIZED (
    SELECT raw_postcode, country, checked.value AS postcode, checked.flags AS postcode_flags
    FROM (SELECT raw_postcode, country, std_postcode_checked(raw_postcode, country) AS checked
          FROM (SELECT DISTINCT raw_postcode, country FROM temp.identity_records_named WHERE raw_postcode IS NOT NULL))
)
-- A NULL raw value finds no lookup row: its results are NULL, as the functions give for NULL.
SELECT l.source, l.source_record_id, l.record_time,
       l.first_name, l.last_name, l.first_name_match, l.last_name_match,
       l.email,
       p.phone,
       l.street,
       pc.postcode,
       l.city,
       l.country,
       l.birth_date, l.loyalty_card_id, l.crm_customer_id, l.web_user_id, l.cookies,
       coalesce(l.email_is_junk, false) AS email_is_junk,
       coalesce(p.phone_is_junk, false) AS phone_is_junk,
       l.name_is_junk,
       -- a record with no flag (990k of 1M at 1M records) skips the list functions: the same
       -- empty list, ~0.09 CPU s less
       CASE WHEN len(coalesce(l.email_flags, [])) = 0 AND len(coalesce(p.phone_flags, [])) = 0
                 AND len(coalesce(pc.postcode_flags, [])) = 0 AND len(coalesce(l.birth_date_flags, [])) = 0
                 AND NOT l.name_is_junk
            THEN []::VARCHAR[]
            ELSE list_sort(list_distinct(list_concat(
                coalesce(l.email_flags, []),
                coalesce(p.phone_flags, []),
                coalesce(pc.postcode_flags, []),
                coalesce(l.birth_date_flags, []),
                CASE WHEN l.name_is_junk THEN ['junk_name'] ELSE [] END
            )))
       END AS dq_flags
FROM temp.identity_records_named l
LEFT JOIN phones p ON p.raw_phone = l.raw_phone AND p.country IS NOT DISTINCT FROM l.country
LEFT JOIN postcodes pc ON pc.raw_postcode = l.raw_postcode AND pc.country IS NOT DISTINCT FROM l.country
