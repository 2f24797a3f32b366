"""Find a customer by any identifier a person might type.

Accepted: a customer_id (``C-…``), also one merged into another customer on a later night
(``identity.id_history``: the customer it now lives on is found), an email in any case, a phone number in any format
(normalised to E.164 by ``cdp_pipeline.lib.staging.phone.standardise_phone`` when
that module is importable, else matched on its digits), a loyalty card, a CRM customer
id, a web user id or cookie, or any identity ``source_record_id`` (``order:#1001``), also
written as ``cdp customer`` shows provenance, ``source:source_record_id`` (``pos:order:#1001``).
Searches ``golden.customers`` (and ``identity.customer_map`` for record ids).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from cdp_pipeline.lib.golden.inputs import table_exists

# The order matches are reported in: the most specific identifier kinds first.
MATCH_KINDS = (
    "customer_id",
    "merged_customer_id",
    "crm_customer_id",
    "loyalty_card_id",
    "email",
    "phone",
    "web_user_id",
    "cookie",
    "source_record_id",
)
_MIN_PHONE_DIGITS = 7
# More merges in a row than any chain of nights makes: a guard against a malformed history.
_MAX_MERGE_HOPS = 1000


@dataclass(frozen=True)
class CustomerMatch:
    customer_id: str
    matched_on: str
    value: str


def normalise_phone(text: str, default_region: str) -> str | None:
    """E.164 via the standardise layer's normaliser when available, else None; ``default_region``
    (``CDP_DEFAULT_REGION``) for a number written without a country code."""
    try:
        from cdp_pipeline.lib.staging.phone import standardise_phone
    except ImportError:
        return None
    try:
        return standardise_phone(text, default_region)
    except Exception:  # a half-written normaliser must not break lookup
        return None


def _phone_digits(text: str) -> str | None:
    """Digits to match the end of an E.164 number with: no separators, no 00/0 prefix."""
    digits = re.sub(r"\D", "", text)
    if digits.startswith("00"):
        digits = digits[2:]
    digits = digits.lstrip("0")
    return digits if len(digits) >= _MIN_PHONE_DIGITS else None


def find_customers(con: duckdb.DuckDBPyConnection, identifier: str, default_region: str) -> list[CustomerMatch]:
    """Every customer the identifier points at, most specific match kind first, no duplicates; a
    phone number without a country code is read as one of ``default_region``."""
    text = (identifier or "").strip()
    if not text or not table_exists(con, "golden", "customers"):
        return []
    email = text.lower()
    e164 = normalise_phone(text, default_region) if re.search(r"\d", text) else None
    digits = _phone_digits(text) if re.fullmatch(r"[\d\s()+.\-/]+", text) else None
    rows = con.execute(
        """
        SELECT customer_id, 'customer_id', customer_id FROM golden.customers WHERE customer_id = $text
        UNION ALL
        SELECT customer_id, 'crm_customer_id', $text FROM golden.customers WHERE list_contains(crm_customer_ids, $text)
        UNION ALL
        SELECT customer_id, 'loyalty_card_id', $text FROM golden.customers WHERE list_contains(loyalty_card_ids, $text)
        UNION ALL
        SELECT customer_id, 'email', $email FROM golden.customers WHERE list_contains(emails, $email) OR list_contains(emails, $text)
        UNION ALL
        SELECT customer_id, 'phone', p FROM (SELECT customer_id, unnest(phones) AS p FROM golden.customers)
        WHERE p = $e164
           OR ($e164 IS NULL AND $digits IS NOT NULL AND regexp_replace(p, '\\D', '', 'g') LIKE '%' || $digits)
        UNION ALL
        SELECT customer_id, 'web_user_id', $text FROM golden.customers WHERE list_contains(web_user_ids, $text)
        UNION ALL
        SELECT customer_id, 'cookie', $text FROM golden.customers WHERE list_contains(cookies, $text)
        """,
        {"text": text, "email": email, "e164": e164, "digits": digits},
    ).fetchall()
    if table_exists(con, "identity", "customer_map"):
        rows += con.execute(
            "SELECT customer_id, 'source_record_id', source || ':' || source_record_id FROM identity.customer_map "
            "WHERE source_record_id = $text OR source || ':' || source_record_id = $text ORDER BY source",
            {"text": text},
        ).fetchall()
    if not rows:
        survivor = surviving_customer_id(con, text)
        if survivor is not None and survivor != text:
            rows.append((survivor, "merged_customer_id", text))
    order = {k: i for i, k in enumerate(MATCH_KINDS)}
    seen: set[str] = set()
    matches: list[CustomerMatch] = []
    for customer_id, kind, value in sorted(rows, key=lambda r: (order[r[1]], r[0])):
        if customer_id not in seen:
            seen.add(customer_id)
            matches.append(CustomerMatch(customer_id, kind, value))
    return matches


def surviving_customer_id(con: duckdb.DuckDBPyConnection, customer_id: str) -> str | None:
    """The current customer a customer id names: itself while it is in ``golden.customers``, else
    the customer it was merged into on a later night, following ``merged`` events of
    ``identity.id_history`` (merged again later: followed on); None for an id never known, or
    retired with all its records (an id names one customer at a time: a merged id comes back only
    to the part of a later split that holds its founding record, and is then current)."""
    # golden.customers has one row per customer of identity.customer_map; without golden (an
    # identity-only warehouse) the map itself says which ids are current.
    if table_exists(con, "golden", "customers"):
        current_sql = "SELECT 1 FROM golden.customers WHERE customer_id = ?"
    elif table_exists(con, "identity", "customer_map"):
        current_sql = "SELECT 1 FROM identity.customer_map WHERE customer_id = ? LIMIT 1"
    else:
        return None
    has_history = table_exists(con, "identity", "id_history")
    current, seen = customer_id, set()
    while current not in seen and len(seen) < _MAX_MERGE_HOPS:
        seen.add(current)
        if con.execute(current_sql, [current]).fetchone():
            return current
        if not has_history:
            return None
        heir = con.execute(
            "SELECT related_customer_id FROM identity.id_history WHERE customer_id = ? AND event = 'merged' "
            'AND related_customer_id IS NOT NULL ORDER BY "at" DESC, run_id DESC LIMIT 1',
            [current],
        ).fetchone()
        if heir is None:
            return None
        current = heir[0]
    return None


def find_customer(con: duckdb.DuckDBPyConnection, identifier: str, default_region: str) -> CustomerMatch | None:
    """The best match (see ``find_customers``), or None when the identifier is unknown."""
    matches = find_customers(con, identifier, default_region)
    return matches[0] if matches else None
