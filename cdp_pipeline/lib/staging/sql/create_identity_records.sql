-- One row per identity-bearing source record (its latest version), standardised for linkage:
-- the rows of create_identity_records_standardised.sql, sorted. The table is made in steps
-- (KeyedTable.steps in lib/staging/incremental.py), each a temp table, which DuckDB writes out
-- to disk when memory runs short, where it holds a MATERIALIZED CTE, and the hash tables of
-- the joins feeding a sort, in memory (at 10M records one statement needed 12 GB):
--   create_identity_records_located.sql: the latest version of each record, its country;
--   create_identity_records_named.sql: its e-mail address, names, birth date, street, city;
--   create_identity_records_phone_texts.sql: its distinct numbers with their lookup keys;
--   create_identity_records_standardised.sql: its phone number, postcode and flags;
--   then this sort. insert_staging_rows.sql writes the rows.
CREATE OR REPLACE TEMP VIEW identity_records_rows AS
SELECT * FROM temp.identity_records_standardised
ORDER BY source, source_record_id
