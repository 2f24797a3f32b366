-- The rows of each file, in file order (write_export): full = every current row by key; delta_added =
-- added rows by key, then updated rows by key; delta_removed = the previous rows that are gone, by key.
-- $delta_added_is_full: every current row is added, or every one changed, so delta_added is the full
-- file row for row and its rows are not built again (exporter.py writes the full file's bytes).
CREATE OR REPLACE TEMP TABLE export_file_rows AS
SELECT 'full' AS file_kind, row_number() OVER (ORDER BY row_key) AS position, current_values AS row_values
FROM export_delta WHERE current_values IS NOT NULL
UNION ALL
SELECT 'delta_added', row_number() OVER (ORDER BY change = 'changed', row_key), current_values
FROM export_delta WHERE change IN ('added', 'changed') AND NOT $delta_added_is_full
UNION ALL
SELECT 'delta_removed', row_number() OVER (ORDER BY row_key), previous_values
FROM export_delta WHERE change = 'removed'
