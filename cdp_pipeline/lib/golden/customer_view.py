"""The single customer view of one person, for ``cdp customer IDENTIFIER [--json]``.

``customer_profile(con, identifier, default_region=...)`` returns a JSON-ready dict (or None for an
unknown identifier); ``format_profile(profile)`` renders it for a terminal.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import duckdb

from cdp_pipeline.lib.golden.inputs import table_exists
from cdp_pipeline.lib.golden.lookup import find_customers
from cdp_pipeline.lib.golden.survivorship import SURVIVED_ATTRIBUTES

IDENTIFIER_LISTS = ("emails", "phones", "loyalty_card_ids", "crm_customer_ids", "web_user_ids", "cookies", "sources")
CONSENT_COLUMNS = (
    "email_consent",
    "email_consent_at",
    "email_consent_source",
    "sms_consent",
    "sms_consent_at",
    "sms_consent_source",
    "email_contactable",
    "sms_contactable",
)
_RECORD_COLUMNS = (
    "record_time",
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "birth_date",
    "loyalty_card_id",
    "crm_customer_id",
    "web_user_id",
    "dq_flags",
)
DEFAULT_TIMELINE_LIMIT = 20


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _rows(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [{n: _plain(v) for n, v in zip(names, row)} for row in cursor.fetchall()]


def customer_profile(
    con: duckdb.DuckDBPyConnection,
    identifier: str,
    *,
    default_region: str,
    timeline_limit: int = DEFAULT_TIMELINE_LIMIT,
) -> dict | None:
    """Everything known about the customer an identifier points at; None when unknown. A phone
    number without a country code is read as one of ``default_region`` (``CDP_DEFAULT_REGION``).

    Keys: customer_id, matched_on, matched_value, other_matches (other customers the same
    identifier points at), as_of_date, attributes, provenance, identifiers, consent, traits,
    source_records, timeline (latest first, at most ``timeline_limit``).
    """
    matches = find_customers(con, identifier, default_region)
    if not matches:
        return None
    best = matches[0]
    row = _rows(con.execute("SELECT * FROM golden.customers WHERE customer_id = ?", [best.customer_id]))[0]
    provenance = {
        a: {"source": row.pop(f"{a}_source"), "source_record_id": row.pop(f"{a}_source_record_id")}
        for a in SURVIVED_ATTRIBUTES
    }
    attributes = {a: row.pop(a) for a in SURVIVED_ATTRIBUTES}
    identifiers = {k: row.pop(k) for k in IDENTIFIER_LISTS}
    consent = {k: row.pop(k) for k in CONSENT_COLUMNS}
    customer_id = row.pop("customer_id")
    as_of = row.pop("as_of_date")
    records: list[dict] = []
    if table_exists(con, "identity", "customer_map"):
        if table_exists(con, "staging", "identity_records"):
            cols = ", ".join(f"r.{c}" for c in _RECORD_COLUMNS)
            records = _rows(
                con.execute(
                    f"""SELECT m.source, m.source_record_id, {cols} FROM identity.customer_map m
                    LEFT JOIN staging.identity_records r USING (source, source_record_id)
                    WHERE m.customer_id = ? ORDER BY m.source, m.source_record_id""",
                    [customer_id],
                )
            )
            records = [{k: v for k, v in r.items() if v not in (None, [])} for r in records]
        else:
            records = _rows(
                con.execute(
                    "SELECT source, source_record_id FROM identity.customer_map WHERE customer_id = ? "
                    "ORDER BY source, source_record_id",
                    [customer_id],
                )
            )
    timeline: list[dict] = []
    if table_exists(con, "golden", "customer_timeline"):
        timeline = _rows(
            con.execute(
                """SELECT event_time, channel, event_type, summary, source, source_record_id, event_ref
               FROM golden.customer_timeline WHERE customer_id = ?
               ORDER BY event_time DESC, channel, event_type, event_ref LIMIT ?""",
                [customer_id, timeline_limit],
            )
        )
    return {
        "customer_id": customer_id,
        "matched_on": best.matched_on,
        "matched_value": best.value,
        "other_matches": [m.customer_id for m in matches[1:]],
        "as_of_date": as_of,
        "attributes": attributes,
        "provenance": provenance,
        "identifiers": identifiers,
        "consent": consent,
        "traits": row,
        "source_records": records,
        "timeline": timeline,
    }


def profile_json(profile: dict) -> str:
    return json.dumps(profile, indent=2, ensure_ascii=False, default=str)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        # to the second: a timestamp with microseconds would push the timeline's columns right
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "-"
    return str(value)


def format_profile(profile: dict) -> str:
    """A readable, sectioned text of a profile for a terminal (no colours, fixed columns)."""
    a, p, t, c = profile["attributes"], profile["provenance"], profile["traits"], profile["consent"]
    name = " ".join(x for x in (a.get("first_name"), a.get("last_name")) if x) or "(no name)"
    out = [
        f"{name}  ·  {profile['customer_id']}  (as of {profile['as_of_date']}; "
        f"matched on {profile['matched_on']} {profile['matched_value']})"
    ]
    if profile["other_matches"]:
        out.append(f"  note: the identifier also matches {', '.join(profile['other_matches'])}")
    out += ["", "Golden record"]
    for attr in SURVIVED_ATTRIBUTES:
        src = p[attr]
        origin = f"{src['source']}:{src['source_record_id']}" if src["source"] else ""
        out.append(f"  {attr:<12} {_fmt(a[attr]):<36} {origin}")
    out += ["", "Identifiers"]
    out += [f"  {k:<17} {_fmt(v)}" for k, v in profile["identifiers"].items()]
    out += ["", "Consent"]
    for ch in ("email", "sms"):
        out.append(
            f"  {ch:<6} {_fmt(c[f'{ch}_consent']):<8} at {_fmt(c[f'{ch}_consent_at'])} "
            f"from {_fmt(c[f'{ch}_consent_source'])}; contactable: {_fmt(c[f'{ch}_contactable'])}"
        )
    out += ["", "Traits"]
    out += [f"  {k:<22} {_fmt(v)}" for k, v in t.items()]
    out += ["", f"Source records ({len(profile['source_records'])})"]
    for r in profile["source_records"]:
        details = ", ".join(f"{k}={_fmt(v)}" for k, v in r.items() if k not in ("source", "source_record_id"))
        out.append(f"  {r['source']}:{r['source_record_id']}  {details}")
    out += ["", f"Latest timeline entries ({len(profile['timeline'])})"]
    for e in profile["timeline"]:
        out.append(f"  {_fmt(e['event_time']):<19}  {e['channel']:<6} {e['event_type']:<16} {e['summary']}")
    return "\n".join(out) + "\n"
