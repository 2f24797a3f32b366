-- Appends one file's rows (an Arrow batch) to its raw table, stamping where they came from.
INSERT INTO raw.{table} BY NAME
SELECT *,
       $file AS _file,
       $file_sha256 AS _file_sha256,
       CAST($landing_date AS DATE) AS _landing_date,
       CAST($loaded_at AS TIMESTAMP) AS _loaded_at
FROM {batch}
