-- A rerun of a date replaces that destination's log entries for the date.
DELETE FROM activation.export_log WHERE destination = $destination AND run_date = $run_date
