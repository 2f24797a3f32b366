-- Lists files of some kinds whose rows read differ from rows loaded plus rows quarantined.
SELECT file, rows_read, rows_loaded, rows_quarantined
FROM audit.files
WHERE source = $source
  AND (file_kind IS NULL OR list_contains($file_kinds, file_kind))
  AND rows_read <> rows_loaded + rows_quarantined
ORDER BY file
