-- One destination's rows on the run date against its previous export, by key: kept (same text),
-- added, changed (text differs; exporter decides with diff_rows' value comparison) or removed.
-- $previous_run_date NULL (a first export) matches no rows.
CREATE OR REPLACE TEMP TABLE export_delta AS
SELECT row_key, c.row_values AS current_values, p.row_values AS previous_values,
       CASE WHEN p.row_key IS NULL THEN 'added'
            WHEN c.row_key IS NULL THEN 'removed'
            WHEN c.row_values <> p.row_values THEN 'changed'
            ELSE 'kept' END AS change
FROM (SELECT row_key, row_values FROM activation.export_members
      WHERE destination = $destination AND run_date = $run_date) AS c
FULL JOIN (SELECT row_key, row_values FROM activation.export_members
           WHERE destination = $destination AND run_date = $previous_run_date) AS p USING (row_key)
