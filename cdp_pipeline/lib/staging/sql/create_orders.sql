-- Orders from both channels: Shopify and WooCommerce online orders (grouped by Name), store receipts and Square's item sales.
-- Its rows as a view over temp.raw_<table> (the whole raw table, or the affected keys' rows:
-- lib/staging/incremental.py); insert_staging_rows.sql writes them.
CREATE OR REPLACE TEMP VIEW orders_rows AS
WITH shopify_delivery AS (
    -- The latest delivery of each order wins (orders are re-exported when they change).
    SELECT trim(name) AS order_name, arg_max(_file, CAST(_landing_date AS VARCHAR) || _file) AS file
    FROM temp.raw_pos_orders
    WHERE nullif(trim(name), '') IS NOT NULL
    GROUP BY ALL
),
shopify_rows AS (
    SELECT r.* FROM temp.raw_pos_orders r
    JOIN shopify_delivery d ON trim(r.name) = d.order_name AND r._file = d.file
),
-- an order's fields: the first written value of each over its lines (Shopify fills them on the
-- first line only), as written
shopify_fields AS (
    SELECT trim(name) AS order_name,
           any_value(_file) AS file,  -- an order's rows are one delivery's (shopify_rows)
           first(created_at ORDER BY _line) FILTER (WHERE nullif(trim(created_at), '') IS NOT NULL) AS raw_created_at,
           first(currency ORDER BY _line) FILTER (WHERE nullif(trim(currency), '') IS NOT NULL) AS raw_currency,
           first(coalesce(nullif(trim(total), ''), nullif(trim(subtotal), '')) ORDER BY _line)
               FILTER (WHERE coalesce(nullif(trim(total), ''), nullif(trim(subtotal), '')) IS NOT NULL) AS raw_priced,
           first(subtotal ORDER BY _line) FILTER (WHERE nullif(trim(subtotal), '') IS NOT NULL) AS raw_subtotal,
           first(shipping ORDER BY _line) FILTER (WHERE nullif(trim(shipping), '') IS NOT NULL) AS raw_shipping,
           first(taxes ORDER BY _line) FILTER (WHERE nullif(trim(taxes), '') IS NOT NULL) AS raw_taxes,
           first(discount_amount ORDER BY _line) FILTER (WHERE nullif(trim(discount_amount), '') IS NOT NULL) AS raw_discount,
           first(total ORDER BY _line) FILTER (WHERE nullif(trim(total), '') IS NOT NULL) AS raw_total,
           first(refunded_amount ORDER BY _line) FILTER (WHERE nullif(trim(refunded_amount), '') IS NOT NULL) AS raw_refunded,
           lower(first(financial_status ORDER BY _line) FILTER (WHERE nullif(trim(financial_status), '') IS NOT NULL)) AS financial_status,
           first(cancelled_at ORDER BY _line) FILTER (WHERE nullif(trim(cancelled_at), '') IS NOT NULL) AS raw_cancelled_at,
           first(email ORDER BY _line) FILTER (WHERE nullif(trim(email), '') IS NOT NULL) AS raw_email,
           std_bool(first(accepts_marketing ORDER BY _line) FILTER (WHERE nullif(trim(accepts_marketing), '') IS NOT NULL)) AS accepts_marketing
    FROM shopify_rows
    GROUP BY trim(name)
),
-- the fields read (a derived table: the flags below compare each with its raw value, and each
-- is read once)
shopify_read AS (
    SELECT order_name, raw_created_at, raw_currency, raw_subtotal, raw_shipping, raw_taxes, raw_discount,
           raw_total, raw_refunded, raw_cancelled_at,
           -- a date such as 03/04/2026 in its file's order (create_pos_month_first_files.sql)
           std_timestamp(std_date_in_order(raw_created_at, month_first), NULL) AS ordered_at,
           -- the Currency column (an ISO code: anything else is NULL, flagged below), else the
           -- symbol or code written with the total ($1,240.00 is USD) (docs/sources.md "Money");
           -- neither is the warehouse currency (CDP_CURRENCY, below)
           CASE WHEN raw_currency IS NULL THEN std_currency(raw_priced, NULL)
                WHEN regexp_full_match(upper(trim(raw_currency)), '[A-Z]{3}') THEN upper(trim(raw_currency))
           END AS currency_code,
           std_money(raw_subtotal) AS subtotal,
           std_money(raw_shipping) AS shipping,
           std_money(raw_taxes) AS taxes,
           -- Shopify's Subtotal is after this discount, and the lines' Lineitem discount add up to it
           std_money(raw_discount) AS discount,
           std_money(raw_total) AS total,
           std_money(raw_refunded) AS refunded_amount,
           -- Shopify's financial status as written; a WooCommerce status name (its order export,
           -- docs/sources.md) as the financial status it means: a paid order keeps Completed or
           -- Processing after a partial refund, a cancelled, failed or draft order is no sale
           CASE WHEN financial_status IN ('completed', 'processing')
                THEN CASE WHEN std_money(raw_refunded) > 0 THEN 'partially_refunded' ELSE 'paid' END
                WHEN financial_status IN ('on hold', 'on-hold', 'pending payment') THEN 'pending'
                WHEN financial_status IN ('cancelled', 'failed', 'draft') THEN 'voided'
                ELSE financial_status
           END AS financial_status,
           std_timestamp(std_date_in_order(raw_cancelled_at, month_first), NULL) AS cancelled_at,
           raw_email,
           accepts_marketing
    FROM (SELECT *, file IN (SELECT _file FROM temp.pos_month_first_files) AS month_first FROM shopify_fields)
),
shopify AS (
    SELECT 'order:' || order_name AS order_id,
           'online' AS channel,
           ordered_at, currency_code, subtotal, shipping, taxes, discount, total, refunded_amount,
           financial_status, cancelled_at,
           CAST(NULL AS VARCHAR) AS store_id,
           CAST(NULL AS VARCHAR) AS loyalty_card_id,
           raw_email,
           accepts_marketing,
           -- a value written but not read: NULL in its column, named here (the raw value is in
           -- raw.pos_orders); the order is kept
           list_filter([CASE WHEN raw_created_at IS NOT NULL AND ordered_at IS NULL THEN 'unreadable_ordered_at' END,
                         CASE WHEN raw_currency IS NOT NULL AND currency_code IS NULL THEN 'unreadable_currency' END,
                         CASE WHEN raw_subtotal IS NOT NULL AND subtotal IS NULL THEN 'unreadable_subtotal' END,
                         CASE WHEN raw_shipping IS NOT NULL AND shipping IS NULL THEN 'unreadable_shipping' END,
                         CASE WHEN raw_taxes IS NOT NULL AND taxes IS NULL THEN 'unreadable_taxes' END,
                         CASE WHEN raw_discount IS NOT NULL AND discount IS NULL THEN 'unreadable_discount' END,
                         CASE WHEN raw_total IS NOT NULL AND total IS NULL THEN 'unreadable_total' END,
                         CASE WHEN raw_refunded IS NOT NULL AND refunded_amount IS NULL THEN 'unreadable_refunded_amount' END,
                         CASE WHEN raw_cancelled_at IS NOT NULL AND cancelled_at IS NULL THEN 'unreadable_cancelled_at' END],
                        lambda f: f IS NOT NULL) AS dq_flags
    FROM shopify_read
),
receipt_files AS MATERIALIZED (
    -- each file's place in delivery order (landing day, then path): a line's delivery is then
    -- one number, place + line (a file has fewer than 2^32 lines), cheaper to group and join on
    -- than the path and the line
    SELECT _file, row_number() OVER (ORDER BY min(_landing_date), _file) * 4294967296 AS place
    FROM temp.raw_pos_receipts
    GROUP BY _file
),
receipt_lines AS (
    -- A line delivered again (a receipt re-sent) is read from its latest delivery: the latest
    -- (landing day, file, line) per receipt line, found by grouping (cheaper than a window
    -- over every line) and joined back by it. Its time in its file's date order
    -- (create_pos_month_first_files.sql).
    SELECT r.* REPLACE (std_date_in_order(r.ts_local, r._file IN (SELECT _file FROM temp.pos_month_first_files)) AS ts_local)
    FROM temp.raw_pos_receipts r
    JOIN receipt_files f USING (_file)
    SEMI JOIN (
        SELECT max(f.place + r._line) AS latest
        FROM temp.raw_pos_receipts r
        JOIN receipt_files f USING (_file)
        WHERE nullif(trim(receipt_id), '') IS NOT NULL AND nullif(trim(store_id), '') IS NOT NULL
        GROUP BY trim(store_id), trim(receipt_id), trim(coalesce(line_no, CAST(_line AS VARCHAR)))
    ) k ON f.place + r._line = k.latest
),
-- A receipt's lines summed per time they give (a receipt's lines share one): the time is read
-- once per distinct value, by the standardisation function (Python for a local time), and
-- joined to these sums rather than to every line.
receipt_sums AS (
    SELECT trim(l.store_id) AS store_id, trim(l.receipt_id) AS receipt_id, l.ts_local, nullif(trim(l.tz), '') AS tz,
           sum(CAST(coalesce(TRY_CAST(q.amount AS DECIMAL(18, 3)), 1) AS DECIMAL(38, 3)) * p.amount) AS subtotal,
           sum(d.amount) AS discount,
           min(nullif(trim(l.loyalty_card_id), '')) AS loyalty_card_id,
           -- a line's quantity, price or discount written but not an amount (receipt_amounts)
           bool_or(q.unreadable OR p.unreadable OR d.unreadable) AS unreadable_amount
    -- each distinct amount read once, by the step before (create_receipt_amounts.sql)
    FROM receipt_lines l
    LEFT JOIN temp.receipt_amounts q ON q.raw = l.qty
    LEFT JOIN temp.receipt_amounts p ON p.raw = l.unit_price
    LEFT JOIN temp.receipt_amounts d ON d.raw = l.discount
    GROUP BY ALL
),
-- MATERIALIZED keeps DuckDB from pushing filters on the results down to every row. A local
-- time's UTC offset is read once per hour (330 hours for the 1M sample's 415k times), not by
-- the Python once per batch of times: the same times, ~0.2 CPU s less at 1M records.
receipt_hours AS MATERIALIZED (
    SELECT hour, tz, std_utc_offset_py(hour, tz) AS utc_offset
    FROM (SELECT DISTINCT std_local_hour(ts_local) AS hour, tz FROM receipt_sums WHERE ts_local IS NOT NULL)
),
receipt_times AS MATERIALIZED (
    SELECT d.ts_local, d.tz, std_timestamp_at_offset(d.ts_local, d.tz, h.utc_offset) AS ordered_at
    FROM (SELECT DISTINCT ts_local, tz FROM receipt_sums WHERE ts_local IS NOT NULL) d
    LEFT JOIN receipt_hours h ON h.hour = std_local_hour(d.ts_local) AND h.tz IS NOT DISTINCT FROM d.tz
),
receipts AS (
    SELECT 'receipt:' || l.store_id || ':' || l.receipt_id AS order_id,
           'store' AS channel,
           min(t.ordered_at) AS ordered_at,
           getvariable('default_currency') AS currency_code,  -- the receipts file has no currency: CDP_CURRENCY
           coalesce(bool_or(l.unreadable_amount), false) AS unreadable_amount,
           bool_or(nullif(trim(l.ts_local), '') IS NOT NULL AND t.ordered_at IS NULL) AS unreadable_time,
           -- in the output's type here: the union with the online orders is then not widened to
           -- 38 digits and narrowed again for every order (the same values). The sums are in 38
           -- digits; an ordinary receipt's (under a trillion) is rounded to the cent in 18
           -- (64-bit), the same value: rounding in 38 cost 0.49 against 0.36 CPU s for the 1M
           -- sample's 487k receipts.
           CASE WHEN abs(sum(l.subtotal)) < 1000000000000
                THEN CAST(CAST(sum(l.subtotal) AS DECIMAL(17, 5)) AS DECIMAL(18, 2))
                ELSE TRY_CAST(sum(l.subtotal) AS DECIMAL(18, 2))
           END AS subtotal,
           CAST(0 AS DECIMAL(18, 2)) AS shipping,
           CAST(NULL AS DECIMAL(18, 2)) AS taxes,
           CAST(coalesce(sum(l.discount), 0) AS DECIMAL(18, 2)) AS discount,
           CASE WHEN abs(sum(l.subtotal)) < 1000000000000 AND abs(coalesce(sum(l.discount), 0)) < 1000000000000
                THEN CAST(CAST(sum(l.subtotal) AS DECIMAL(17, 5)) - CAST(coalesce(sum(l.discount), 0) AS DECIMAL(14, 2))
                          AS DECIMAL(18, 2))
                ELSE TRY_CAST(sum(l.subtotal) - coalesce(sum(l.discount), 0) AS DECIMAL(18, 2))
           END AS total,
           CAST(NULL AS DECIMAL(18, 2)) AS refunded_amount,
           'paid' AS financial_status,
           CAST(NULL AS TIMESTAMP) AS cancelled_at,
           l.store_id,
           min(l.loyalty_card_id) AS loyalty_card_id,
           CAST(NULL AS VARCHAR) AS raw_email,
           CAST(NULL AS BOOLEAN) AS accepts_marketing
    FROM receipt_sums l
    LEFT JOIN receipt_times t ON t.ts_local = l.ts_local AND t.tz IS NOT DISTINCT FROM l.tz
    GROUP BY l.store_id, l.receipt_id
),
-- A receipt with a line whose amount cannot be read has no subtotal, discount or total (the sum
-- of the other lines is not what was paid): NULL, flagged; its lines are flagged in staging.order_lines.
receipts_read AS (
    SELECT * REPLACE (
               CASE WHEN unreadable_amount THEN NULL ELSE subtotal END AS subtotal,
               CASE WHEN unreadable_amount THEN NULL ELSE discount END AS discount,
               CASE WHEN unreadable_amount THEN NULL ELSE total END AS total),
           CASE WHEN NOT unreadable_amount AND NOT unreadable_time THEN []::VARCHAR[]
                ELSE list_filter([CASE WHEN unreadable_time THEN 'unreadable_ordered_at' END,
                                  CASE WHEN unreadable_amount THEN 'unreadable_line_amount' END], lambda f: f IS NOT NULL)
           END AS dq_flags
    FROM receipts
),
-- Square's Items Detail export (docs/sources.md): a row per item sold or refunded. The latest
-- delivery of each event of a transaction (its sale, each refund: an event is its Transaction
-- ID, Event Type, Date and Time) is read, so an export of overlapping days does not count a sale
-- twice, and a refund exported days later does not replace the sale.
square_events AS (
    SELECT 'square:' || trim(transaction_id) AS order_id,
           coalesce(lower(trim(event_type)) = 'refund', false) AS refund, trim("date") AS d, trim("time") AS t,
           arg_max(_file, CAST(_landing_date AS VARCHAR) || _file) AS file
    FROM temp.raw_pos_square_items
    WHERE nullif(trim(transaction_id), '') IS NOT NULL
    GROUP BY ALL
),
square_rows AS (
    SELECT e.order_id, e.refund, r.*,
           -- Date and Time as one local time ('2026-07-18 12:59:30'; a 12-hour '2:30:00 PM' as
           -- 14:30:00), in the zone the Time Zone names (a Rails display name: std_iana_zone)
           e.d || ' ' || coalesce(strftime(try_strptime(e.t, ['%H:%M:%S', '%H:%M', '%I:%M:%S %p', '%I:%M %p']),
                                           '%H:%M:%S'), e.t) AS ts_local,
           std_iana_zone(r.time_zone) AS tz,
           -- a Time Zone written that names no zone Rails or IANA knows: read as CDP_TIMEZONE, flagged
           nullif(trim(r.time_zone), '') IS NOT NULL AND std_iana_zone(r.time_zone) IS NULL AS unknown_zone
    FROM temp.raw_pos_square_items r
    JOIN square_events e
      ON 'square:' || trim(r.transaction_id) = e.order_id AND r._file = e.file
     AND coalesce(lower(trim(r.event_type)) = 'refund', false) = e.refund
     AND trim(r."date") IS NOT DISTINCT FROM e.d AND trim(r."time") IS NOT DISTINCT FROM e.t
),
square_times AS MATERIALIZED (
    SELECT ts_local, tz, std_timestamp(ts_local, tz) AS ordered_at
    FROM (SELECT DISTINCT ts_local, tz FROM square_rows)
),
square_sums AS (
    -- amounts are line totals with their currency ($8.00, a refund's -$45.00); Discounts are
    -- written negative (-$1.00), taken as their size whatever the sign
    SELECT s.order_id,
           min(t.ordered_at) FILTER (WHERE NOT s.refund) AS sold_at,
           min(t.ordered_at) AS first_at,
           std_currency(min(nullif(trim(s.gross_sales), '')), NULL) AS currency_code,  -- NULL: CDP_CURRENCY
           sum(std_money(s.gross_sales)) FILTER (WHERE NOT s.refund) AS gross,
           sum(abs(std_money(s.discounts))) FILTER (WHERE NOT s.refund) AS discount,
           sum(std_money(s.tax)) FILTER (WHERE NOT s.refund) AS tax,
           -- the sale rows' Net Sales as written: Gross - Discounts when the tax comes on top (a US or Canadian
           -- sales tax), Gross - Discounts - Tax when the prices include it (VAT, GST): square below
           sum(std_money(s.net_sales)) FILTER (WHERE NOT s.refund) AS net_written,
           -- a refund's net amount (its Net Sales, else its Gross Sales), as a positive sum, and its tax
           abs(sum(coalesce(std_money(s.net_sales), std_money(s.gross_sales))) FILTER (WHERE s.refund)) AS refunded,
           abs(sum(std_money(s.tax)) FILTER (WHERE s.refund)) AS refunded_tax,
           bool_or(s.unknown_zone) AS unknown_zone,
           bool_or(s.refund) AS has_refund,
           -- a value written but not read (the order is kept, flagged: dq_flags below)
           bool_or((nullif(trim(s.gross_sales), '') IS NOT NULL AND std_money(s.gross_sales) IS NULL)
                   OR (nullif(trim(s.discounts), '') IS NOT NULL AND std_money(s.discounts) IS NULL))
               FILTER (WHERE NOT s.refund) AS unreadable_amount,
           bool_or(nullif(trim(s.tax), '') IS NOT NULL AND std_money(s.tax) IS NULL) FILTER (WHERE NOT s.refund)
               AS unreadable_tax,
           bool_or(coalesce(nullif(trim(s.net_sales), ''), nullif(trim(s.gross_sales), '')) IS NOT NULL
                   AND coalesce(std_money(s.net_sales), std_money(s.gross_sales)) IS NULL) FILTER (WHERE s.refund)
               AS unreadable_refund,
           bool_or(nullif(trim(s.ts_local), '') IS NOT NULL AND t.ordered_at IS NULL) AS unreadable_time,
           min(nullif(trim(s.location), '')) AS store_id
    FROM square_rows s
    LEFT JOIN square_times t ON t.ts_local = s.ts_local AND t.tz IS NOT DISTINCT FROM s.tz
    GROUP BY s.order_id
),
square_taxed AS (
    -- A sales tax on top of the prices (Square's US and Canadian reports: Net Sales = Gross Sales - Discounts,
    -- the Tax beside them) is part of what the customer paid: added to the total, and a refund's tax to the refund.
    -- A tax included in the prices (VAT, GST: Net Sales = Gross - Discounts - Tax) is in Gross Sales already.
    SELECT *,
           coalesce(tax <> 0 AND net_written = coalesce(gross, 0) - coalesce(discount, 0), false) AS tax_on_top
    FROM square_sums
),
square AS (
    -- an unreadable sale amount leaves the order without subtotal, discount and total (the other
    -- rows' sum is not what was paid), as a receipt's unreadable line does
    SELECT order_id,
           'store' AS channel,
           -- the sale's time; a transaction of refund rows alone is dated by its refund
           coalesce(sold_at, first_at) AS ordered_at,
           currency_code,
           CASE WHEN NOT coalesce(unreadable_amount, false) THEN CAST(coalesce(gross, 0) AS DECIMAL(18, 2)) END AS subtotal,
           CAST(0 AS DECIMAL(18, 2)) AS shipping,
           CASE WHEN NOT coalesce(unreadable_tax, false) THEN CAST(tax AS DECIMAL(18, 2)) END AS taxes,
           CASE WHEN NOT coalesce(unreadable_amount, false) THEN CAST(coalesce(discount, 0) AS DECIMAL(18, 2)) END AS discount,
           -- Square's net sales, and the tax when it comes on top (square_taxed)
           CASE WHEN NOT coalesce(unreadable_amount, false)
                THEN CAST(coalesce(gross, 0) - coalesce(discount, 0) + CASE WHEN tax_on_top THEN tax ELSE 0 END
                          AS DECIMAL(18, 2)) END AS total,
           CASE WHEN NOT coalesce(unreadable_refund, false)
                THEN CAST(refunded + CASE WHEN tax_on_top THEN coalesce(refunded_tax, 0) ELSE 0 END AS DECIMAL(18, 2))
           END AS refunded_amount,
           CASE WHEN NOT has_refund THEN 'paid'
                WHEN coalesce(refunded, 0) + CASE WHEN tax_on_top THEN coalesce(refunded_tax, 0) ELSE 0 END
                     >= coalesce(gross, 0) - coalesce(discount, 0) + CASE WHEN tax_on_top THEN tax ELSE 0 END
                THEN 'refunded'
                ELSE 'partially_refunded' END AS financial_status,
           CAST(NULL AS TIMESTAMP) AS cancelled_at,
           store_id,
           CAST(NULL AS VARCHAR) AS loyalty_card_id,
           CAST(NULL AS VARCHAR) AS raw_email,
           CAST(NULL AS BOOLEAN) AS accepts_marketing,
           list_filter([CASE WHEN unreadable_time THEN 'unreadable_ordered_at' END,
                        CASE WHEN unreadable_amount THEN 'unreadable_line_amount' END,
                        CASE WHEN unreadable_tax THEN 'unreadable_taxes' END,
                        CASE WHEN unreadable_refund THEN 'unreadable_refunded_amount' END,
                        CASE WHEN unknown_zone THEN 'unknown_time_zone' END],
                       lambda f: f IS NOT NULL) AS dq_flags
    FROM square_taxed
),
orders AS (
    SELECT * FROM shopify
    UNION ALL SELECT * EXCLUDE (unreadable_amount, unreadable_time) FROM receipts_read
    UNION ALL SELECT * FROM square
),
emails AS MATERIALIZED (
    SELECT raw_email, std_email(raw_email) AS email
    FROM (SELECT DISTINCT raw_email FROM orders WHERE raw_email IS NOT NULL)
)
SELECT o.order_id,
       'pos' AS source,
       ir.source_record_id,
       o.channel, o.ordered_at,
       -- an unreadable Currency value stays unknown (NULL, flagged), not the warehouse currency (CDP_CURRENCY)
       CASE WHEN list_contains(o.dq_flags, 'unreadable_currency') THEN NULL
            ELSE coalesce(o.currency_code, getvariable('default_currency')) END AS currency,
       TRY_CAST(o.subtotal AS DECIMAL(18, 2)) AS subtotal,
       CAST(o.shipping AS DECIMAL(18, 2)) AS shipping,
       CAST(o.taxes AS DECIMAL(18, 2)) AS taxes,
       CAST(o.discount AS DECIMAL(18, 2)) AS discount,
       TRY_CAST(o.total AS DECIMAL(18, 2)) AS total,
       CAST(o.refunded_amount AS DECIMAL(18, 2)) AS refunded_amount,
       o.financial_status, o.cancelled_at, o.store_id, o.loyalty_card_id, e.email, o.accepts_marketing,
       o.dq_flags
FROM orders o
LEFT JOIN emails e USING (raw_email)
LEFT JOIN staging.identity_records ir ON ir.source = 'pos' AND ir.source_record_id = o.order_id
