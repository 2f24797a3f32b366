-- Orders from both channels: Shopify online orders (grouped by Name), store receipts and Square's item sales.
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
shopify AS (
    SELECT 'order:' || trim(name) AS order_id,
           'online' AS channel,
           std_timestamp(first(created_at ORDER BY _line) FILTER (WHERE nullif(trim(created_at), '') IS NOT NULL), NULL) AS ordered_at,
           -- the Currency column, else the symbol or code written with the total ($1,240.00 is USD)
           -- (docs/sources.md "Money"); neither is SEK (below)
           coalesce(upper(first(currency ORDER BY _line) FILTER (WHERE nullif(trim(currency), '') IS NOT NULL)),
                    std_currency(first(coalesce(nullif(trim(total), ''), nullif(trim(subtotal), '')) ORDER BY _line)
                                     FILTER (WHERE coalesce(nullif(trim(total), ''), nullif(trim(subtotal), '')) IS NOT NULL),
                                 'SEK')) AS currency_code,
           std_money(first(subtotal ORDER BY _line) FILTER (WHERE nullif(trim(subtotal), '') IS NOT NULL)) AS subtotal,
           std_money(first(shipping ORDER BY _line) FILTER (WHERE nullif(trim(shipping), '') IS NOT NULL)) AS shipping,
           std_money(first(taxes ORDER BY _line) FILTER (WHERE nullif(trim(taxes), '') IS NOT NULL)) AS taxes,
           -- Shopify's Subtotal is after this discount, and the lines' Lineitem discount add up to it
           std_money(first(discount_amount ORDER BY _line) FILTER (WHERE nullif(trim(discount_amount), '') IS NOT NULL)) AS discount,
           std_money(first(total ORDER BY _line) FILTER (WHERE nullif(trim(total), '') IS NOT NULL)) AS total,
           std_money(first(refunded_amount ORDER BY _line) FILTER (WHERE nullif(trim(refunded_amount), '') IS NOT NULL)) AS refunded_amount,
           lower(first(financial_status ORDER BY _line) FILTER (WHERE nullif(trim(financial_status), '') IS NOT NULL)) AS financial_status,
           std_timestamp(first(cancelled_at ORDER BY _line) FILTER (WHERE nullif(trim(cancelled_at), '') IS NOT NULL), NULL) AS cancelled_at,
           CAST(NULL AS VARCHAR) AS store_id,
           CAST(NULL AS VARCHAR) AS loyalty_card_id,
           first(email ORDER BY _line) FILTER (WHERE nullif(trim(email), '') IS NOT NULL) AS raw_email,
           std_bool(first(accepts_marketing ORDER BY _line) FILTER (WHERE nullif(trim(accepts_marketing), '') IS NOT NULL)) AS accepts_marketing
    FROM shopify_rows
    GROUP BY trim(name)
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
    -- over every line) and joined back by it.
    SELECT r.* FROM temp.raw_pos_receipts r
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
           min(nullif(trim(l.loyalty_card_id), '')) AS loyalty_card_id
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
           'SEK' AS currency_code,
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
           std_iana_zone(r.time_zone) AS tz
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
           std_currency(min(nullif(trim(s.gross_sales), '')), 'SEK') AS currency_code,
           sum(std_money(s.gross_sales)) FILTER (WHERE NOT s.refund) AS gross,
           sum(abs(std_money(s.discounts))) FILTER (WHERE NOT s.refund) AS discount,
           sum(std_money(s.tax)) FILTER (WHERE NOT s.refund) AS tax,
           -- a refund's net amount (its Net Sales, else its Gross Sales), as a positive sum
           abs(sum(coalesce(std_money(s.net_sales), std_money(s.gross_sales))) FILTER (WHERE s.refund)) AS refunded,
           bool_or(s.refund) AS has_refund,
           min(nullif(trim(s.location), '')) AS store_id
    FROM square_rows s
    LEFT JOIN square_times t ON t.ts_local = s.ts_local AND t.tz IS NOT DISTINCT FROM s.tz
    GROUP BY s.order_id
),
square AS (
    SELECT order_id,
           'store' AS channel,
           -- the sale's time; a transaction of refund rows alone is dated by its refund
           coalesce(sold_at, first_at) AS ordered_at,
           currency_code,
           CAST(coalesce(gross, 0) AS DECIMAL(18, 2)) AS subtotal,
           CAST(0 AS DECIMAL(18, 2)) AS shipping,
           CAST(tax AS DECIMAL(18, 2)) AS taxes,
           CAST(coalesce(discount, 0) AS DECIMAL(18, 2)) AS discount,
           -- Square's net sales; its Tax is kept in taxes, not added (a US sales tax comes on top)
           CAST(coalesce(gross, 0) - coalesce(discount, 0) AS DECIMAL(18, 2)) AS total,
           CAST(refunded AS DECIMAL(18, 2)) AS refunded_amount,
           CASE WHEN NOT has_refund THEN 'paid'
                WHEN coalesce(refunded, 0) >= coalesce(gross, 0) - coalesce(discount, 0) THEN 'refunded'
                ELSE 'partially_refunded' END AS financial_status,
           CAST(NULL AS TIMESTAMP) AS cancelled_at,
           store_id,
           CAST(NULL AS VARCHAR) AS loyalty_card_id,
           CAST(NULL AS VARCHAR) AS raw_email,
           CAST(NULL AS BOOLEAN) AS accepts_marketing
    FROM square_sums
),
orders AS (
    SELECT * FROM shopify
    UNION ALL SELECT * FROM receipts
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
       coalesce(o.currency_code, 'SEK') AS currency,
       TRY_CAST(o.subtotal AS DECIMAL(18, 2)) AS subtotal,
       CAST(o.shipping AS DECIMAL(18, 2)) AS shipping,
       CAST(o.taxes AS DECIMAL(18, 2)) AS taxes,
       CAST(o.discount AS DECIMAL(18, 2)) AS discount,
       TRY_CAST(o.total AS DECIMAL(18, 2)) AS total,
       CAST(o.refunded_amount AS DECIMAL(18, 2)) AS refunded_amount,
       o.financial_status, o.cancelled_at, o.store_id, o.loyalty_card_id, e.email, o.accepts_marketing
FROM orders o
LEFT JOIN emails e USING (raw_email)
LEFT JOIN staging.identity_records ir ON ir.source = 'pos' AND ir.source_record_id = o.order_id
