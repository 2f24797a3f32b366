"""The suppression list: salted SHA-256 hashes of an erased person's identifiers.

An erased person's next extract would bring them straight back, so ingest drops every row
whose identifier hashes onto this list. Only hashes are kept (``audit.suppression``), never
the identifier: a salted hash cannot be reversed by hashing a list of known addresses
unless the salt leaks too, and the salt lives outside the warehouse, in
``<data_dir>/secrets/suppression_salt`` (mode 0600, created on first use, never committed;
``CDP_SUPPRESSION_SALT_FILE`` points elsewhere). Losing the salt makes the list useless:
back it up with the warehouse (docs/operations.md).

Identifiers are hashed in one normal form each: an email trimmed and lower-cased, a phone
in E.164, any other id (customer id, CRM id, loyalty card, web user id, cookie) trimmed.
The hash does not include the kind, so ingest can test a value without knowing which kind
the list entry was. The unsalted SHA-256 forms sent to ad platforms are listed the same way
(salted hash of the 64-hex form, kind ``hashed``): never the plain value, nor its plain hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb

from cdp_pipeline.lib.raw.parsed import take_rows, to_pylist
from cdp_pipeline.lib.staging import standardise_country, standardise_email, standardise_phone

SALT_ENV = "CDP_SUPPRESSION_SALT_FILE"
EMAIL, PHONE, ID = "email", "phone", "id"
# The SHA-256 forms sent to ad platforms (lib/activation/hashing), salted and hashed again:
# never read at ingest, they let the byte scan (file_scan) recognise a leftover ad hash.
HASHED = "hashed"

# Request kinds a person may name themselves by, and the hash kind each is.
REQUEST_KINDS = {
    "email": EMAIL,
    "phone": PHONE,
    "customer_id": ID,
    "loyalty_card": ID,
    "loyalty_card_id": ID,
    "crm_id": ID,
    "crm_customer_id": ID,
    "web_user_id": ID,
    "id": ID,
}

_PHONE_LIKE = re.compile(r"^[+(]?[0-9][0-9 ().\-/]{5,}$")
_CHANNEL_PREFIX = re.compile(r"^whatsapp:\s*", re.IGNORECASE)


# --------------------------------------------------------------------------- salt


def salt_path(data_dir: Path) -> Path:
    override = os.environ.get(SALT_ENV)
    return Path(override) if override else Path(data_dir) / "secrets" / "suppression_salt"


def load_salt(path: Path) -> str:
    """The salt in ``path``; created (32 random bytes, hex, mode 0600) when missing."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return load_salt(path)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)
    salt = path.read_text().strip()
    if not salt:
        raise ValueError(f"suppression salt file {path} is empty; restore it from backup")
    return salt


def salt_for(settings) -> str:
    return load_salt(checked_salt_path(settings))


def checked_salt_path(settings) -> Path:
    """The salt's path, refused when it lies where ingest reads or publish and export write: there
    it could be loaded into a table, published or delivered, and anyone holding it could test
    the suppression hashes against a list of addresses."""
    path = salt_path(settings.data_dir)
    real = Path(os.path.realpath(path))
    for name in ("landing_dir", "export_dir", "inbox_dir"):
        folder = getattr(settings, name, None)
        if folder is not None and real.is_relative_to(os.path.realpath(folder)):
            raise ValueError(
                f"the suppression salt ({SALT_ENV}) must not be inside {name} ({folder}); "
                "keep it in <data_dir>/secrets/"
            )
    warehouse = getattr(settings, "warehouse", None)
    if warehouse is not None and real.parent == Path(os.path.realpath(Path(warehouse).parent)):
        raise ValueError(f"the suppression salt ({SALT_ENV}) must not sit beside the published warehouse")
    return path


# --------------------------------------------------------------------------- normalising and hashing


def normalise_email(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if "@" not in text:
        return None
    return standardise_email(text) or text.lower()


def normalise_phone(value: object, default_region: str = "SE", country: str | None = None) -> str | None:
    """``value`` in E.164, read as staging reads it: in ``country`` (ISO code, the row's) when
    given, else in the default region."""
    if value is None:
        return None
    # Twilio writes WhatsApp numbers as channel addresses (``whatsapp:+27…``): the same phone
    text = _CHANNEL_PREFIX.sub("", str(value).strip())
    if not text or not _PHONE_LIKE.match(text):
        return None
    return _phone(text, default_region, country)


@lru_cache(maxsize=262_144)
def _phone(text: str, default_region: str, country: str | None = None) -> str | None:
    try:
        return standardise_phone(text, default_region, country)
    except Exception:  # noqa: BLE001 - a value that is not a phone is simply not a phone
        return None


def normalise_id(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def normalise(value: object, kind: str, default_region: str = "SE") -> str | None:
    """``value`` in the normal form of its hash ``kind`` (email, phone, id), or None."""
    if kind == EMAIL:
        return normalise_email(value)
    if kind == PHONE:
        return normalise_phone(value, default_region)
    return normalise_id(value)


def candidate_forms(identifier: str, kind: str | None = None, default_region: str = "SE") -> list[tuple[str, str]]:
    """(hash kind, normal form) readings of what a person gave us.

    With a ``kind`` (email, phone, customer_id, loyalty_card, crm_id, web_user_id) only that
    reading; without, an address with ``@`` is an email, and anything else is an id and, when
    it reads as one, also a phone (a loyalty card number may look like a phone number; the
    erasure keeps the readings that match someone).
    """
    if kind:
        hk = REQUEST_KINDS.get(kind.strip().lower())
        if hk is None:
            raise ValueError(f"unknown identifier kind {kind!r}; expected one of {sorted(REQUEST_KINDS)}")
        v = normalise(identifier, hk, default_region)
        return [(hk, v)] if v else []
    text = str(identifier).strip()
    if not text:
        return []
    if "@" in text:
        v = normalise_email(text)
        return [(EMAIL, v)] if v else []
    forms = [(ID, text)]
    phone = normalise_phone(text, default_region)
    if phone and phone != text:
        forms.append((PHONE, phone))
    elif phone:
        forms = [(PHONE, phone)]
    return forms


def identifier_hash(normalised: str, salt: str) -> str:
    """Salted SHA-256 hex of an identifier already in its normal form."""
    return hashlib.sha256(f"{salt}:{normalised}".encode()).hexdigest()


# --------------------------------------------------------------------------- the list


def ensure_suppression_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute("""
        CREATE TABLE IF NOT EXISTS audit.suppression (
            identifier_hash VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            added_at TIMESTAMP NOT NULL,
            request_id VARCHAR
        )""")
    con.execute(
        "COMMENT ON TABLE audit.suppression IS 'Salted SHA-256 hashes of erased people''s identifiers; "
        "ingest drops rows that carry one. No plain identifiers.'"
    )


def add_suppressions(
    con: duckdb.DuckDBPyConnection,
    hashes: Iterable[tuple[str, str]],
    request_id: str | None,
    added_at: dt.datetime | None = None,
) -> int:
    """Add (identifier_hash, kind) pairs not yet on the list; returns how many were new."""
    ensure_suppression_table(con)
    added_at = added_at or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    existing = suppressed_hashes(con)
    new = sorted({(h, k) for h, k in hashes if h not in existing})
    if new:
        con.executemany(
            "INSERT INTO audit.suppression VALUES (?, ?, ?, ?)", [(h, k, added_at, request_id) for h, k in new]
        )
    return len(new)


def suppressed_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'audit' AND table_name = 'suppression'"
    ).fetchall()[0][0]  # fetched whole: a result left open refuses the connection's next register()
    if not exists:
        return set()
    return {r[0] for r in con.execute("SELECT identifier_hash FROM audit.suppression").fetchall()}


@dataclass
class SuppressionList:
    """The hashes in force and the salt to test values with."""

    hashes: frozenset[str]
    salt: str
    default_region: str = "SE"

    def __bool__(self) -> bool:
        return bool(self.hashes)

    def is_suppressed(self, value: object, kind: str) -> bool:
        v = normalise(value, kind, self.default_region)
        return v is not None and identifier_hash(v, self.salt) in self.hashes

    def is_suppressed_phone(self, value: object, country: str | None) -> bool:
        """A phone read in its row's country (ISO code), as staging reads it: ``20 12 34 56`` of a
        Danish row is ``+4520123456``, not the default region's reading."""
        v = normalise_phone(value, self.default_region, country)
        return v is not None and identifier_hash(v, self.salt) in self.hashes


def load_suppression_list(con: duckdb.DuckDBPyConnection, settings) -> SuppressionList:
    hashes = frozenset(suppressed_hashes(con))
    if hashes and settings is None:
        raise ValueError("someone has been erased: their identifiers are read with the salt, pass the settings")
    # The salt file is only needed (and only created) once someone has been erased.
    salt = salt_for(settings) if hashes else ""
    return SuppressionList(hashes, salt, getattr(settings, "default_region", "SE"))


def is_suppressed(con: duckdb.DuckDBPyConnection, settings, value: object, kind: str) -> bool:
    return load_suppression_list(con, settings).is_suppressed(value, kind)


# --------------------------------------------------------------------------- ingest

# file kind -> (column, hash kind): the identifiers a raw row of that kind carries. The phone
# columns are every one staging reads a customer's number from (phone_lookup.RAW_PHONE_COLUMNS).
# Keyed by file kind, not raw table: a vendor's variant of a table (a legacy Shopify customers
# export, a Klaviyo profile export) needs its own entry, or its rows are loaded unchecked (a test
# holds every kind of FILE_KINDS to one).
_CRM_IDENTIFIERS = (
    ("email", EMAIL),
    ("phone", PHONE),
    ("address_phone", PHONE),
    ("customer_id", ID),
    ("loyalty_card_id", ID),
)
_ORDER_IDENTIFIERS = (("email", EMAIL), ("billing_phone", PHONE), ("phone", PHONE), ("shipping_phone", PHONE))
_ESP_MEMBER_IDENTIFIERS = (("email_address", EMAIL), ("phone", PHONE))
INGEST_IDENTIFIER_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "crm_customers": _CRM_IDENTIFIERS,
    "shopify_customers_legacy": _CRM_IDENTIFIERS,
    "stripe_customers": _CRM_IDENTIFIERS,
    "woocommerce_customers": _CRM_IDENTIFIERS,
    "esp_members": _ESP_MEMBER_IDENTIFIERS,
    "esp_klaviyo_profiles": _ESP_MEMBER_IDENTIFIERS,
    "esp_activity": (("email_address", EMAIL),),
    # The customer's number is From (inbound) or To (outbound); the business number is never
    # on the list, so both columns are tested.
    "sms_messages_csv": (("from", PHONE), ("to", PHONE)),
    "sms_messages_jsonl": (("from", PHONE), ("to", PHONE)),
    "web_events": (("user_id", ID), ("user_pseudo_id", ID)),
    "pos_orders": _ORDER_IDENTIFIERS,
    "woocommerce_orders": _ORDER_IDENTIFIERS,
    "pos_receipts": (("loyalty_card_id", ID),),
    # Square's Customer ID: the person's Square customer key (crm/ customer_id)
    "pos_square_items": (("customer_id", ID),),
}
# file kind -> the columns whose first non-empty value is the country staging reads the row's
# phones in (create_identity_records*.sql, create_consent_events.sql); other kinds' phones are
# read in the default region.
PHONE_COUNTRY_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_customers": ("country",),
    "shopify_customers_legacy": ("country",),
    "stripe_customers": ("country",),
    "woocommerce_customers": ("country",),
    "esp_members": ("cc",),
    "esp_klaviyo_profiles": ("country",),
    "pos_orders": ("billing_country", "shipping_country"),
    "woocommerce_orders": ("billing_country", "shipping_country"),
}

# Rows that belong together: an order's other line items and a receipt's other lines carry
# no identifier of their own, so they go with the row that does.
ROW_GROUP_COLUMNS: dict[str, tuple[str, ...]] = {
    "pos_orders": ("name",),
    "pos_receipts": ("store_id", "receipt_id"),
    "pos_square_items": ("transaction_id",),
}

REDACTED_RECORD = "[redacted: carries an erased person's identifier]"
_TOKEN_SPLIT = re.compile(r"[,;\t|\"'{}\[\]:<>\s]+")


def suppressed_rows(parsed, suppression: SuppressionList) -> list[int]:
    """Indexes of the rows of a ``ParsedFile`` that belong to a suppressed person."""
    if not suppression:
        return []
    columns = [(c, k) for c, k in INGEST_IDENTIFIER_COLUMNS.get(parsed.kind.name, ()) if c in parsed.columns]
    n = parsed.rows_loaded
    countries = _row_countries(parsed)
    direct: set[int] = set()
    for c, k in columns:
        values = to_pylist(parsed.columns[c])
        if k == PHONE and countries is not None:
            values = list(zip(values, countries))
            erased = {v for v in set(values) if suppression.is_suppressed_phone(*v)}
        else:
            # Each distinct value is normalised and hashed once (a file repeats its phones and emails).
            erased = {v for v in set(values) if suppression.is_suppressed(v, k)}
        if erased:
            direct.update(i for i, v in enumerate(values) if v in erased)
    hit = sorted(direct)
    group_cols = [c for c in ROW_GROUP_COLUMNS.get(parsed.kind.name, ()) if c in parsed.columns]
    if hit and group_cols:
        keys = list(zip(*(to_pylist(parsed.columns[c]) for c in group_cols)))
        groups = {keys[i] for i in hit if all(v not in (None, "") for v in keys[i])}
        hit = [i for i in range(n) if i in direct or keys[i] in groups]
    return hit


def _row_countries(parsed) -> list[str | None] | None:
    """Each row's country (ISO code) for reading its phones, or None when the kind has none."""
    columns = [c for c in PHONE_COUNTRY_COLUMNS.get(parsed.kind.name, ()) if c in parsed.columns]
    if not columns:
        return None
    values = [to_pylist(parsed.columns[c]) for c in columns]
    # Read once per distinct value (or tuple of the columns' values): a file repeats its countries,
    # and this runs on every file of the kind every night once anyone is suppressed, so the rows
    # only look their code up (1M rows: the first non-empty value found per row cost ~0.5 s).
    keys = values[0] if len(values) == 1 else list(zip(*values))
    one = len(values) == 1
    codes = {key: _country_code((key,) if one else key) for key in set(keys)}
    return [codes[key] for key in keys]


def _country_code(values: tuple) -> str | None:
    """The ISO code of the first non-empty of ``values`` (the row's country columns in order)."""
    first = next((v for v in values if v is not None and str(v).strip()), None)
    return standardise_country(first) if first is not None else None


def drop_suppressed_rows(parsed, suppression: SuppressionList) -> int:
    """Remove suppressed people's rows from ``parsed`` (in place) and redact quarantined rows
    that carry their identifiers; returns the number of rows removed. The columns may be lists
    or Arrow arrays (see ``ParsedFile``); each keeps its form."""
    if not suppression:
        return 0
    drop = set(suppressed_rows(parsed, suppression))
    if drop:
        keep = [i for i in range(parsed.rows_loaded) if i not in drop]
        for name, values in parsed.columns.items():
            parsed.columns[name] = take_rows(values, keep)
        parsed.extra = take_rows(parsed.extra, keep) if len(parsed.extra) else parsed.extra
        parsed.lines = take_rows(parsed.lines, keep)
    if parsed.quarantined:
        parsed.quarantined = [redact_quarantined(q, suppression) for q in parsed.quarantined]
    return len(drop)


def text_mentions_suppressed(text: str | None, suppression: SuppressionList) -> bool:
    """Does free text (a quarantined line) contain a suppressed email, phone or id?"""
    if not text or not suppression:
        return False
    for token in _TOKEN_SPLIT.split(text):
        if not token:
            continue
        if "@" in token:
            if suppression.is_suppressed(token, EMAIL):
                return True
        elif suppression.is_suppressed(token, ID) or suppression.is_suppressed(token, PHONE):
            return True
    # Phones written with spaces ("070-123 45 67") span several tokens: test each field too.
    for field in re.split(r"[,;\t|]", text):
        if " " in field.strip() and suppression.is_suppressed(field.strip().strip("\"'"), PHONE):
            return True
    return False


def redact_quarantined(q, suppression: SuppressionList):
    if text_mentions_suppressed(q.raw_record, suppression):
        return type(q)(q.line_number, q.reason, REDACTED_RECORD)
    return q
