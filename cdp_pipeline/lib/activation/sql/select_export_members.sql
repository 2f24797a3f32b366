-- The rows of one destination's export on one date.
SELECT row_key, row_values FROM activation.export_members
WHERE destination = $destination AND run_date = $run_date ORDER BY row_key
