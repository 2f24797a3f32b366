-- A step of staging.orders and staging.identity_records (lib/staging/incremental.py runs the
-- steps): the POS files whose dates are month-first. A date such as 03/04/2026 can be either;
-- the file decides (docs/sources.md "Dates"): one whose dates include some that can only be
-- month-first (04/13/2026) and none that can only be day-first (13/04/2026) is month-first, and
-- its other dates are read so too. A file without such evidence, or with both kinds, keeps the
-- default (day-first, unless a value can only be month-first).
-- The evidence is the whole file's (raw.<table>), not only the rows a keyed night rebuilds
-- (temp.raw_<table>), so every night decides a file alike. Only files with a date written so
-- among the rows read are looked at (none in an export writing ISO dates).
CREATE OR REPLACE TEMP TABLE pos_month_first_files AS
WITH dated AS (
    SELECT _file, created_at AS value FROM raw.pos_orders
    WHERE _file IN (SELECT _file FROM temp.raw_pos_orders
                    WHERE _std_either_order_date(created_at) OR _std_either_order_date(cancelled_at))
      AND _std_either_order_date(created_at)
    UNION ALL
    SELECT _file, cancelled_at FROM raw.pos_orders
    WHERE _file IN (SELECT _file FROM temp.raw_pos_orders
                    WHERE _std_either_order_date(created_at) OR _std_either_order_date(cancelled_at))
      AND _std_either_order_date(cancelled_at)
    UNION ALL
    SELECT _file, ts_local FROM raw.pos_receipts
    WHERE _file IN (SELECT _file FROM temp.raw_pos_receipts WHERE _std_either_order_date(ts_local))
      AND _std_either_order_date(ts_local)
)
SELECT _file
FROM dated
GROUP BY _file
HAVING bool_or(_std_month_first_date(value)) AND NOT bool_or(_std_day_first_date(value))
