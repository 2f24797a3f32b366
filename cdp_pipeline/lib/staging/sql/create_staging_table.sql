-- A staging table built whole from its rows (the view of its create_<table>.sql).
CREATE OR REPLACE TABLE staging.{table} AS SELECT * FROM temp.{rows}
