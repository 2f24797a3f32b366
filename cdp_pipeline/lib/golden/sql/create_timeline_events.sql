-- The timeline rows of every customer of the map (temp macro _golden_timeline_rows), unsorted, as a temp table.
-- Kept apart from the sort that stores them: DuckDB held the six joins' hash tables beside the sort in one
-- statement and ran out of memory (at 1M records a 600MB memory_limit failed); a temp table spills.
CREATE OR REPLACE TEMP TABLE _golden_timeline_events AS
FROM _golden_timeline_rows($cutoff)
