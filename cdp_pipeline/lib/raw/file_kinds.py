"""The file kinds of docs/sources.md: which raw table each writes, its columns, and how a
file is recognised (by name and/or header).

Canonical column names are the snake_case of the contract's header names
(``Email Address`` -> ``email_address``); a header is matched after the same
normalisation, so case, spacing, ``-``/``_`` and order do not matter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CSV = "csv"
JSONL = "jsonl"

JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")


def normalise_header(name: str) -> str:
    """``" Email  Address "`` -> ``email_address``, ``SentDate`` -> ``sent_date`` (how headers
    and keys are matched)."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip().strip("\ufeff"))
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


@dataclass(frozen=True)
class FileKind:
    name: str
    source: str
    table: str
    format: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    aliases: dict[str, str] = field(default_factory=dict)
    # Columns the loader fills itself (not from a header), e.g. esp status from the file name.
    derived: tuple[str, ...] = ()
    # column -> normalised header names read before its own name when a file has several
    # spellings of it (Mailchimp's full "Date of Birth" over its year-less "Birthday").
    prefer: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def canonical(self, header: str) -> str | None:
        """The canonical column a header (or JSON key) stands for, or None if unknown."""
        key = normalise_header(header)
        key = self.aliases.get(key, key)
        return key if key in self.columns and key not in self.derived else None

    def rank(self, header: str, column: str) -> int:
        """Which of several spellings of ``column`` in one header (or JSON object) is read: the
        lowest rank, the first of equal ranks. A preferred spelling, then the column's own
        name, then any alias; the others go to _extra. The CSV and the JSON-lines readers both
        choose by it, so a column is read from the same spelling whatever the format."""
        key = normalise_header(header)
        preferred = self.prefer.get(column, ())
        if key in preferred:
            return preferred.index(key)
        return len(preferred) + (0 if key == column else 1)

    @property
    def qualified_table(self) -> str:
        return f"raw.{self.table}"


CRM_CUSTOMERS = FileKind(
    name="crm_customers",
    source="crm",
    table="crm_customers",
    format=CSV,
    columns=(
        "customer_id",
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
        "created_at",
        "updated_at",
        "consent_email",
        "consent_sms",
        "consent_updated_at",
        "address_phone",
        # an opt-out flag (true = unsubscribed from all email): Square's older "Email
        # Unsubscribed", HubSpot's "Unsubscribed from all email"; staging.consent_events reads it
        "email_unsubscribed",
        # HubSpot's own block of an address that does not take mail (a hard bounce's reason,
        # "Email Address Quarantined", "Invalid email address"): staging.consent_events reads
        # them as an ESP bounce is read (docs/sources.md)
        "email_hard_bounce_reason",
        "email_quarantined",
        "email_invalid",
        # the whole name in one field (Stripe's and WooCommerce's customer exports write no first
        # and last name): staging splits it when the row has neither
        "full_name",
    ),
    required=("customer_id",),
    aliases={
        "email_address": "email",
        "e_mail": "email",
        "phone_number": "phone",
        "mobile": "phone",
        "zip": "postcode",
        "zip_code": "postcode",
        "postal_code": "postcode",
        "date_of_birth": "birth_date",
        "birthday": "birth_date",
        "dob": "birth_date",
        # A Shopify customers export dropped in crm/: current headers, then legacy ones
        # (a legacy file has both Country and Country Code: the first one read wins).
        "accepts_email_marketing": "consent_email",
        "accepts_sms_marketing": "consent_sms",
        "accepts_marketing": "consent_email",
        "default_address_address1": "street",
        "default_address_city": "city",
        "default_address_zip": "postcode",
        "default_address_country_code": "country",
        "default_address_phone": "address_phone",
        "address1": "street",
        "country_code": "country",
        # A Square customer directory export (Customers > Export): Square's id is the key
        # (its Reference ID is the seller's own, often empty), Email Subscription Status is
        # Subscribed / Unsubscribed / Unknown.
        "square_customer_id": "customer_id",
        "street_address_1": "street",
        "email_subscription_status": "consent_email",
        # A HubSpot contacts export (and Zoho's "Record Id"): the record id is the key (a
        # "Customer ID" column in the same file wins: canonical names win over aliases). Its
        # "Unsubscribed from all email" says the opposite of a consent flag: its own column.
        "record_id": "customer_id",
        "unsubscribed_from_all_email": "email_unsubscribed",
        "street_address": "street",
        "country_region": "country",
        "email_address_quarantined": "email_quarantined",
        "invalid_email_address": "email_invalid",
    },
    # a full birth date over a "Birthday" that may have no year (Square writes 0000-11-02)
    prefer={"birth_date": ("birth_date", "date_of_birth", "dob")},
)


def _crm_export(name: str, required: tuple[str, ...], aliases: dict[str, str] | None = None) -> FileKind:
    """A vendor's customer export read as the CRM extract: its columns, aliases and preferences,
    and the vendor's own aliases (which would misread another CRM extract: Stripe's ``id``)."""
    return FileKind(
        name=name,
        source="crm",
        table="crm_customers",
        format=CSV,
        columns=CRM_CUSTOMERS.columns,
        required=required,
        aliases={**CRM_CUSTOMERS.aliases, **(aliases or {})},
        prefer=CRM_CUSTOMERS.prefer,
    )


# A legacy Shopify customers export has no Customer ID: its rows are keyed by their address.
SHOPIFY_CUSTOMERS_LEGACY = _crm_export("shopify_customers_legacy", ("email",))

# Stripe's customer export (Customers > Export, ``unified_customers.csv``): ``id`` is Stripe's
# customer key (``cus_…``), ``Name`` the whole name, ``Created (UTC)`` a UTC time (kept in _extra:
# a CRM time is local). Its ``id`` is no customer id in any other CRM extract: a kind of its own.
STRIPE_CUSTOMERS = _crm_export("stripe_customers", ("customer_id",), {"id": "customer_id", "name": "full_name"})

# WooCommerce's customer report (Analytics > Customers > Download): ``Name, Username, Last Active,
# Sign Up, Email, Orders, Total Spend, AOV, Country / Region, City, Region, Postal Code``. It has no
# customer id (a guest has no username either): rows are keyed by their address, as a legacy
# Shopify export's are. ``Name`` is the whole name.
WOOCOMMERCE_CUSTOMERS = _crm_export("woocommerce_customers", ("email",), {"name": "full_name"})

ESP_MEMBERS = FileKind(
    name="esp_members",
    source="esp",
    table="esp_members",
    format=CSV,
    columns=(
        "email_address",
        "first_name",
        "last_name",
        "phone",
        "address",
        "zip",
        "city",
        "birthday",
        "member_rating",
        "optin_time",
        "optin_ip",
        "confirm_time",
        "confirm_ip",
        "latitude",
        "longitude",
        "gmtoff",
        "dstoff",
        "timezone",
        "cc",
        "region",
        "last_changed",
        "leid",
        "euid",
        "notes",
        "tags",
        "unsub_time",
        "unsub_campaign_title",
        "unsub_campaign_id",
        "unsub_reason",
        "unsub_reason_other",
        "clean_time",
        "clean_campaign_title",
        "clean_campaign_id",
        "status",
    ),
    required=("email_address",),
    # ``ZIP code`` / ``Zip Code``: Mailchimp's merge field as list owners name it. An account
    # set to German writes ``Emailadresse, Vorname, Nachname`` (a real export, docs/sources.md).
    aliases={
        "email": "email_address",
        "emailadresse": "email_address",
        "vorname": "first_name",
        "nachname": "last_name",
        "phone_number": "phone",
        "postal_code": "zip",
        "zip_code": "zip",
        "date_of_birth": "birthday",
    },
    # Mailchimp's Birthday merge field is a month and day without a year (MM/DD); a list owner's
    # "Date of Birth" beside it is the full date: it is the one read, the Birthday goes to _extra.
    prefer={"birthday": ("date_of_birth",)},
)

# A Klaviyo profile or list export. Its consent is in its own columns (no Mailchimp status):
# ``Consent`` lists the channels consented to (``email``, ``sms``), ``Email Marketing Consent``
# is SUBSCRIBED / UNSUBSCRIBED / NEVER_SUBSCRIBED / SUPPRESSED, ``Accepts Marketing`` is
# Shopify's flag synced into Klaviyo, ``Email Suppressions`` lists why Klaviyo will not send to
# the address (``[UNSUBSCRIBE]``, ``[HARD_BOUNCE]``, ...); staging.consent_events reads them.
ESP_KLAVIYO_PROFILES = FileKind(
    name="esp_klaviyo_profiles",
    source="esp",
    table="esp_members",
    format=CSV,
    columns=(
        "email_address",
        "klaviyo_id",
        "first_name",
        "last_name",
        "phone",
        "address",
        "city",
        "country",
        "zip",
        "consent",
        "sms_consent_timestamp",
        "accepts_marketing",
        "email_marketing_consent",
        "email_marketing_consent_timestamp",
        "sms_marketing_consent",
        "date_added",
        "email_suppressions",
    ),
    required=("email_address",),
    aliases={"email": "email_address", "phone_number": "phone", "zip_code": "zip", "postal_code": "zip"},
)

ESP_ACTIVITY = FileKind(
    name="esp_activity",
    source="esp",
    table="esp_activity",
    format=CSV,
    columns=("email_address", "action", "timestamp", "campaign_id", "campaign_title", "url"),
    required=("email_address", "action", "timestamp"),
    aliases={"email": "email_address"},
)

_SMS_COLUMNS = (
    "from",
    "to",
    "body",
    "status",
    "sent_date",
    "api_version",
    "num_segments",
    "error_code",
    "account_sid",
    "sid",
    "direction",
    "price",
    "price_unit",
    "date_created",
)

SMS_MESSAGES_CSV = FileKind(
    name="sms_messages_csv",
    source="sms",
    table="sms_messages",
    format=CSV,
    columns=_SMS_COLUMNS,
    required=("from", "to", "direction", "sent_date"),
    aliases={"date_sent": "sent_date"},
)

# The bulk export's keys land in the same columns as the console CSV (date_sent -> sent_date).
# A message not sent yet (queued, failed before sending) has date_sent null: staging dates it
# by date_created, so date_sent is not required here.
SMS_MESSAGES_JSONL = FileKind(
    name="sms_messages_jsonl",
    source="sms",
    table="sms_messages",
    format=JSONL,
    columns=_SMS_COLUMNS,
    required=("from", "to", "direction"),
    aliases={"date_sent": "sent_date"},
)

WEB_EVENTS = FileKind(
    name="web_events",
    source="web",
    table="web_events",
    format=JSONL,
    # The nested parts (event_params, device, geo, traffic_source, ecommerce, items) stay in
    # event_json, the line exactly as received; staging reads them with DuckDB's JSON
    # functions. Re-serialising them in Python cost half of a GA4 file's load time.
    columns=("events_day", "event_date", "event_timestamp", "event_name", "user_pseudo_id", "user_id", "event_json"),
    # No user_pseudo_id: a consent-mode (cookieless) ping, which GA4 sends when analytics
    # storage is denied. It is a real event, loaded and counted, not a broken row.
    required=("event_timestamp", "event_name"),
    derived=("events_day", "event_json"),
)

POS_ORDERS = FileKind(
    name="pos_orders",
    source="pos",
    table="pos_orders",
    format=CSV,
    columns=(
        "name",
        "email",
        "financial_status",
        "paid_at",
        "accepts_marketing",
        "currency",
        "subtotal",
        "shipping",
        "taxes",
        "total",
        "discount_code",
        "created_at",
        "lineitem_quantity",
        "lineitem_name",
        "lineitem_price",
        "lineitem_sku",
        "billing_name",
        "billing_street",
        "billing_city",
        "billing_zip",
        "billing_country",
        "billing_phone",
        "cancelled_at",
        "refunded_amount",
        "id",
        "tags",
        "source",
        # order discount, the line's share of it, and the order's other numbers
        "discount_amount",
        "lineitem_discount",
        "phone",
        "shipping_phone",
        "shipping_country",
        # the billing name in two fields (a WooCommerce order export, below); Shopify writes one
        "billing_first_name",
        "billing_last_name",
    ),
    required=("name", "lineitem_name"),
)

# A WooCommerce order export: the "Advanced Order Export For WooCommerce" plugin's default layout
# (docs/sources.md), one row per order item with the order's fields repeated on each. It is an
# online order as Shopify's export is, so it lands in raw.pos_orders: ``Order Number`` is the
# order's name, ``Name`` the item's. ``Order Status`` is WooCommerce's status name (Completed,
# Processing, On hold, Cancelled, Refunded...), which staging maps to a financial status
# (create_orders.sql); ``Order Date`` is the site's local time without an offset. The other
# columns (Company, State Code, the shipping address, the line's tax columns, Payment Method
# Title...) go to _extra.
WOOCOMMERCE_ORDERS = FileKind(
    name="woocommerce_orders",
    source="pos",
    table="pos_orders",
    format=CSV,
    columns=POS_ORDERS.columns,
    required=("name", "lineitem_name"),
    aliases={
        "order_number": "name",
        "order_status": "financial_status",
        "order_date": "created_at",
        "email_billing": "email",
        "phone_billing": "billing_phone",
        "first_name_billing": "billing_first_name",
        "last_name_billing": "billing_last_name",
        "address_1_2_billing": "billing_street",
        # the layout's other spellings: its optional one-field name (split as Shopify's), and
        # the labels of its 1.x versions ("Zip (Billing)", "Address 1 (Billing)")
        "full_name_billing": "billing_name",
        "zip_billing": "billing_zip",
        "address_1_billing": "billing_street",
        "city_billing": "billing_city",
        "postcode_billing": "billing_zip",
        "country_code_billing": "billing_country",
        "country_code_shipping": "shipping_country",
        "name": "lineitem_name",
        "sku": "lineitem_sku",
        "quantity": "lineitem_quantity",
        "item_cost": "lineitem_price",
        "coupon_code": "discount_code",
        "cart_discount_amount": "discount_amount",
        "order_subtotal_amount": "subtotal",
        "order_shipping_amount": "shipping",
        "order_tax_amount": "taxes",
        "order_refund_amount": "refunded_amount",
        "order_total_amount": "total",
    },
    # the order's discount, not the coupon's "Discount Amount" (the same in a one-coupon order)
    prefer={"discount_amount": ("cart_discount_amount",)},
)

POS_RECEIPTS = FileKind(
    name="pos_receipts",
    source="pos",
    table="pos_receipts",
    format=CSV,
    columns=(
        "receipt_id",
        "store_id",
        "ts_local",
        "tz",
        "loyalty_card_id",
        "line_no",
        "sku",
        "qty",
        "unit_price",
        "discount",
        "vat_rate",
    ),
    required=("receipt_id", "store_id", "ts_local"),
)

# Square's Items Detail export (its item sales export, files named ``items-….csv``):
# one row per item sold or refunded, the store receipt's shape in Square's words. ``Transaction ID``
# is the receipt, ``Location`` the store, ``Customer ID`` the key of the Square customer export in
# crm/, ``Event Type`` Payment or Refund; the time is split over ``Date``, ``Time`` and ``Time
# Zone`` (a Rails display name), amounts are line totals with a currency sign (``$8.00``,
# ``-$45.00``). Staging reads it (docs/sources.md); the other columns go to _extra.
POS_SQUARE_ITEMS = FileKind(
    name="pos_square_items",
    source="pos",
    table="pos_square_items",
    format=CSV,
    columns=(
        "date",
        "time",
        "time_zone",
        "category",
        "item",
        "qty",
        "price_point_name",
        "sku",
        "gross_sales",
        "discounts",
        "net_sales",
        "tax",
        "transaction_id",
        "payment_id",
        "event_type",
        "location",
        "customer_id",
    ),
    required=("date", "time", "transaction_id", "gross_sales"),
)

FILE_KINDS: dict[str, FileKind] = {
    k.name: k
    for k in (
        CRM_CUSTOMERS,
        ESP_MEMBERS,
        ESP_ACTIVITY,
        SMS_MESSAGES_CSV,
        SMS_MESSAGES_JSONL,
        WEB_EVENTS,
        POS_ORDERS,
        POS_RECEIPTS,
        POS_SQUARE_ITEMS,
    )
}

# raw table -> the file kinds that write it
FILE_KINDS.update(  # vendor variants
    {
        k.name: k
        for k in (
            SHOPIFY_CUSTOMERS_LEGACY,
            STRIPE_CUSTOMERS,
            WOOCOMMERCE_CUSTOMERS,
            WOOCOMMERCE_ORDERS,
            ESP_KLAVIYO_PROFILES,
        )
    }
)
TABLE_KINDS: dict[str, tuple[FileKind, ...]] = {}
for _k in FILE_KINDS.values():
    TABLE_KINDS[_k.table] = TABLE_KINDS.get(_k.table, ()) + (_k,)

SOURCE_TABLES: dict[str, tuple[str, ...]] = {
    "crm": ("crm_customers",),
    "esp": ("esp_members", "esp_activity"),
    "sms": ("sms_messages",),
    "web": ("web_events",),
    "pos": ("pos_orders", "pos_receipts", "pos_square_items"),
}

# Status of a Mailchimp audience export, from its file name: current exports write
# ``<status>_email_audience_export_<id>.csv``, older ones ``<status>_members_export_<id>.csv``,
# and a segment's export ``<status>_segment_export_<id>.csv``.
# The status must be the whole word before the marker: "nonsubscribed" (never opted in) and
# "unsubscribed" both end in "subscribed", and reading either as subscribed grants consent.
ESP_STATUSES = ("nonsubscribed", "unsubscribed", "cleaned", "subscribed")
ESP_EXPORT_MARKERS = ("members_export", "email_audience_export", "segment_export")
_ESP_STATUS_NAME = re.compile(r"(?<![a-z])(" + "|".join(ESP_STATUSES) + r")_(?:" + "|".join(ESP_EXPORT_MARKERS) + r")")

# GA4 names its BigQuery tables events_YYYYMMDD and, for the streaming export,
# events_intraday_YYYYMMDD (replaced by the day's table once the day is complete).
_EVENTS_DAY = re.compile(r"events_(?:intraday_)?(\d{4})(\d{2})(\d{2})")
_INTRADAY = re.compile(r"events_intraday_\d{8}")


def esp_status_from_name(file_name: str) -> str | None:
    """``nonsubscribed_email_audience_export_1a2b.csv`` -> ``nonsubscribed`` (None: no status in the name)."""
    m = _ESP_STATUS_NAME.search(file_name.lower())
    return m.group(1) if m else None


def events_day_from_name(file_name: str) -> str | None:
    """``events_20261001.jsonl``, ``events_intraday_20261001-000000000000.json.gz`` -> ``2026-10-01``
    (the GA4 day the file exports)."""
    m = _EVENTS_DAY.search(file_name.lower())
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


def is_intraday_name(file_name: str) -> bool:
    """``events_intraday_20261001.json`` is a snapshot of a day still being collected."""
    return bool(_INTRADAY.search(file_name.lower()))


def is_json_name(file_name: str) -> bool:
    return file_name.lower().endswith(JSON_SUFFIXES)


def format_for(source: str, file_name: str, first_char: str = "") -> str:
    """csv or jsonl: web is always JSON lines; sms by extension, else by a leading ``{``."""
    if source == "web":
        return JSONL
    if source == "sms" and (is_json_name(file_name) or (not file_name.lower().endswith(".csv") and first_char == "{")):
        return JSONL
    return CSV


# The header columns that mark a WooCommerce order export (read as WOOCOMMERCE_ORDERS)
_WOOCOMMERCE_ORDER_MARKS = frozenset({"order_number", "order_status", "order_date"})


def classify_csv(source: str, file_name: str, header_keys: set[str]) -> FileKind | None:
    """The kind of a CSV file from its source folder, name and normalised header names.

    Header evidence wins over the name; the name decides when the header is incomplete
    (so a renamed-but-broken file is rejected for its missing column, not as unknown).
    """
    name = file_name.lower()

    def has(kind: FileKind, *cols: str) -> bool:
        return all(any(kind.canonical(h) == c for h in header_keys) for c in cols)

    if source == "crm":
        if has(CRM_CUSTOMERS, "customer_id"):
            return CRM_CUSTOMERS
        # by the columns only each vendor writes: Stripe's "Created (UTC)" beside its "id",
        # WooCommerce's "Username" and "Sign Up"
        if {"id", "created_utc", "email"} <= header_keys:
            return STRIPE_CUSTOMERS
        if {"username", "sign_up"} <= header_keys:
            return WOOCOMMERCE_CUSTOMERS
        if has(CRM_CUSTOMERS, "email", "consent_email"):
            return SHOPIFY_CUSTOMERS_LEGACY
        return CRM_CUSTOMERS
    if source == "esp":
        if has(ESP_KLAVIYO_PROFILES, "klaviyo_id"):
            return ESP_KLAVIYO_PROFILES
        if has(ESP_ACTIVITY, "email_address", "action"):
            return ESP_ACTIVITY
        if any(m in name for m in ESP_EXPORT_MARKERS) or has(ESP_MEMBERS, "email_address", "status"):
            return ESP_MEMBERS
        if "activity" in name:
            return ESP_ACTIVITY
        return None
    if source == "sms":
        return SMS_MESSAGES_CSV
    if source == "pos":
        # WooCommerce's order columns first: its "Name" is an item's, not Shopify's order name
        if _WOOCOMMERCE_ORDER_MARKS <= header_keys:
            return WOOCOMMERCE_ORDERS
        if has(POS_ORDERS, "name", "lineitem_name"):
            return POS_ORDERS
        if has(POS_RECEIPTS, "receipt_id", "store_id"):
            return POS_RECEIPTS
        # Items Detail, not the Transactions export (a row per payment, no item: unread, below)
        if has(POS_SQUARE_ITEMS, "transaction_id", "gross_sales", "item"):
            return POS_SQUARE_ITEMS
        if "orders" in name:
            return POS_ORDERS
        if "receipt" in name:
            return POS_RECEIPTS
        return None
    return None


# Exports the platform recognises but does not read, by the header columns that mark each: a
# file of one is rejected whole, and the reason names it (docs/sources.md) so whoever reads
# audit.files knows it is a known format, not a broken file. They are looked for before the
# kinds, as some would otherwise be read wrongly (Stripe's payments export has a "Customer ID":
# in crm/ each payment would be a customer record).
# Square's Transactions export has a row per payment and no lines: neither contract takes it;
# nor does Stripe's (no items either).
_STRIPE_PAYMENTS = frozenset({"id", "seller_message", "created_utc", "amount"})
UNREAD_EXPORTS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("pos", "Square's Transactions export", frozenset({"transaction_id", "gross_sales", "total_collected"})),
    ("pos", "Stripe's payments export", _STRIPE_PAYMENTS),
    ("crm", "Stripe's payments export", _STRIPE_PAYMENTS),
)


def unread_export(source: str, header_keys: set[str]) -> str | None:
    """The name of an export the platform does not read whose header this is, or None."""
    return next((what for src, what, marks in UNREAD_EXPORTS if src == source and marks <= header_keys), None)


def jsonl_kind(source: str) -> FileKind | None:
    return {"web": WEB_EVENTS, "sms": SMS_MESSAGES_JSONL}.get(source)
