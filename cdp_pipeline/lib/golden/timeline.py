"""``golden.customer_timeline``: every interaction of every customer, on every channel.

One row per staging event of a mapped record, before the as-of cutoff:

===============  ===========  ======================================  ===========================
staging table    channel      event_type                              event_ref
===============  ===========  ======================================  ===========================
orders           online/store ``online_order`` / ``store_receipt``    ``order_id``
email_activity   email        ``email_<action>`` (below)              ``activity_id``
sms_messages     sms/whatsapp ``<channel>_inbound|_outbound``         ``message_id``
web_sessions     web          ``web_session``                         ``session_id``
web_events       web          ``add_to_cart``, ``purchase``, ``login``  ``event_id``
consent_events   email/sms    ``consent_granted|consent_revoked``     ``consent|channel|identifier|state|reason|time``
===============  ===========  ======================================  ===========================

An ESP activity's type is ``email_open``, ``email_privacy_open`` (an open the ESP marks as Apple Mail Privacy
Protection's: not counted as engagement), ``email_click`` or ``email_bounce``.
Web events other than the key events are summarised by their session. Consent events
have no id of their own, so their ``event_ref`` is built from their fields. Events
without a time cannot be placed on a timeline and are left out.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import run_sql

SQL_DIR = Path(__file__).parent / "sql"
_EVENT_TABLES = ("orders", "email_activity", "sms_messages", "web_sessions", "web_events", "consent_events")


def build_timeline(con: duckdb.DuckDBPyConnection, tables: dict[str, str], cutoff, *, insert: bool = False) -> None:
    """(Re)create ``golden.customer_timeline`` from the staging event tables; with ``insert``,
    add the rows of the records of ``tables['customer_map']`` to it instead (an incremental
    build, which deleted their old rows). Both read the rows of one table macro: a whole build
    sorts and stores them in one statement when the memory limit is large for its input rows,
    otherwise (and always in an incremental build) they are stored first as a temp table, which
    spills, then sorted into the timeline."""
    events = {k: tables[k] for k in _EVENT_TABLES}
    if insert:
        # The macro joins the map once, after formatting every event's summary: right for a whole
        # build (one hash join instead of one per event table), wasteful for the few records of an
        # incremental one, whose event tables are first cut to their records.
        events = {
            k: f"(FROM {t} SEMI JOIN {tables['customer_map']} USING (source, source_record_id))"
            for k, t in events.items()
        }
    run_sql(con, SQL_DIR, "create_timeline_rows_macro", customer_map=tables["customer_map"], **events)
    if not insert:
        run_sql(con, SQL_DIR, "create_customer_timeline")
        if _memory_for_one_statement(con, tables):
            run_sql(con, SQL_DIR, "insert_customer_timeline_rows", {"cutoff": cutoff})
            return
    # the rows first, then the sort that stores them: two statements, each of which spills
    run_sql(con, SQL_DIR, "create_timeline_events", {"cutoff": cutoff})
    run_sql(con, SQL_DIR, "insert_customer_timeline")
    con.execute("DROP TABLE temp._golden_timeline_events")


# Bytes of memory_limit per input row (event tables and map) above which a whole build sorts and stores the
# timeline in one statement (insert_customer_timeline_rows.sql). At 1M records (4.69M input rows) that statement
# fails at a 600MB limit (~130 bytes a row) and passes at 1GB (~230): 500 leaves twice that, so the night's
# default 4GB takes it up to about 8M input rows (1.7M records), and a 10M-record night keeps the two statements.
_BYTES_PER_ROW_FOR_ONE_STATEMENT = 500
_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "KB": 10**3, "MB": 10**6, "GB": 10**9}


def memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The connection's memory_limit in bytes (0 when DuckDB shows it in a form not known here)."""
    number, _, unit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0].partition(" ")
    try:
        return int(float(number) * _UNITS[unit])
    except (KeyError, ValueError):
        return 0


def _memory_for_one_statement(con: duckdb.DuckDBPyConnection, tables: dict[str, str]) -> bool:
    rows = con.execute(
        "SELECT " + " + ".join(f"(SELECT count(*) FROM {tables[k]})" for k in (*_EVENT_TABLES, "customer_map"))
    ).fetchone()[0]
    return memory_limit_bytes(con) >= _BYTES_PER_ROW_FOR_ONE_STATEMENT * rows
