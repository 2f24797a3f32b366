"""Which landing days a night that found no new files loads again: none whose files are as loaded.

`cdp run` with no new or changed landing file runs the night over the latest landing day (so that
every layer downstream still runs as of it). Loading that day again would delete its raw rows,
ledger entries and quarantine rows and parse its files once more, to write the same rows with a
new ``_loaded_at``, and make staging rebuild every key the day's rows carry (at 155,000 customers
× 90 days about a percent of every table). A day is loaded again anyway when what its reload would
write could differ from what is there:

- a file of the day was added, removed, resized or modified since its load (``changed_days``, the
  test ``cdp run`` itself chose its days by; a file may have landed since);
- someone was erased since the day was loaded: the reload counts their rows in the ledger as
  suppressed at ingest rather than erased (``lib/raw/load.py``).

A change of the raw layer's own code is not one of them: raw keeps each day as it was read, and a
day is read again by ``cdp run --day``, the schedule's three-day window or ``--full-refresh``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import fetch_sql
from cdp_pipeline.lib.common.warehouse import table_exists
from cdp_pipeline.lib.raw import ledger
from cdp_pipeline.lib.raw.landing import changed_days


def days_to_reload(con: duckdb.DuckDBPyConnection, landing_dir: Path, days: list[str]) -> list[str]:
    """The days of ``days`` (``YYYY-MM-DD``) that a night with no new files must load again."""
    if not table_exists(con, "audit", "files"):
        return list(days)
    entries = ledger.ledger_entries_of(con)
    loaded = {str(d)[:10] for _, d, _, _ in entries}
    changed = set(changed_days(landing_dir, entries))
    erasures = table_exists(con, "audit", "erasure_log")
    return [
        day
        for day in days
        if day not in loaded
        or day in changed
        or (erasures and fetch_sql(con, ledger.SQL_DIR, "count_erasures_since_load", {"landing_date": day})[0][0])
    ]
