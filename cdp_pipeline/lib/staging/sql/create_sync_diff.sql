-- The rows a build makes again, compared by the hash of each row (lib/staging/sync.py):
-- tonight's rows (the view temp.{rows}) once, with their hashes; the kept rows' ({kept}) row
-- ids and hashes; and the hash of each row value whose count differs on the two sides.
CREATE OR REPLACE TEMP TABLE _stg_sync_new AS SELECT hash({columns}) AS _h, * FROM temp.{rows};
CREATE OR REPLACE TEMP TABLE _stg_sync_kept AS SELECT rowid AS _rowid, hash({columns}) AS _h FROM staging.{table} WHERE {kept};
CREATE OR REPLACE TEMP TABLE _stg_sync_diff AS
SELECT _h
FROM (SELECT _h, 1 AS side FROM temp._stg_sync_kept
      UNION ALL
      SELECT _h, -1 AS side FROM temp._stg_sync_new)
GROUP BY _h
HAVING sum(side) <> 0
