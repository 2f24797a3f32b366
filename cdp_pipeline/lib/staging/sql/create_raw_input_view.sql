-- What a staging statement reads as temp.raw_<table>: the raw table for a whole build, the
-- affected keys' rows for a keyed one (lib/staging/incremental.py).
CREATE OR REPLACE TEMP VIEW raw_{table} AS SELECT * FROM {relation}
