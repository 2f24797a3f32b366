-- Whether the destination's stored rows for the run date are exactly the rows insert_export_members would store from tonight's (temp table export_rows): a rerun of the date that changes nothing then writes nothing.
WITH tonight AS (
    SELECT customer_id, row_key, row_values, sent_email, sent_phone
    FROM export_rows
    QUALIFY row_number() OVER (PARTITION BY row_key ORDER BY customer_id) = 1
),
stored AS (
    SELECT customer_id, row_key, row_values, sent_email, sent_phone
    FROM activation.export_members
    WHERE destination = $destination AND run_date = $run_date
)
SELECT (SELECT count(*) FROM tonight) = (SELECT count(*) FROM stored)
       AND NOT EXISTS (SELECT * FROM tonight EXCEPT ALL SELECT * FROM stored)
