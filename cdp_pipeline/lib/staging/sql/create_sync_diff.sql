-- The rows that differ between a staging table's rows that a build makes again ({kept}) and
-- tonight's (the view temp.{rows}): the hash of each row value whose count differs on the two
-- sides (lib/staging/sync.py).
CREATE OR REPLACE TEMP TABLE _stg_sync_diff AS
SELECT h
FROM (SELECT hash({columns}) AS h, 1 AS side FROM staging.{table} WHERE {kept}
      UNION ALL
      SELECT hash({columns}) AS h, -1 AS side FROM temp.{rows})
GROUP BY h
HAVING sum(side) <> 0
