-- The quarantined rows (not whole files) of the given deliveries, in file and line order.
SELECT q.file, q.line_number, q.reason, q.raw_record
FROM audit.quarantine AS q
WHERE q.line_number IS NOT NULL AND list_contains($files::VARCHAR[], q.file)
  AND list_contains($sha256s::VARCHAR[], q.file_sha256)
ORDER BY q.file, q.line_number
