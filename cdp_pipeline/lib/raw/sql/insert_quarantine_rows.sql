-- Appends files' unreadable rows (an Arrow batch: file, line, reason, raw record) to the quarantine.
INSERT INTO audit.quarantine BY NAME
SELECT *, CAST($loaded_at AS TIMESTAMP) AS quarantined_at
FROM {batch}
