-- Rewind (1/2): forget stays that began on or after the run date, so a rerun starts clean.
DELETE FROM segments.history WHERE entered_at >= $run_date
