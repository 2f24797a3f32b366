-- Deliveries of the consent-bearing sources that were rejected or had rows quarantined, as the ledger holds them now: a file fixed in place replaces its entry when its landing day is loaded again; a later day's file of the same name is another delivery (ESP exports keep their name every day).
SELECT source, file, regexp_extract(file, '[^/]+$') AS file_name, sha256, landing_date, status, file_kind,
       delimiter, rows_quarantined, message
FROM audit.files
WHERE list_contains($sources::VARCHAR[], source) AND (status = 'rejected' OR rows_quarantined > 0)
ORDER BY source, landing_date, file
