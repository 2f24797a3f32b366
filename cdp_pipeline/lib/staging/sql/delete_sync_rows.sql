-- Every kept copy of a row value that differs (create_sync_diff.sql): insert_sync_rows.sql adds
-- tonight's copies of it, so each value ends with tonight's count (lib/staging/sync.py).
DELETE FROM staging.{table}
WHERE rowid IN (SELECT _rowid FROM temp._stg_sync_kept SEMI JOIN temp._stg_sync_diff USING (_h))
