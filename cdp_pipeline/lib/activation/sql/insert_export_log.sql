-- Record the files of one export (registered as new_export_log).
INSERT INTO activation.export_log BY NAME SELECT * FROM new_export_log ORDER BY destination, file_kind
