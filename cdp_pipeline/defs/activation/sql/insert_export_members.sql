-- Store the rows built for one destination (registered as new_export_members).
INSERT INTO activation.export_members BY NAME SELECT * FROM new_export_members ORDER BY destination, row_key
