-- Counts row-level quarantine entries for a raw table's file kinds (to compare with the ledger).
SELECT count(*)
FROM audit.quarantine
WHERE source = $source AND list_contains($file_kinds, file_kind) AND line_number IS NOT NULL
