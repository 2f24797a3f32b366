-- Removes one source's landing day from the file ledger so the day can be loaded again.
DELETE FROM audit.files WHERE source = $source AND landing_date = CAST($landing_date AS DATE)
