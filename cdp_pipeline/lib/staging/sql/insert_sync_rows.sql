-- Tonight's copies of every row value that differs (create_sync_diff.sql), after
-- delete_sync_rows.sql removed the kept ones (lib/staging/sync.py).
INSERT INTO staging.{table}
SELECT * EXCLUDE (_h) FROM temp._stg_sync_new SEMI JOIN temp._stg_sync_diff USING (_h)
