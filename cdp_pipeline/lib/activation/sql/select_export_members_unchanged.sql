-- Whether the destination's stored rows for the run date are exactly the rows insert_export_members would
-- store from tonight's (temp table export_rows): a rerun of the date that changes nothing then writes
-- nothing. Tonight's rows are one per key, so the two sides are paired by key (a hash join on the key
-- alone, not on every column as EXCEPT ALL did: a third of the CPU at 1M records): equal when every pair
-- has both sides with the same values and the pairs are as many as tonight's rows (a key stored twice
-- makes more pairs).
WITH tonight AS (
    SELECT customer_id, row_key, row_values, sent_email, sent_phone
    FROM export_rows
    QUALIFY row_number() OVER (PARTITION BY row_key ORDER BY customer_id) = 1
),
stored AS (
    SELECT customer_id, row_key, row_values, sent_email, sent_phone
    FROM activation.export_members
    WHERE destination = $destination AND run_date = $run_date
),
compared AS (
    SELECT count(*) AS pairs,
           count(*) FILTER (WHERE t.row_key IS NULL OR s.row_key IS NULL
                              OR t.customer_id IS DISTINCT FROM s.customer_id
                              OR t.row_values IS DISTINCT FROM s.row_values
                              OR t.sent_email IS DISTINCT FROM s.sent_email
                              OR t.sent_phone IS DISTINCT FROM s.sent_phone) AS differing
    FROM tonight AS t FULL JOIN stored AS s ON t.row_key IS NOT DISTINCT FROM s.row_key
)
SELECT differing = 0 AND pairs = (SELECT count(*) FROM tonight) FROM compared
