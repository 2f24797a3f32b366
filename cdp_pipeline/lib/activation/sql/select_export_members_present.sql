-- Whether the destination has rows stored for the run date, and whether tonight has rows (temp table
-- export_rows): a night's first export of a date stores no rows yet, and is a change unless both are
-- empty, which select_export_members_unchanged.sql need not compare row by row.
SELECT EXISTS (SELECT 1 FROM activation.export_members WHERE destination = $destination AND run_date = $run_date),
       EXISTS (SELECT 1 FROM export_rows)
