-- Removes one source's landing day from the quarantine so the day can be loaded again.
DELETE FROM audit.quarantine WHERE source = $source AND landing_date = CAST($landing_date AS DATE)
