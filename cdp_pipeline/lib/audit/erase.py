"""Erasure: remove one person from every table of every schema, and from undelivered exports.

1. **Resolve** the identifier a person gave (email in any case, phone in any format, customer
   id, loyalty card, CRM id, web user id) to everything the platform knows them by: the
   customers it resolves to (``identity.customer_map`` via ``staging.identity_records`` and
   ``golden.customers``' identifier lists), then all of those customers' records and
   identifiers, the raw forms their phones were received in, and the hashes ad platforms
   were sent. Junk and implausibly shared identifiers (``identity.excluded_identifiers``)
   are not followed: they would take other people with them.
2. **Delete** generically: from every table of every schema, every row in which a text
   column holds one of those identifiers (see ``scan``: distinctive identifiers anywhere,
   short ids in id columns only); an order's or receipt's other lines go with it. The
   suppression list and the erasure log hold hashes only and are kept.
   The phone lookup kept between nights (``staging.phone_lookup``) also loses every row whose
   text no raw row holds any more (an unreadable number of the person's names nothing).
3. **Rewrite** export files not yet delivered (``export_files``).
4. **Suppress** every identifier (salted hashes in ``audit.suppression``) and write one
   PII-free row to ``audit.erasure_log``.

Files are rewritten before the database transaction commits: a crash in between leaves the
request pending, and the rerun repeats both steps (each is idempotent).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp_pipeline.lib.activation import hashing
from cdp_pipeline.lib.audit import export_files
from cdp_pipeline.lib.audit.requests import ErasureRequest, read_requests
from cdp_pipeline.lib.audit.scan import IdentifierSet, table_predicate, text_columns
from cdp_pipeline.lib.audit.suppression import (
    EMAIL,
    HASHED,
    ID,
    INGEST_IDENTIFIER_COLUMNS,
    PHONE,
    add_suppressions,
    candidate_forms,
    ensure_suppression_table,
    identifier_hash,
    normalise_phone,
    salt_for,
)
from cdp_pipeline.lib.common.sql_files import execute_sql
from cdp_pipeline.lib.common.warehouse import BUILD_DB_CONFIG, rewrite_database, table_exists, transaction
from cdp_pipeline.lib.golden.lookup import surviving_customer_id
from cdp_pipeline.lib.raw.file_kinds import FILE_KINDS
from cdp_pipeline.lib.staging import is_junk_email, is_junk_phone
from cdp_pipeline.lib.staging.phone_lookup import prune as prune_phone_lookup
from cdp_pipeline.lib.staging.udfs import register_udfs

# Rows that belong to a matched row without carrying an identifier themselves.
ROW_GROUPS: dict[tuple[str, str], tuple[str, ...]] = {
    ("raw", "pos_orders"): ("name",),
    ("raw", "pos_receipts"): ("store_id", "receipt_id"),
    ("raw", "pos_square_items"): ("transaction_id",),
}
_SEP = "\x1f"


# --------------------------------------------------------------------------- helpers


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
    }


def _rows(con, sql: str, params: dict) -> list[dict]:
    cur = execute_sql(con, sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _as_list(v) -> list:
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple)) else [v]


# --------------------------------------------------------------------------- resolving


@dataclass
class Person:
    """Everything one erasure request resolves to (plain identifiers: never persisted)."""

    request_forms: list[tuple[str, str]]
    matched_kinds: set[str] = field(default_factory=set)
    customer_ids: set[str] = field(default_factory=set)
    records: set[tuple[str, str]] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    phone_raw_forms: set[str] = field(default_factory=set)

    def hashed_forms(self) -> set[str]:
        out = {hashing.hashed_email(e) for e in self.emails}
        out |= {hashing.meta_hashed_phone(p) for p in self.phones}
        out |= {hashing.google_hashed_phone(p) for p in self.phones}
        return {h for h in out if h}

    def identifier_set(self) -> IdentifierSet:
        values = set(self.emails) | set(self.phones) | {p[1:] for p in self.phones if p.startswith("+")}
        values |= self.phone_raw_forms | self.ids | self.customer_ids | {r for _, r in self.records}
        values |= self.hashed_forms()
        return IdentifierSet.of(values)

    def suppression_entries(self, salt: str) -> list[tuple[str, str]]:
        entries = {(identifier_hash(e, salt), EMAIL) for e in self.emails}
        entries |= {(identifier_hash(p, salt), PHONE) for p in self.phones}
        entries |= {(identifier_hash(i, salt), ID) for i in self.ids | self.customer_ids}
        entries |= {(identifier_hash(h, salt), HASHED) for h in self.hashed_forms()}
        return sorted(entries)


def _excluded_values(con) -> set[str]:
    if not table_exists(con, "identity", "excluded_identifiers"):
        return set()
    if "value" not in _columns(con, "identity", "excluded_identifiers"):
        return set()
    return {
        str(r[0]).lower()
        for r in con.execute(
            "SELECT DISTINCT value FROM identity.excluded_identifiers WHERE value IS NOT NULL"
        ).fetchall()
    }


def resolve_person(
    con: duckdb.DuckDBPyConnection, identifier: str, kind: str | None = None, default_region: str = "SE"
) -> Person:
    """The person ``identifier`` names, with every identifier the platform holds for them.

    Read-only: also used by the right-of-access report on the published warehouse.
    """
    forms = candidate_forms(identifier, kind, default_region)
    p = Person(request_forms=forms)
    emails = sorted({v for k, v in forms if k == EMAIL})
    phones = sorted({v for k, v in forms if k == PHONE})
    ids = sorted({v for k, v in forms if k == ID})
    params = {"emails": emails or [""], "phones": phones or [""], "ids": ids or [""]}

    # 1. which customers / records does the identifier point at?
    _add_records_named(con, p, params)
    _add_customers_mapped(con, p, ids, params)
    _add_golden_customers_named(con, p, params)
    _add_request_forms(p, forms, kind, identifier)

    # 2. everything those customers are known by
    excluded = _excluded_values(con)
    _add_records_of_customers(con, p)
    _add_identifiers_of_records(con, p, excluded)
    _add_identifiers_in_golden(con, p, excluded)
    p.phone_raw_forms |= raw_phone_forms(con, p.phones, default_region)
    return p


def _add_records_named(con: duckdb.DuckDBPyConnection, p: Person, params: dict) -> None:
    """The staging records holding one of the identifier's forms, and the kinds that matched."""
    if not table_exists(con, "staging", "identity_records"):
        return
    cols = _columns(con, "staging", "identity_records")
    conds = [
        c
        for c in (
            ("email", "lower(email) IN (SELECT unnest($emails))", EMAIL),
            ("phone", "phone IN (SELECT unnest($phones))", PHONE),
            ("loyalty_card_id", "loyalty_card_id IN (SELECT unnest($ids))", ID),
            ("crm_customer_id", "crm_customer_id IN (SELECT unnest($ids))", ID),
            ("web_user_id", "web_user_id IN (SELECT unnest($ids))", ID),
            ("source_record_id", "source_record_id IN (SELECT unnest($ids))", ID),
            ("cookies", "list_has_any(cookies, $ids)", ID),
        )
        if c[0] in cols
    ]
    for _, cond, k in conds:
        found = execute_sql(
            con, f"SELECT DISTINCT source, source_record_id FROM staging.identity_records WHERE {cond}", params
        ).fetchall()
        if found:
            p.matched_kinds.add(k)
            p.records.update((s, r) for s, r in found)


def _add_customers_mapped(con: duckdb.DuckDBPyConnection, p: Person, ids: list[str], params: dict) -> None:
    """The customers the identifier names as a customer id (also one merged away since), and those
    of the records found."""
    if not table_exists(con, "identity", "customer_map"):
        return
    direct = execute_sql(
        con,
        "SELECT DISTINCT customer_id FROM identity.customer_map WHERE customer_id IN (SELECT unnest($ids))",
        params,
    ).fetchall()
    if direct:
        p.matched_kinds.add(ID)
        p.customer_ids.update(r[0] for r in direct)
    # A customer id merged into another on a later night names the customer it lives on.
    for old_id in (v for v in ids if v not in {r[0] for r in direct}):
        heir = surviving_customer_id(con, old_id)
        if heir is not None:
            p.matched_kinds.add(ID)
            p.customer_ids.add(heir)
    if p.records:
        keys = sorted(f"{s}{_SEP}{r}" for s, r in p.records)
        p.customer_ids.update(
            r[0]
            for r in execute_sql(
                con,
                "SELECT DISTINCT customer_id FROM identity.customer_map "
                "WHERE list_contains($keys, source || $sep || source_record_id)",
                {"keys": keys, "sep": _SEP},
            ).fetchall()
        )


def _add_golden_customers_named(con: duckdb.DuckDBPyConnection, p: Person, params: dict) -> None:
    """The golden customers whose id or identifier lists hold one of the identifier's forms."""
    if not table_exists(con, "golden", "customers"):
        return
    cols = _columns(con, "golden", "customers")
    conds = ["customer_id IN (SELECT unnest($ids))"]
    for col, var in (
        ("emails", "$emails"),
        ("phones", "$phones"),
        ("loyalty_card_ids", "$ids"),
        ("crm_customer_ids", "$ids"),
        ("web_user_ids", "$ids"),
        ("cookies", "$ids"),
    ):
        if col in cols:
            expr = f"list_transform({col}, lambda x: lower(x))" if col == "emails" else col
            conds.append(f"list_has_any({expr}, {var})")
    found = execute_sql(con, f"SELECT customer_id FROM golden.customers WHERE {' OR '.join(conds)}", params).fetchall()
    p.customer_ids.update(r[0] for r in found)


def _add_request_forms(p: Person, forms, kind: str | None, identifier: str) -> None:
    """Whatever the person named is theirs, whether or not it matched anything yet."""
    for k, v in forms:
        if kind is None and k != EMAIL and len(forms) > 1 and p.matched_kinds and k not in p.matched_kinds:
            continue  # "0701234567" matched as a phone: do not also suppress it as a card number
        {EMAIL: p.emails, PHONE: p.phones, ID: p.ids}[k].add(v)
        if k == PHONE:
            p.phone_raw_forms.add(str(identifier).strip())
    if not p.matched_kinds and p.customer_ids:
        p.matched_kinds.add(ID)


def _add_records_of_customers(con: duckdb.DuckDBPyConnection, p: Person) -> None:
    """Every record mapped to the person's customers."""
    if p.customer_ids and table_exists(con, "identity", "customer_map"):
        p.records.update(
            (s, r)
            for s, r in con.execute(
                "SELECT source, source_record_id FROM identity.customer_map WHERE list_contains($cids, customer_id)",
                {"cids": sorted(p.customer_ids)},
            ).fetchall()
        )


def _add_identifiers_of_records(con: duckdb.DuckDBPyConnection, p: Person, excluded: set[str]) -> None:
    """The identifiers the person's staging records hold (not the excluded ones)."""
    if not (p.records and table_exists(con, "staging", "identity_records")):
        return
    cols = _columns(con, "staging", "identity_records")
    wanted = [
        c
        for c in (
            "email",
            "phone",
            "email_is_junk",
            "phone_is_junk",
            "loyalty_card_id",
            "crm_customer_id",
            "web_user_id",
            "cookies",
        )
        if c in cols
    ]
    keys = sorted(f"{s}{_SEP}{r}" for s, r in p.records)
    for row in _rows(
        con,
        f"SELECT {', '.join(wanted) or '1 AS _'} FROM staging.identity_records "
        "WHERE list_contains($keys, source || $sep || source_record_id)",
        {"keys": keys, "sep": _SEP},
    ):
        _collect(
            p,
            row.get("email"),
            row.get("phone"),
            [
                row.get("loyalty_card_id"),
                row.get("crm_customer_id"),
                row.get("web_user_id"),
                *_as_list(row.get("cookies")),
            ],
            excluded,
            email_junk=row.get("email_is_junk"),
            phone_junk=row.get("phone_is_junk"),
        )


def _add_identifiers_in_golden(con: duckdb.DuckDBPyConnection, p: Person, excluded: set[str]) -> None:
    """The identifiers the person's golden customers list (not the excluded ones)."""
    if not (p.customer_ids and table_exists(con, "golden", "customers")):
        return
    cols = _columns(con, "golden", "customers")
    wanted = [
        c for c in ("emails", "phones", "loyalty_card_ids", "crm_customer_ids", "web_user_ids", "cookies") if c in cols
    ]
    if not wanted:
        return
    for row in _rows(
        con,
        f"SELECT {', '.join(wanted)} FROM golden.customers WHERE list_contains($cids, customer_id)",
        {"cids": sorted(p.customer_ids)},
    ):
        for e in _as_list(row.get("emails")):
            _collect(p, e, None, [], excluded)
        for ph in _as_list(row.get("phones")):
            _collect(p, None, ph, [], excluded)
        _collect(
            p,
            None,
            None,
            [
                x
                for c in ("loyalty_card_ids", "crm_customer_ids", "web_user_ids", "cookies")
                for x in _as_list(row.get(c))
            ],
            excluded,
        )


def _collect(p: Person, email, phone, ids, excluded: set[str], email_junk=None, phone_junk=None) -> None:
    if email:
        e = str(email).strip().lower()
        if not (email_junk or is_junk_email(e)) and e not in excluded:
            p.emails.add(e)
    if phone:
        ph = str(phone).strip()
        if not (phone_junk or is_junk_phone(ph)) and ph.lower() not in excluded:
            p.phones.add(ph)
    for i in ids:
        if i is not None and str(i).strip() and str(i).strip().lower() not in excluded:
            p.ids.add(str(i).strip())


def raw_phone_forms(con: duckdb.DuckDBPyConnection, phones: set[str], default_region: str = "SE") -> set[str]:
    """The forms (``070-123 45 67``, ``0046701234567``…) in which raw rows hold these phones."""
    if not phones:
        return set()
    tails = sorted({"".join(ch for ch in p if ch.isdigit())[-7:] for p in phones})
    columns = sorted(
        {(FILE_KINDS[kind].table, c) for kind, cols in INGEST_IDENTIFIER_COLUMNS.items() for c, k in cols if k == PHONE}
    )
    out: set[str] = set()
    for table, col in columns:
        if not table_exists(con, "raw", table) or col not in _columns(con, "raw", table):
            continue
        values = con.execute(
            f'SELECT DISTINCT "{col}" FROM raw."{table}" WHERE "{col}" IS NOT NULL '
            f"AND list_contains($tails, right(regexp_replace(\"{col}\", '[^0-9]', '', 'g'), 7))",
            {"tails": tails},
        ).fetchall()
        for (v,) in values:
            if normalise_phone(v, default_region) in phones:
                out.add(str(v).strip())
    return out


# --------------------------------------------------------------------------- erasing

LOG_COLUMNS = """
    request_id VARCHAR NOT NULL,
    identifier_hash VARCHAR NOT NULL,
    identifier_kinds VARCHAR[],
    requested_at TIMESTAMP,
    executed_at TIMESTAMP NOT NULL,
    customers_erased INTEGER NOT NULL,
    rows_removed BIGINT NOT NULL,
    tables_affected JSON NOT NULL,
    identifiers_suppressed INTEGER NOT NULL,
    export_files_rewritten INTEGER NOT NULL,
    export_files_delivered INTEGER NOT NULL,
    build_rewritten_at TIMESTAMP
"""


def ensure_erasure_tables(con: duckdb.DuckDBPyConnection) -> None:
    ensure_suppression_table(con)
    con.execute(f"CREATE TABLE IF NOT EXISTS audit.erasure_log ({LOG_COLUMNS})")
    # Logs written before the build file was rewritten after erasures get the column empty:
    # their erasures count as not yet rewritten, so the next run rewrites the file once.
    con.execute("ALTER TABLE audit.erasure_log ADD COLUMN IF NOT EXISTS build_rewritten_at TIMESTAMP")
    con.execute(
        "COMMENT ON TABLE audit.erasure_log IS 'One row per executed erasure request: salted hash of the "
        "identifier, when, and rows removed per table. No plain identifiers.'"
    )


def erasures_awaiting_rewrite(con: duckdb.DuckDBPyConnection) -> int:
    """Executed erasures whose deleted rows may still sit in the build file's free blocks: those
    not yet followed by ``rewrite_build_database`` (e.g. the run was killed in between)."""
    if not table_exists(con, "audit", "erasure_log"):
        return 0
    if "build_rewritten_at" not in _columns(con, "audit", "erasure_log"):
        return int(con.execute("SELECT count(*) FROM audit.erasure_log").fetchall()[0][0])
    return int(con.execute("SELECT count(*) FROM audit.erasure_log WHERE build_rewritten_at IS NULL").fetchall()[0][0])


def rewrite_build_database(path: Path) -> int:
    """Rewrite the closed build database with its live rows (``lib/common/warehouse.rewrite_database``) and
    mark every erasure it has executed as rewritten; returns the file's new size in bytes.

    A checkpoint leaves deleted rows' bytes in free blocks; only a rewrite removes an erased
    person from the file. Once the mark is set the file holds no erased person, and nothing
    later puts one back (ingest drops suppressed rows before they are written), so publish may
    copy its bytes. Killed before the mark: the next run rewrites again (idempotent)."""
    size = rewrite_database(path)
    con = duckdb.connect(str(path), config=BUILD_DB_CONFIG)
    try:
        con.execute(
            "UPDATE audit.erasure_log SET build_rewritten_at = ? WHERE build_rewritten_at IS NULL",
            [dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)],
        )
    finally:
        con.close()
    return size


def person_row_predicate(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, columns, ids: IdentifierSet
) -> tuple[str | None, dict]:
    """SQL true for the rows of ``schema.table`` that are the person's: a text column holds one of
    ``ids``, or the row belongs to the same order / receipt as one that does."""
    pred, params = table_predicate(columns, ids)
    if not pred:
        return None, {}
    group = [c for c in ROW_GROUPS.get((schema, table), ()) if c in {x.column for x in columns}]
    if group:
        key = "concat_ws('\x1f', " + ", ".join(f'"{c}"' for c in group) + ")"
        keys = [
            r[0]
            for r in execute_sql(
                con,
                f'SELECT DISTINCT {key} FROM "{schema}"."{table}" WHERE ({pred}) AND '
                + " AND ".join(f"coalesce(\"{c}\", '') <> ''" for c in group),
                params,
            ).fetchall()
        ]
        if keys:
            pred = f"({pred}) OR list_contains($group_keys, {key})"
            params = {**params, "group_keys": keys}
    return pred, params


QUARANTINE = ("audit", "quarantine")
REDACTED_REASON = "[redacted: named an erased person]"


def delete_person_rows(con: duckdb.DuckDBPyConnection, ids: IdentifierSet) -> dict[str, int]:
    """Delete every row holding one of ``ids`` from every table; returns rows removed per table.
    Runs inside the caller's transaction.

    Raw rows deleted are counted against the ledger entry of the file that loaded them
    (``audit.files.rows_erased``), so raw and the ledger still agree. A quarantine row is
    redacted rather than deleted (the ledger counts it; the line number and file stay)."""
    from cdp_pipeline.lib.audit.suppression import REDACTED_RECORD
    from cdp_pipeline.lib.raw.ledger import record_erased_rows

    removed: dict[str, int] = {}
    erased_raw: list[tuple[str, str, int]] = []
    for (schema, table), columns in text_columns(con).items():
        pred, params = person_row_predicate(con, schema, table, columns, ids)
        if not pred:
            continue
        names = {c.column for c in columns}
        if (schema, table) == QUARANTINE and {"raw_record", "reason"} <= names:
            reason = next(c for c in columns if c.column == "reason")
            reason_pred, reason_params = table_predicate([reason], ids)
            n = execute_sql(
                con,
                f"UPDATE audit.quarantine SET raw_record = $redacted, reason = CASE WHEN "
                f"{reason_pred or 'false'} THEN $redacted_reason ELSE reason END WHERE {pred}",
                {**params, **reason_params, "redacted": REDACTED_RECORD, "redacted_reason": REDACTED_REASON},
            ).fetchone()[0]
            # what still holds them (a file name) goes
            n += execute_sql(con, f"DELETE FROM audit.quarantine WHERE {pred}", params).fetchone()[0]
        else:
            if schema == "raw" and {"_file", "_file_sha256"} <= names | set(_columns(con, schema, table)):
                erased_raw += execute_sql(
                    con,
                    f'SELECT _file, _file_sha256, count(*) FROM "{schema}"."{table}" '
                    f"WHERE {pred} GROUP BY ALL ORDER BY ALL",
                    params,
                ).fetchall()
            n = execute_sql(con, f'DELETE FROM "{schema}"."{table}" WHERE {pred}', params).fetchone()[0]
        if n:
            removed[f"{schema}.{table}"] = int(n)
    record_erased_rows(con, erased_raw)
    return removed


@dataclass
class ErasureResult:
    request_id: str
    identifier_hash: str
    identifier_kinds: list[str]
    customers_erased: int
    tables_affected: dict[str, int]
    identifiers_suppressed: int
    export_files_rewritten: list[str]
    export_files_delivered: list[str]

    @property
    def rows_removed(self) -> int:
        return sum(self.tables_affected.values())


def _parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.astimezone(dt.timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def erase_request(
    con: duckdb.DuckDBPyConnection,
    request: ErasureRequest,
    *,
    salt: str,
    export_dir: Path | None,
    default_region: str = "SE",
    now: dt.datetime | None = None,
) -> ErasureResult:
    """Execute one request: resolve, rewrite undelivered exports, delete, suppress, log."""
    ensure_erasure_tables(con)
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    request_id = request.request_id(salt)
    person = resolve_person(con, request.identifier, request.kind, default_region)
    ids = person.identifier_set()
    rewritten, delivered = ([], [])
    if export_dir is not None:
        rewritten, delivered = export_files.remove_from_exports(con, Path(export_dir), ids)
    first = person.request_forms[0][1] if person.request_forms else request.identifier.strip()
    kinds = sorted(person.matched_kinds) or sorted({k for k, _ in person.request_forms})
    if table_exists(con, "staging", "phone_lookup"):
        register_udfs(con, default_region)  # the phone lookup's key (std_phone_text) is a macro
    with transaction(con):
        tables = delete_person_rows(con, ids) if ids else {}
        # The scan deleted the lookup rows of the person's numbers; an unreadable number of
        # theirs names no identifier: every row whose text no raw row holds any more goes.
        pruned = prune_phone_lookup(con)
        if pruned:
            tables["staging.phone_lookup"] = tables.get("staging.phone_lookup", 0) + pruned
        suppressed = add_suppressions(con, person.suppression_entries(salt), request_id, now)
        con.execute(
            "INSERT INTO audit.erasure_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            [
                request_id,
                identifier_hash(first, salt),
                kinds,
                _parse_time(request.requested_at),
                now,
                len(person.customer_ids),
                sum(tables.values()),
                json.dumps(tables, sort_keys=True),
                suppressed,
                len(rewritten),
                len(delivered),
            ],
        )
    return ErasureResult(
        request_id,
        identifier_hash(first, salt),
        kinds,
        len(person.customer_ids),
        tables,
        suppressed,
        rewritten,
        delivered,
    )


def executed_request_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    if not table_exists(con, "audit", "erasure_log"):
        return set()
    return {r[0] for r in con.execute("SELECT request_id FROM audit.erasure_log").fetchall()}


def pending_requests(con: duckdb.DuckDBPyConnection, inbox_dir: Path, salt: str) -> list[ErasureRequest]:
    done = executed_request_ids(con)
    seen: set[str] = set()
    out = []
    for r in read_requests(inbox_dir):
        rid = r.request_id(salt)
        if rid not in done and rid not in seen:
            seen.add(rid)
            out.append(r)
    return out


def run_pending_erasures(
    con: duckdb.DuckDBPyConnection, settings, *, now: dt.datetime | None = None
) -> list[ErasureResult]:
    """Execute every request in the inbox not yet in ``audit.erasure_log``."""
    ensure_erasure_tables(con)
    requests = read_requests(settings.inbox_dir)
    if not requests:
        return []
    salt = salt_for(settings)
    return [
        erase_request(
            con, r, salt=salt, export_dir=settings.export_dir, default_region=settings.default_region, now=now
        )
        for r in pending_requests(con, settings.inbox_dir, salt)
    ]


def erased_identifier_set(
    con: duckdb.DuckDBPyConnection, settings, request_ids: set[str] | None = None
) -> IdentifierSet:
    """The identifiers named in every request file (in the readings the erasure matched), for
    the scans that prove they are gone; only those of ``request_ids`` when given."""
    requests = read_requests(settings.inbox_dir)
    if not requests:
        return IdentifierSet()
    salt = salt_for(settings)
    kinds_by_id: dict[str, list[str]] = {}
    if table_exists(con, "audit", "erasure_log"):
        kinds_by_id = {
            r[0]: list(r[1] or [])
            for r in con.execute("SELECT request_id, identifier_kinds FROM audit.erasure_log").fetchall()
        }
    values: set[str] = set()
    for r in requests:
        if request_ids is not None and r.request_id(salt) not in request_ids:
            continue
        forms = candidate_forms(r.identifier, r.kind, settings.default_region)
        kinds = kinds_by_id.get(r.request_id(salt))
        for k, v in forms:
            if kinds and k not in kinds:
                continue
            values.add(v)
            if k == EMAIL:
                values.add(hashing.hashed_email(v))
            elif k == PHONE:
                values |= {v[1:], hashing.meta_hashed_phone(v), hashing.google_hashed_phone(v)}
                values.add(r.identifier.strip())
    return IdentifierSet.of(v for v in values if v)
