"""``golden.customer_timeline``: every interaction of every customer, on every channel.

One row per staging event of a mapped record, before the as-of cutoff:

===============  ===========  ======================================  ===========================
staging table    channel      event_type                              event_ref
===============  ===========  ======================================  ===========================
orders           online/store ``online_order`` / ``store_receipt``    ``order_id``
email_activity   email        ``email_open|email_click|email_bounce`` ``activity_id``
sms_messages     sms/whatsapp ``<channel>_inbound|_outbound``         ``message_id``
web_sessions     web          ``web_session``                         ``session_id``
web_events       web          ``add_to_cart``, ``purchase``, ``login``  ``event_id``
consent_events   email/sms    ``consent_granted|consent_revoked``     ``consent|channel|identifier|state|reason|time``
===============  ===========  ======================================  ===========================

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
    build, which deleted their old rows). Both read the rows of one table macro, stored first
    as a temp table."""
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
    # the rows first, then the sort that stores them: two statements, each of which spills
    run_sql(con, SQL_DIR, "create_timeline_events", {"cutoff": cutoff})
    if not insert:
        run_sql(con, SQL_DIR, "create_customer_timeline")
    run_sql(con, SQL_DIR, "insert_customer_timeline")
    con.execute("DROP TABLE temp._golden_timeline_events")
