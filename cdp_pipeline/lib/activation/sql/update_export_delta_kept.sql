-- Rows whose text differs but whose values are equal are not an update (as in diff_rows).
UPDATE export_delta SET change = 'kept' WHERE row_key IN (SELECT unnest($row_keys::VARCHAR[]))
