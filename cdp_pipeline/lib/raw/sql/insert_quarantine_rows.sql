-- Appends one file's unreadable rows (an Arrow batch) to the quarantine.
INSERT INTO audit.quarantine BY NAME
SELECT *,
       $source AS source,
       $file AS file,
       CAST($landing_date AS DATE) AS landing_date,
       $file_sha256 AS file_sha256,
       $file_kind AS file_kind,
       CAST($loaded_at AS TIMESTAMP) AS quarantined_at
FROM {batch}
