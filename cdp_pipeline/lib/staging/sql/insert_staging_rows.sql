-- The rows of a staging table (the view of its create_<table>.sql): every row into the empty
-- table of create_staging_table.sql for a whole build, or the affected keys' rows, added after
-- their old rows were deleted (lib/staging/incremental.py).
INSERT INTO staging.{table} SELECT * FROM temp.{rows}
