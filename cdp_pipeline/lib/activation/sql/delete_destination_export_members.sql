-- A rerun of a date replaces that destination's rows for the date.
DELETE FROM activation.export_members WHERE destination = $destination AND run_date = $run_date
