-- Lists files of some kinds whose rows read differ from rows loaded plus quarantined plus suppressed (erased people).
SELECT file, rows_read, rows_loaded, rows_quarantined, rows_suppressed
FROM audit.files
WHERE source = $source
  AND (file_kind IS NULL OR list_contains($file_kinds, file_kind))
  AND rows_read <> rows_loaded + rows_quarantined + rows_suppressed
ORDER BY file
