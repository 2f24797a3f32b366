"""Consent per channel (email, SMS): which signal about an address or number is in force.

Every consent signal (``staging.consent_events``) has a *strength*:

========  ==============================  =====================================================
strength  reasons                         meaning
========  ==============================  =====================================================
3         ``unsubscribed``, ``cleaned``,  explicit opt-out: the person (or the ESP, for an
          ``sms_stop``, ``bounce``,       address that bounces) said no. *Protected.*
          ``klaviyo_unsubscribed``,
          ``klaviyo_suppressed``,
          ``klaviyo_suppression``,
          ``crm_unsubscribed``
2         ``subscribed``, ``sms_start``,  explicit choice: a confirmed subscription, an SMS
          ``crm_opt_in``, ``crm_opt_out``  START/YES, a consent field staff recorded in the CRM,
          ``nonsubscribed``               an ESP member who never opted in; Klaviyo's
                                          ``klaviyo_subscribed``, ``klaviyo_never_subscribed``,
                                          ``klaviyo_consent`` likewise
1         ``accepts_marketing``           implied: a checkout's marketing tick box
========  ==============================  =====================================================

Unknown reasons count as strength 2.

Precedence: the latest signal wins (an opt-out wins a tie on time), except that a
*protected* opt-out is not overridden by an older signal (trivially: it is later) nor
by a weaker one: an implied grant (strength 1) made while the latest explicit signal is
a protected opt-out is ignored. So a later Shopify "Accepts Marketing = yes" does not
re-grant an email the person unsubscribed; a later explicit subscribe (or SMS START)
does.

The consent ledger (``golden.identifier_consent``, ``create_identifier_consent.sql``) applies
it per *identifier* (channel, standardised address or E.164 number) over every signal about
it, whichever customer identity resolution put it on, plus the ESP's bounces
(``staging.email_activity``) and HubSpot's bounce columns (reason ``bounce`` in
``staging.consent_events``). An opt-out dated after the night's cutoff counts at the cutoff.
The result per identifier is ``granted`` or ``revoked``, with the time and source of the
deciding signal; a revoked identifier is *blocked*.

The ledger is the one source of truth: a customer's ``email_consent`` / ``sms_consent``
(with ``_at`` and ``_source``) in ``golden.customers`` are the ledger's row of the customer's
golden email and phone (``unknown`` without one), and ``*_contactable`` is that row granted
(``create_golden_customer_rows.sql``). Segments read those columns; the export gate blanks a
blocked identifier and the export check rejects one. Survivorship prefers a granted address
or number to one without a ledger row, and that to a blocked one (``prefer_contactable``). An
unsubscribe is about an address, so a wrong split or merge of people cannot send it again.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.sql_files import run_sql

SQL_DIR = Path(__file__).parent / "sql"


PROTECTED = 3
EXPLICIT = 2
IMPLIED = 1

CONSENT_STRENGTH: dict[str, int] = {
    "unsubscribed": PROTECTED,
    "cleaned": PROTECTED,
    "sms_stop": PROTECTED,
    "subscribed": EXPLICIT,
    "sms_start": EXPLICIT,
    "crm_opt_in": EXPLICIT,
    "crm_opt_out": EXPLICIT,
    # the ESP knows the address but it never opted in (Mailchimp "nonsubscribed")
    "nonsubscribed": EXPLICIT,
    # an ESP bounce (staging.email_activity), or HubSpot's bounce/quarantine columns (in
    # staging.consent_events with this reason): not a consent decision of the person, but the
    # address is blocked (golden.identifier_consent, and so the customer's email_consent) until a
    # later explicit grant of it
    "bounce": PROTECTED,
    "accepts_marketing": IMPLIED,
    # Klaviyo's Email/SMS Marketing Consent states (staging.consent_events): SUPPRESSED is
    # Klaviyo's own block after a bounce or spam complaint
    "klaviyo_unsubscribed": PROTECTED,
    "klaviyo_suppressed": PROTECTED,
    # Klaviyo's Email Suppressions column (unsubscribe, spam report, hard bounce, suppressed by
    # the account): Klaviyo itself will not send to the address
    "klaviyo_suppression": PROTECTED,
    # a CRM export's own opt-out flag (HubSpot "Unsubscribed from all email", Square "Email
    # Unsubscribed"): the person unsubscribed, as a Mailchimp unsubscribe
    "crm_unsubscribed": PROTECTED,
    "klaviyo_subscribed": EXPLICIT,
    "klaviyo_never_subscribed": EXPLICIT,
    # the channels listed in Klaviyo's Consent column
    "klaviyo_consent": EXPLICIT,
}
DEFAULT_STRENGTH = EXPLICIT


def consent_params(cutoff) -> dict:
    return {
        "cutoff": cutoff,
        "default_strength": DEFAULT_STRENGTH,
        "explicit_strength": EXPLICIT,
        "protected_strength": PROTECTED,
    }


def consent_strengths(con: duckdb.DuckDBPyConnection) -> str:
    """Temp table ``_golden_consent_strengths(reason, strength)`` from ``CONSENT_STRENGTH``; its name."""
    reasons = sorted(CONSENT_STRENGTH)
    run_sql(
        con,
        SQL_DIR,
        "create_consent_strengths",
        {"reasons": reasons, "strengths": [CONSENT_STRENGTH[r] for r in reasons]},
    )
    return "_golden_consent_strengths"


LEDGER_TABLE = "golden.identifier_consent"


def identifier_signals(con: duckdb.DuckDBPyConnection, tables: dict[str, str]) -> None:
    """Temp macro ``_golden_identifier_signals(cutoff, ...)``: every signal about an identifier, the ledger's input."""
    run_sql(
        con,
        SQL_DIR,
        "create_identifier_signals_macro",
        consent_events=tables["consent_events"],
        email_activity=tables["email_activity"],
        strengths=consent_strengths(con),
    )


def identifier_hashes(con: duckdb.DuckDBPyConnection, tables: dict[str, str], cutoff) -> None:
    """Create temp table ``_golden_identifier_hashes``: per (channel, identifier), the number and a
    hash of its signals before ``cutoff``, which alone decide its ledger row (``incremental.py``
    settles again only the identifiers whose hash changed since the kept build)."""
    identifier_signals(con, tables)
    run_sql(con, SQL_DIR, "create_identifier_hashes", consent_params(cutoff))


def build_identifier_consent(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, str],
    cutoff,
    keys: str | None = None,
    *,
    ledger: bool = False,
) -> None:
    """Create temp table ``_golden_identifier_consent``: the consent ledger as of ``cutoff``, one
    row per (channel, identifier) with its deciding signal and whether it is blocked; only of the
    identifiers in the table ``keys`` (channel, identifier) when given. With ``ledger`` (a whole
    build), create ``golden.identifier_consent`` itself instead."""
    identifier_signals(con, tables)
    run_sql(
        con,
        SQL_DIR,
        "create_identifier_consent",
        consent_params(cutoff),
        table=f"TABLE {LEDGER_TABLE}" if ledger else "TEMP TABLE _golden_identifier_consent",
        restrict=(
            f"AS l SEMI JOIN {keys} AS lk ON lk.channel IS NOT DISTINCT FROM l.channel AND lk.identifier = l.identifier"
            if keys
            else ""
        ),
    )
