-- Rewind (2/2): reopen stays that ended on or after the run date.
UPDATE segments.history SET exited_at = NULL WHERE exited_at >= $run_date
