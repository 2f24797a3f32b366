-- Erasures executed since a landing day's files were last loaded: a reload of the day would count the erased rows as suppressed at ingest, not as erased.
SELECT count(*)
FROM audit.erasure_log
WHERE executed_at >= (SELECT min(loaded_at) FROM audit.files WHERE landing_date = CAST($landing_date AS DATE))
