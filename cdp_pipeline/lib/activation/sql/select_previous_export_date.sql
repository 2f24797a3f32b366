-- The destination's last export before this run date (the base of the delta).
SELECT max(run_date) FROM activation.export_log WHERE destination = $destination AND run_date < $run_date
