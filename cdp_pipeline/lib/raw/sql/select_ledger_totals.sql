-- Sums the ledger for a raw table's file kinds: what should be in raw (rows loaded, less rows an
-- erasure deleted since) and in the quarantine.
SELECT count(*) AS files,
       coalesce(sum(rows_read), 0) AS rows_read,
       coalesce(sum(rows_loaded - coalesce(rows_erased, 0)) FILTER (WHERE status = 'loaded'), 0) AS rows_loaded_live,
       coalesce(sum(rows_quarantined), 0) AS rows_quarantined,
       coalesce(sum(rows_suppressed), 0) AS rows_suppressed,
       coalesce(sum(rows_erased), 0) AS rows_erased
FROM audit.files
WHERE source = $source AND list_contains($file_kinds, file_kind)
