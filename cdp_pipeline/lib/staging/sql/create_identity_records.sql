-- One row per identity-bearing source record (its latest version), standardised for linkage:
-- the rows of create_identity_records_standardised.sql in order. The table is made in steps
-- (KeyedTable.steps in lib/staging/incremental.py; each a temp table, which DuckDB can write
-- out to disk when memory runs short) so that 10M records build within the default
-- memory_limit: create_identity_records_located.sql (the latest version of each record),
-- create_identity_records_standardised.sql (its values standardised), then this sort.
-- create_staging_table.sql or insert_staging_rows.sql writes the rows.
CREATE OR REPLACE TEMP VIEW identity_records_rows AS
SELECT * FROM temp.identity_records_standardised
ORDER BY source, source_record_id
