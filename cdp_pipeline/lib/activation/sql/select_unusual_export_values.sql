-- Rows whose values SQL cannot render as Python would (exporter renders those files in Python): not
-- a JSON object, or a column holding something other than a string, an integer or null (Python's
-- str() of a float, a boolean or a list is not DuckDB's text).
SELECT count(*) FROM export_file_rows
WHERE json_type(row_values) <> 'OBJECT'
   OR NOT list_bool_and(list_transform(json_type(row_values, $paths::VARCHAR[]),
                                       lambda t: t IS NULL OR t IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'NULL')))
