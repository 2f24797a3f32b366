"""Consent per channel (email, SMS): which of a customer's signals is in force.

Every consent signal (``staging.consent_events``) has a *strength*:

========  ==============================  =====================================================
strength  reasons                         meaning
========  ==============================  =====================================================
3         ``unsubscribed``, ``cleaned``,  explicit opt-out: the person (or the ESP, for an
          ``sms_stop``                    address that bounces) said no. *Protected.*
2         ``subscribed``, ``sms_start``,  explicit choice: a confirmed subscription, an SMS
          ``crm_opt_in``, ``crm_opt_out``  START/YES, a consent field staff recorded in the CRM
1         ``accepts_marketing``           implied: a checkout's marketing tick box
========  ==============================  =====================================================

Unknown reasons count as strength 2.

Precedence: the latest signal wins (an opt-out wins a tie on time), except that a
*protected* opt-out is not overridden by an older signal (trivially: it is later) nor
by a weaker one: an implied grant (strength 1) made while the latest explicit signal is
a protected opt-out is ignored. So a later Shopify "Accepts Marketing = yes" does not
re-grant an email the person unsubscribed; a later explicit subscribe (or SMS START)
does. The answer is per person and channel over all of the customer's records.

The result per channel is ``granted``, ``revoked`` or ``unknown`` (no signal), with the
time and source of the winning signal; computed in one set-based statement
(``create_customer_consent.sql``).
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.golden._sql import run_golden_sql

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
    "accepts_marketing": IMPLIED,
}
DEFAULT_STRENGTH = EXPLICIT


def consent_params(cutoff) -> dict:
    return {"cutoff": cutoff, "default_strength": DEFAULT_STRENGTH, "explicit_strength": EXPLICIT,
            "protected_strength": PROTECTED}


def build_consent(con: duckdb.DuckDBPyConnection, tables: dict[str, str], cutoff,
                  target: str = "_golden_consent") -> None:
    """Create temp table ``_golden_consent``: per customer, email_/sms_ consent, _at, _source."""
    reasons = sorted(CONSENT_STRENGTH)
    run_golden_sql(con, "create_consent_strengths",
                   {"reasons": reasons, "strengths": [CONSENT_STRENGTH[r] for r in reasons]})
    run_golden_sql(con, "create_customer_consent", consent_params(cutoff),
                   consent_events=tables["consent_events"], customer_map=tables["customer_map"],
                   strengths="_golden_consent_strengths")
