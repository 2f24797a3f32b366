-- A whole build's timeline rows (temp macro _golden_timeline_rows) sorted and stored in one statement, into the table
-- create_customer_timeline made empty: no temp table of them written and read back (at 1M records 4.4-4.8 CPU s
-- against 5.3-5.8 for create_timeline_events + insert_customer_timeline). Needs the memory for the map's hash table
-- beside the sort (at 1M records a 600MB memory_limit fails, 1GB passes): timeline.py chooses it only when the
-- memory limit is large for the rows.
INSERT INTO golden.customer_timeline BY NAME
FROM _golden_timeline_rows($cutoff)
ORDER BY customer_id, event_time, channel, event_type, event_ref
