-- Rows of the full file and of each kind of change, for the manifest.
SELECT count(current_values), count(*) FILTER (change = 'added'), count(*) FILTER (change = 'changed'),
       count(*) FILTER (change = 'removed')
FROM export_delta
