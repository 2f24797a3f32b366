"""Consent signals: yes/no fields from CRM exports and SMS keyword replies."""

from __future__ import annotations

import re
import unicodedata

from ._common import as_text

_TRUE = frozenset({"yes", "y", "true", "t", "1", "ja", "j", "x", "on", "sant", "subscribed", "opt-in", "opted in"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "nej", "off", "falskt", "unsubscribed", "opt-out", "opted out"})

# SMS consent keywords, compared in a compact form: upper case, accents and every character that
# is not a letter or digit dropped (so `opt-out`, `Opt out`, `OPTOUT` and `STOP ALL`/`STOPALL`
# are one key each). Sources:
# - Twilio's default opt-out keywords (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE,
#   OPTOUT) and opt-in keywords (START, YES, UNSTOP): twilio.com/docs/messaging/tutorials/advanced-opt-out,
#   help.twilio.com "Twilio support for opt-out keywords (SMS STOP filtering)"; Braze and AWS End
#   User Messaging list the same STOP/START families.
# - The FCC's 2024 revocation order (FCC 24-18, in force 2025-04-11): a reply "stop", "quit",
#   "end", "revoke", "opt out", "cancel" or "unsubscribe" is a reasonable revocation; and natural
#   language revocations count on the totality of the circumstances.
# - AWS End User Messaging's required opt-out keywords (docs.aws.amazon.com/sms-voice/latest/userguide/
#   keywords-required.html): also OPT-OUT, REMOVE, ARRET and TD (French Canada).
# - Telnyx's defaults: STOP ALL written in two words (developers.telnyx.com, advanced opt-in/out).
# - Nordic: STOPP, the Norwegian and Swedish STOP (EnableX's Norway rules: "STOP or STOPP" opts
#   out; Oracle Bronto's short-code STOP message: "Norwegian: STOPP"; the Swedish MORGAN code of
#   conduct shows STOPP as the opt-out word) and the Swedish AVSLUTA ("end"; sent.dm's Sweden guide
#   lists STOP, STOPP and AVSLUTA).
OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "REMOVE", "ARRET", "TD"}
    | {"STOPP", "AVSLUTA"}
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
# Words that only soften an opt-out ("STOP PLEASE", "Please stop", "Stopp tack", "Unsubscribe me"):
# an opt-out keyword with nothing else than these is an opt-out. Twilio and Braze would pass such a
# reply on as a conversation, but the FCC counts a plain-language revocation, and a false opt-out
# costs one contact where a missed one is a breach. An opt-in is never widened this way: a grant
# counts only when it is the keyword alone ("YES PLEASE" to an offer is a conversation).
_COURTESY_WORDS = frozenset(
    {"PLEASE", "PLS", "PLZ", "THANKS", "THANK", "YOU", "THX", "NOW", "ME", "TACK", "TAKK", "TAK", "KIITOS"}
)
_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")


def sms_keyword_words(body: object) -> list[str]:
    """The words of an SMS body as keywords are compared: compatibility-normalised (full-width and
    ligature letters), accents dropped, upper case, split on every run of other characters."""
    text = as_text(body)
    if text is None:
        return []
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    return _NOT_ALNUM.sub(" ", text).split()


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
    """``opt_out`` / ``opt_in`` when an inbound SMS body is a consent keyword, else None.

    Case, surrounding punctuation, accents and the spaces or hyphens inside a keyword do not matter
    (``Stop!``, ``opt-out``, ``STOP ALL``, ``Stopp.``); an opt-out keyword may come with courtesy words
    (``STOP PLEASE``) or be repeated (``STOP STOP``); an opt-in keyword must stand alone."""
    words = sms_keyword_words(body)
    if not words:
        return None
    if "".join(words) in OPT_IN_KEYWORDS:
        return "opt_in"
    rest = [w for w in words if w not in _COURTESY_WORDS]
    if rest and ("".join(rest) in OPT_OUT_KEYWORDS or all(w in OPT_OUT_KEYWORDS for w in rest)):
        return "opt_out"
    return None
