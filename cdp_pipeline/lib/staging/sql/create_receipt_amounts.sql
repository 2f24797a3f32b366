-- A step of staging.orders and staging.order_lines (lib/staging/incremental.py runs the steps):
-- each distinct amount of a store receipt line (quantity, unit price, discount) read once by
-- std_money, for both statements to join to the lines (a price is on many lines: 39 distinct
-- amounts on the 1M sample's million lines). A temp table, so neither statement pushes its
-- filters down into the reading, and the two read the amounts alike.
-- It reads temp.raw_pos_receipts (the whole raw table, or the affected keys' rows).
-- `unreadable`: written (not blank) but no amount: the line is flagged (dq_flags), not read as
-- a blank one (quantity 1, no price, no discount).
CREATE OR REPLACE TEMP TABLE receipt_amounts AS
SELECT raw, amount, amount IS NULL AND trim(raw) <> '' AS unreadable
FROM (SELECT raw, std_money(raw) AS amount
FROM (SELECT qty AS raw FROM temp.raw_pos_receipts UNION SELECT unit_price FROM temp.raw_pos_receipts
      UNION SELECT discount FROM temp.raw_pos_receipts)
WHERE raw IS NOT NULL)
