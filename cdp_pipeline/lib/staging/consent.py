"""Consent signals: yes/no fields from CRM exports and SMS keyword replies."""

from __future__ import annotations

from ._common import as_text

_TRUE = frozenset({"yes", "y", "true", "t", "1", "ja", "j", "x", "on", "sant", "subscribed", "opt-in", "opted in"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "nej", "off", "falskt", "unsubscribed", "opt-out", "opted out"})

# Carrier/Twilio opt-out and opt-in keywords. Only a reply that is exactly one
# keyword counts: "STOP PLEASE" is a conversation, not an instruction.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})


def parse_bool(raw: object) -> bool | None:
    """True/False from ``yes/no``, ``true/false``, ``1/0``, ``ja/nej``, ``y/n``, ``x`` (a ticked cell); else None."""
    if isinstance(raw, bool):
        return raw
    text = as_text(raw)
    if text is None:
        return None
    key = text.lower()
    if key in {"1.0", "1,0"}:
        key = "1"
    elif key in {"0.0", "0,0"}:
        key = "0"
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    return None


def sms_keyword(body: object) -> str | None:
    """``opt_out`` / ``opt_in`` when an inbound SMS body is exactly one consent keyword (any case), else None."""
    text = as_text(body)
    if text is None:
        return None
    key = text.upper()
    if key in OPT_OUT_KEYWORDS:
        return "opt_out"
    if key in OPT_IN_KEYWORDS:
        return "opt_in"
    return None
