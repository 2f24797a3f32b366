-- The rows of a staging table (the view of its create_<table>.sql): every row into the empty
-- table of create_staging_table.sql for a whole build, or the affected keys' rows, added after
-- their old rows were deleted (lib/staging/incremental.py).
-- Unsorted: the rows are the same on every build, their order in the file is not (DuckDB's
-- parallel joins and aggregates emit them in any order). No reader depends on it: each sorts or
-- aggregates what it reads, as it must anyway, for a keyed night appends its rows after the kept
-- ones (docs/performance.md, "Staging"). The final ORDER BY of each of the eight statements cost
-- about 2.6 CPU s of a first night's staging at 1M records.
INSERT INTO staging.{table} SELECT * FROM temp.{rows}
