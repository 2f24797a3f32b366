-- Appends files' rows (an Arrow batch that says which file and landing day each row is from) to
-- their raw table.
INSERT INTO raw.{table} BY NAME
SELECT *, CAST($loaded_at AS TIMESTAMP) AS _loaded_at
FROM {batch}
