-- A staging table to be built whole, empty: its columns are the view of its create_<table>.sql
-- (lib/staging/storage.py declares how each is stored); insert_staging_rows.sql fills it.
CREATE OR REPLACE TABLE staging.{table} ({columns})
