-- Records one delivered file in the ledger.
INSERT INTO audit.files (file, source, landing_date, sha256, bytes, encoding, delimiter, file_kind,
                         rows_read, rows_loaded, rows_quarantined, rows_suppressed, status, message, loaded_at)
VALUES ($file, $source, CAST($landing_date AS DATE), $sha256, $bytes, $encoding, $delimiter, $file_kind,
        $rows_read, $rows_loaded, $rows_quarantined, $rows_suppressed, $status, $message, CAST($loaded_at AS TIMESTAMP))
