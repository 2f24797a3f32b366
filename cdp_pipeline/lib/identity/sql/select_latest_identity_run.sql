-- The latest identity run's ID churn figures (what the churn check judges).
SELECT run_id, "at", records, customers, previous_records, records_still_present, records_changed_id,
       id_change_share, created, merged, split, retired
FROM identity.runs
ORDER BY "at" DESC, run_id DESC
LIMIT 1
