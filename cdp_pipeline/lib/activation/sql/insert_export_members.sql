-- Store the rows built for one destination (temp table export_rows): one row per key, as two
-- customers sharing an identifier are one contact downstream (the lowest customer_id keeps it).
INSERT INTO activation.export_members BY NAME
SELECT $destination AS destination, $run_date::DATE AS run_date, customer_id, row_key, row_values,
       sent_email, sent_phone
FROM export_rows
QUALIFY row_number() OVER (PARTITION BY row_key ORDER BY customer_id) = 1
ORDER BY row_key
