-- The files of each destination's latest export, for the consent check.
SELECT l.destination, l.kind, l.run_date, l.file_kind, l.path, l.rows, l.sha256, l.segments, l.required_consent
FROM activation.export_log AS l
WHERE l.run_date = (SELECT max(run_date) FROM activation.export_log AS x WHERE x.destination = l.destination)
ORDER BY l.destination, l.file_kind
