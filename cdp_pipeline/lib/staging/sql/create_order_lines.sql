-- Order lines of both channels (online orders, store receipts, Square's item sales), one row per line item, priced.
-- Its rows as a view over temp.raw_<table> (the whole raw table, or the affected keys' rows:
-- lib/staging/incremental.py); insert_staging_rows.sql writes them.
CREATE OR REPLACE TEMP VIEW order_lines_rows AS
WITH shopify_delivery AS (
    SELECT trim(name) AS order_name, arg_max(_file, CAST(_landing_date AS VARCHAR) || _file) AS file
    FROM temp.raw_pos_orders
    WHERE nullif(trim(name), '') IS NOT NULL
    GROUP BY ALL
),
shopify AS (
    SELECT 'order:' || d.order_name AS order_id,
           row_number() OVER (PARTITION BY d.order_name ORDER BY r._line) AS line_no,
           nullif(trim(r.lineitem_sku), '') AS sku,
           r.lineitem_name AS item_name,
           -- a blank quantity is one item, a blank discount none; a written value that is no
           -- amount is NULL and flagged (below), not read as blank
           CASE WHEN nullif(trim(r.lineitem_quantity), '') IS NULL THEN 1
                ELSE TRY_CAST(std_money(r.lineitem_quantity) AS DECIMAL(18, 3)) END AS quantity,
           std_money(r.lineitem_price) AS unit_price,
           -- the line's share of the order's discounts (Lineitem discount)
           CASE WHEN nullif(trim(r.lineitem_discount), '') IS NULL THEN 0 ELSE std_money(r.lineitem_discount) END AS discount,
           quantity IS NULL AS bad_quantity,
           unit_price IS NULL AND nullif(trim(r.lineitem_price), '') IS NOT NULL AS bad_price,
           discount IS NULL AS bad_discount
    FROM temp.raw_pos_orders r
    JOIN shopify_delivery d ON trim(r.name) = d.order_name AND r._file = d.file
),
receipt_files AS MATERIALIZED (
    -- each file's place in delivery order, as in create_orders.sql
    SELECT _file, row_number() OVER (ORDER BY min(_landing_date), _file) * 4294967296 AS place
    FROM temp.raw_pos_receipts
    GROUP BY _file
),
receipts AS (
    SELECT 'receipt:' || trim(store_id) || ':' || trim(receipt_id) AS order_id,
           coalesce(TRY_CAST(line_no AS INTEGER), CAST(_line AS INTEGER)) AS line_no,
           nullif(trim(sku), '') AS sku,
           CAST(NULL AS VARCHAR) AS item_name,
           CASE WHEN q.unreadable THEN NULL ELSE coalesce(TRY_CAST(q.amount AS DECIMAL(18, 3)), 1) END AS quantity,
           p.amount AS unit_price,
           CASE WHEN dc.unreadable THEN NULL ELSE coalesce(dc.amount, 0) END AS discount,
           coalesce(q.unreadable, false) AS bad_quantity,
           coalesce(p.unreadable, false) AS bad_price,
           coalesce(dc.unreadable, false) AS bad_discount
    -- the latest delivery of a line, as in create_orders.sql
    FROM temp.raw_pos_receipts r
    JOIN receipt_files f USING (_file)
    -- each distinct amount read once, by the step before (create_receipt_amounts.sql; a
    -- Shopify order's fewer lines read theirs in place: the joins cost more there)
    LEFT JOIN temp.receipt_amounts q ON q.raw = r.qty
    LEFT JOIN temp.receipt_amounts p ON p.raw = r.unit_price
    LEFT JOIN temp.receipt_amounts dc ON dc.raw = r.discount
    SEMI JOIN (
        SELECT max(f.place + r._line) AS latest
        FROM temp.raw_pos_receipts r
        JOIN receipt_files f USING (_file)
        WHERE nullif(trim(receipt_id), '') IS NOT NULL AND nullif(trim(store_id), '') IS NOT NULL
        GROUP BY trim(store_id), trim(receipt_id), trim(coalesce(line_no, CAST(_line AS VARCHAR)))
    ) k ON f.place + r._line = k.latest
),
-- Square's item sales: the rows of the latest delivery of each sale (as in create_orders.sql);
-- a refund row is no line (it is the order's refunded_amount). Its amounts are line totals: the
-- unit price is Gross Sales / Qty, the discount the size of Discounts.
square_events AS (
    SELECT 'square:' || trim(transaction_id) AS order_id, trim("date") AS d, trim("time") AS t,
           arg_max(_file, CAST(_landing_date AS VARCHAR) || _file) AS file
    FROM temp.raw_pos_square_items
    WHERE nullif(trim(transaction_id), '') IS NOT NULL AND coalesce(lower(trim(event_type)) <> 'refund', true)
    GROUP BY ALL
),
square_amounts AS (
    SELECT e.order_id, e.d, e.t, r._line, nullif(trim(r.sku), '') AS sku,
           -- the item and its variation (Square's Price Point Name: "Latte", "Large")
           nullif(concat_ws(', ', nullif(trim(r.item), ''), nullif(trim(r.price_point_name), '')), '') AS item_name,
           nullif(trim(r.qty), '') AS raw_qty,
           coalesce(TRY_CAST(trim(r.qty) AS DECIMAL(18, 3)), TRY_CAST(std_money(r.qty) AS DECIMAL(18, 3))) AS qty_read,
           std_money(r.gross_sales) AS gross,
           nullif(trim(r.gross_sales), '') IS NOT NULL AND std_money(r.gross_sales) IS NULL AS bad_price,
           nullif(trim(r.discounts), '') IS NOT NULL AND std_money(r.discounts) IS NULL AS bad_discount,
           coalesce(abs(std_money(r.discounts)), 0) AS discount_read
    FROM temp.raw_pos_square_items r
    JOIN square_events e
      ON 'square:' || trim(r.transaction_id) = e.order_id AND r._file = e.file
     AND coalesce(lower(trim(r.event_type)) <> 'refund', true)
     AND trim(r."date") IS NOT DISTINCT FROM e.d AND trim(r."time") IS NOT DISTINCT FROM e.t
),
square AS (
    -- a blank Qty is one item; a Qty, Gross Sales or Discounts written but not a number is NULL,
    -- flagged (dq_flags below), as a receipt's line
    SELECT order_id,
           row_number() OVER (PARTITION BY order_id ORDER BY d, t, _line) AS line_no,
           sku, item_name,
           CASE WHEN raw_qty IS NULL THEN 1 ELSE qty_read END AS quantity,
           CASE WHEN raw_qty IS NOT NULL AND qty_read IS NULL THEN NULL
                WHEN coalesce(qty_read, 1) <> 0 THEN TRY_CAST(gross / coalesce(qty_read, 1) AS DECIMAL(18, 2))
                ELSE gross END AS unit_price,
           CASE WHEN bad_discount THEN NULL ELSE discount_read END AS discount,
           raw_qty IS NOT NULL AND qty_read IS NULL AS bad_quantity,
           bad_price,
           bad_discount
    FROM square_amounts
)
SELECT order_id, CAST(line_no AS INTEGER) AS line_no, sku, item_name,
       CAST(quantity AS DECIMAL(18, 3)) AS quantity,
       CAST(unit_price AS DECIMAL(18, 2)) AS unit_price,
       CAST(discount AS DECIMAL(18, 2)) AS discount,
       -- An ordinary line (quantity and price under a million, discount under a billion) is
       -- multiplied in 18 digits (64-bit: 13 whole digits at most, 5 decimals), others in 38,
       -- where an absurd quantity or price gives a NULL total, not a failed night. The same
       -- totals: the 38-digit arithmetic cost 0.19 CPU s on the 1M sample's 1.39M lines, this 0.02.
       CASE WHEN abs(quantity) < 1000000 AND abs(unit_price) < 1000000 AND abs(discount) < 1000000000
            THEN CAST(CAST(quantity AS DECIMAL(9, 3)) * CAST(unit_price AS DECIMAL(8, 2))
                      - CAST(discount AS DECIMAL(11, 2)) AS DECIMAL(18, 2))
            ELSE TRY_CAST(CAST(quantity AS DECIMAL(38, 3)) * unit_price - discount AS DECIMAL(18, 2))
       END AS line_total,
       -- a quantity, unit price or discount written but not an amount: NULL, and so is the line's
       -- total; the line is kept (the raw value is in raw.pos_orders / raw.pos_receipts /
       -- raw.pos_square_items)
       CASE WHEN NOT (bad_quantity OR bad_price OR bad_discount) THEN []::VARCHAR[]
            ELSE list_filter([CASE WHEN bad_quantity THEN 'unreadable_quantity' END,
                              CASE WHEN bad_price THEN 'unreadable_unit_price' END,
                              CASE WHEN bad_discount THEN 'unreadable_discount' END], lambda f: f IS NOT NULL)
       END AS dq_flags
FROM (SELECT * FROM shopify UNION ALL SELECT * FROM receipts UNION ALL SELECT * FROM square)
