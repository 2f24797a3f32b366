"""DuckDB ``COMMENT``s on the golden tables, written as the golden layer builds them.

The comments are the single source of the column documentation: analysts see them
in any DuckDB client (``duckdb_columns().comment``), and ``docs/tables.md`` is rendered
from them (``lib/publish/tables_md.py``; a test fails when the file drifts). Every layer
writes its comments with ``cdp_pipeline.lib.common.table_comments``.
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.common.table_comments import apply_table_comments
from cdp_pipeline.lib.golden.survivorship import SURVIVED_ATTRIBUTES

_ATTRIBUTE_MEANING = {
    "first_name": "given name (display form)",
    "last_name": "family name (display form)",
    "email": "best email address (normalised, lower case)",
    "phone": "best phone number, E.164",
    "street": "street address",
    "postcode": "postal code",
    "city": "city",
    "country": "country, ISO 3166-1 alpha-2",
    "birth_date": "date of birth",
}


def _customer_columns() -> dict[str, str]:
    cols = {"customer_id": "persistent customer id (identity.customer_map)"}
    for attr in SURVIVED_ATTRIBUTES:
        cols[attr] = f"{_ATTRIBUTE_MEANING[attr]}, chosen by the survivorship rules (config/survivorship.yaml)"
        cols[f"{attr}_source"] = f"source system that supplied {attr}"
        cols[f"{attr}_source_record_id"] = f"source record that supplied {attr}"
    cols |= {
        "emails": "every email address on the customer's records, sorted",
        "phones": "every phone number (E.164) on the customer's records, sorted",
        "loyalty_card_ids": "every store loyalty card, sorted",
        "crm_customer_ids": "every CRM customer id, sorted",
        "web_user_ids": "every web analytics user_id, sorted",
        "cookies": "every web cookie seen with the customer's user ids, sorted",
        "sources": "source systems that know the customer",
        "record_count": "identity records resolved to the customer",
        "first_seen": "earliest interaction or record time before the as-of cutoff",
        "last_seen": "latest interaction or record time before the as-of cutoff",
        "orders_count": "orders and receipts, not cancelled, voided or fully refunded",
        "online_orders_count": "online orders, not cancelled, voided or fully refunded",
        "store_orders_count": "store receipts, not cancelled, voided or fully refunded",
        "total_spend": "sum of order totals less refunds, floored at 0, in the warehouse currency (CDP_CURRENCY, SEK by "
        "default: staging's for an amount written without one, every store receipt's); an order whose total could not "
        "be read or that is in another currency adds nothing (no rate to convert it with; the golden check "
        "money_in_one_currency counts them)",
        "online_spend": "total_spend of online orders",
        "store_spend": "total_spend of store receipts",
        "average_order_value": "total_spend / the orders whose total could be read and is in the warehouse currency, in "
        "DECIMAL, rounded half away from zero to the cent; NULL without such orders",
        "first_order_at": "time of the first order counted in orders_count",
        "last_order_at": "time of the latest order counted in orders_count",
        "days_since_last_order": "days from the latest order's date in CDP_TIMEZONE to as_of_date",
        "rfm_recency": "1-5 quintile of last_order_at among buyers (5 = most recent; equal values, equal scores); NULL without orders",
        "rfm_frequency": "1-5 quintile of orders_count among buyers (5 = most orders; equal counts, equal scores)",
        "rfm_monetary": "1-5 quintile of total_spend among buyers (5 = highest spend; equal values, equal scores)",
        "rfm_segment": "champions | loyal | potential | new | at_risk | hibernating | lost | prospect "
        "(no orders); rules in lib/golden/traits.py",
        "preferred_store": "store with most receipts (ties: latest visit, store id)",
        "preferred_channel": "online | store, by number of orders (ties: spend, then online)",
        "email_opens_30d": "email opens in the 30 days before the cutoff (not those marked Apple Mail Privacy Protection's)",
        "email_clicks_30d": "email clicks in the 30 days before the cutoff",
        "email_opens_90d": "email opens in the 90 days before the cutoff (not those marked Apple Mail Privacy Protection's)",
        "email_clicks_90d": "email clicks in the 90 days before the cutoff",
        "sms_received": "SMS (not WhatsApp) sent to the customer and not reported failed",
        "sms_replied": "SMS (not WhatsApp) the customer sent",
        "web_sessions_30d": "web sessions started in the 30 days before the cutoff",
        "last_web_visit": "start of the latest web session",
        "last_add_to_cart_at": "latest web add_to_cart",
        "has_abandoned_cart": "an add_to_cart in the last 30 days with no purchase within 7 days after it",
        "email_consent": "granted | revoked | unknown: the consent ledger's row of the golden email "
        "(golden.identifier_consent: every signal about the address, whatever customer carries it, bounces "
        "and opt-outs dated after the cutoff included); unknown without an email or a ledger row. Revoked "
        "too when the row is granted by a checkout tick box alone after the customer's own unsubscribe, "
        "cleaning or bounce of another of their addresses",
        "email_consent_at": "time of the signal that decided email_consent (the ledger's event_at: an opt-out "
        "dated after the cutoff shows its own time)",
        "email_consent_source": "source of the signal that decided email_consent",
        "sms_consent": "granted | revoked | unknown: the consent ledger's row of the golden phone (every "
        "signal about the number, whatever customer carries it); unknown without a phone or a ledger row",
        "sms_consent_at": "time of the signal that decided sms_consent (the ledger's event_at)",
        "sms_consent_source": "source of the signal that decided sms_consent",
        "email_contactable": "email_consent granted and a valid, non-junk email",
        "sms_contactable": "sms_consent granted and a valid, non-junk phone",
        "as_of_date": "business date (CDP_TIMEZONE) the traits are computed as of",
    }
    return cols


GOLDEN_TABLE_DOCS: dict[str, tuple[str, dict[str, str]]] = {
    "customers": (
        "The single customer view: one row per customer_id of identity.customer_map, with survived "
        "attributes and their provenance, every known identifier, and traits as of as_of_date.",
        _customer_columns(),
    ),
    "identifier_consent": (
        "The consent ledger: one row per email address and phone number any consent signal speaks about, "
        "with the signal that decides it, whatever customer carries it. The one source of truth of consent: "
        "golden.customers' consent columns are its rows of each customer's golden email and phone, and a "
        "blocked identifier is never contactable and never exported, plain or hashed, on any customer "
        "(lib/golden/consent.py).",
        {
            "channel": "email | sms",
            "identifier": "standardised email address (lower case) or E.164 phone number",
            "consent": "granted | revoked: the deciding signal, the latest before the cutoff (a revocation wins a "
            "tie; an implied grant does not lift an unsubscribe, cleaning, bounce or STOP; a revocation dated "
            "after the cutoff counts at the cutoff)",
            "blocked": "the deciding signal is a revocation (unsubscribed, cleaned, bounce, sms_stop, crm_opt_out, "
            "crm_unsubscribed, nonsubscribed, Klaviyo's unsubscribed, suppressed, suppression, never "
            "subscribed or a channel its Consent does not list, an unticked accepts-marketing box): the "
            "identifier is not contactable on any customer",
            "reason": "subscribed | unsubscribed | cleaned | nonsubscribed | bounce | sms_start | sms_stop | "
            "crm_opt_in | crm_opt_out | accepts_marketing | klaviyo_subscribed | klaviyo_unsubscribed | "
            "klaviyo_suppressed | klaviyo_suppression | klaviyo_never_subscribed | klaviyo_consent | crm_unsubscribed",
            "event_at": "time of the deciding signal (UTC), as its source gave it: later than the cutoff for a "
            "revocation dated after it (counted at the cutoff)",
            "source": "source system of the deciding signal (esp, sms, crm, pos)",
            "source_record_id": "source record of the deciding signal",
            "signals": "signals about the identifier before the cutoff that count, and revocations dated after it "
            "(an implied grant after a protected opt-out does not count)",
        },
    ),
    "customer_timeline": (
        "Every interaction of every known customer on every channel (orders, receipts, email "
        "activity, SMS in and out, web sessions and key events, consent changes), one row per "
        "staging event, before the as-of cutoff.",
        {
            "customer_id": "persistent customer id",
            "event_time": "when the interaction happened (UTC)",
            "channel": "online | store | email | sms | whatsapp | web",
            "event_type": "online_order | store_receipt | email_open | email_privacy_open | email_click | email_bounce | "
            "sms_inbound | sms_outbound | whatsapp_inbound | whatsapp_outbound | web_session | add_to_cart | purchase | login | "
            "consent_granted | consent_revoked",
            "summary": "one line a person can read",
            "source": "source system of the event",
            "source_record_id": "identity record the event belongs to",
            "event_ref": "the event's id in its staging table (consent events: "
            "consent|channel|identifier|state|reason|time)",
        },
    ),
}


def apply_golden_comments(con: duckdb.DuckDBPyConnection) -> None:
    for table, (comment, columns) in GOLDEN_TABLE_DOCS.items():
        missing = apply_table_comments(con, "golden", table, comment, columns)
        if missing:
            raise ValueError(f"golden.{table}: undocumented columns {missing}")
