-- Store this run's definitions and their status from the registered new_definitions rows.
INSERT INTO segments.definitions BY NAME SELECT * FROM new_definitions ORDER BY segment
