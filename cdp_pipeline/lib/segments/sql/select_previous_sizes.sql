-- Sizes at the last run before this one, for the change since the previous run.
SELECT segment, members FROM segments.sizes
WHERE run_date = (SELECT max(run_date) FROM segments.sizes WHERE run_date < $run_date)
ORDER BY segment
