-- A staging table built whole from its rows (the view of its create_<table>.sql).
-- The keyed tables' statements have no ORDER BY: a keyed night appends its rows at the end
-- (insert_staging_rows.sql), so no reader may rely on a staging table's order, and sorting
-- every row cost CPU for nothing.
CREATE OR REPLACE TABLE staging.{table} AS SELECT * FROM temp.{rows}
