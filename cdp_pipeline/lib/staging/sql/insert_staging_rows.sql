-- The affected keys' rows of a staging table (the view of its create_<table>.sql over them),
-- added after their old rows were deleted (lib/staging/incremental.py).
INSERT INTO staging.{table} SELECT * FROM temp.{rows}
