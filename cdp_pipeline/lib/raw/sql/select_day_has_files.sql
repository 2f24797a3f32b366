-- Does the ledger hold any file of this source's landing day (a day loaded before)?
SELECT 1 FROM audit.files WHERE source = $source AND landing_date = CAST($landing_date AS DATE) LIMIT 1
