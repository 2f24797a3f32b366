"""Where every raw message and web event went: no row may leave raw without a reason.

The raw ledger balances rows read against rows loaded and quarantined; these figures carry
the same promise on into staging. Every SMS/WhatsApp row is a staged message (a redelivery of
one counts once); every GA4 row is a staged event (duplicates count once) or a consent-mode
ping without a cookie, which is counted, not staged (it belongs to no visitor).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import query_sql
from cdp_pipeline.lib.common.warehouse import table_exists

SQL_DIR = Path(__file__).resolve().parent / "sql"


def _figures(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, int]:
    names, rows = query_sql(con, SQL_DIR, name)
    return {n: int(v) for n, v in zip(names, rows[0])}


def sms_message_accounting(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """``raw_rows``, ``messages`` (distinct), ``staged``, ``missing`` (raw messages not in
    staging: must be 0), ``redeliveries``, ``other_channels`` (WhatsApp…), ``unreadable_number``."""
    if not (table_exists(con, "raw", "sms_messages") and table_exists(con, "staging", "sms_messages")):
        return {}
    # First the counts and hash sums of the raw rows' distinct keys and of the staged keys: when they
    # agree (no staged key NULL), every raw message is staged and none is missing, without looking
    # each one up (0.19-0.22 -> 0.12-0.14 CPU s at 1M records). As with the identity map's coverage
    # and golden's timeline check, two different key sets of equal size whose 64-bit hashes sum to
    # the same HUGEINT would pass; any other difference is counted message by message below.
    fp = _figures(con, "select_sms_message_fingerprints")
    if (
        fp["messages"] == fp["staged"]
        and fp["message_hash_sum"] == fp["staged_hash_sum"]
        and fp["staged_null_keys"] == 0
    ):
        f = {
            k: fp.get(k, 0)
            for k in ("raw_rows", "messages", "staged", "missing", "other_channels", "unreadable_number")
        }
    else:
        f = _figures(con, "select_sms_message_accounting")
    f["redeliveries"] = f["raw_rows"] - f["messages"]
    return f


def web_event_accounting(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """``raw_rows``, ``cookieless_pings`` (consent mode: counted, not staged), ``staged``,
    ``missing`` (raw events with a cookie not in staging: must be 0), ``duplicates``."""
    if not (table_exists(con, "raw", "web_events") and table_exists(con, "staging", "web_events")):
        return {}
    f = _figures(con, "select_web_event_accounting")
    f["duplicates"] = f["raw_rows"] - f["cookieless_pings"] - f["staged"]
    return f
