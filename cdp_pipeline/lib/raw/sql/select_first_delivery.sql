-- Finds the delivery that already holds these bytes (any name, any day), if any.
SELECT file, landing_date, status
FROM audit.files
WHERE sha256 = $sha256 AND status <> 'duplicate'
ORDER BY landing_date, file
LIMIT 1
