"""Right of access: everything the platform holds about one person, as JSON.

Read-only, so it runs on the published warehouse an analyst's tools may also have open.
The person is resolved exactly as an erasure would resolve them (``erase.resolve_person``),
so the report shows what ``cdp forget`` would remove.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
from pathlib import Path

import duckdb

from cdp_pipeline.lib.audit.erase import _columns, _rows, person_row_predicate, resolve_person
from cdp_pipeline.lib.audit.scan import text_columns
from cdp_pipeline.lib.common.warehouse import table_exists

_SEP = "\x1f"


def _by_customer(con, schema: str, table: str, customer_ids: list[str], order: str | None = None) -> list[dict]:
    if not customer_ids or not table_exists(con, schema, table) or "customer_id" not in _columns(con, schema, table):
        return []
    order_by = f" ORDER BY {order}" if order else ""
    return _rows(
        con,
        f'SELECT * FROM "{schema}"."{table}" WHERE list_contains($cids, customer_id){order_by}',
        {"cids": customer_ids},
    )


# a person's consent signals by time, then by every other column the table has: signals of one
# time would otherwise come in the table's stored order, which is not the same on every build
# (lib/staging/sql/insert_staging_rows.sql)
_CONSENT_ORDER = ("event_time", "channel", "identifier", "source", "source_record_id", "state", "reason")


def _consent_order(con) -> str:
    columns = _columns(con, "staging", "consent_events") if table_exists(con, "staging", "consent_events") else set()
    return ", ".join(c for c in _CONSENT_ORDER if c in columns or c == "event_time")


def _by_records(con, schema: str, table: str, records: list[str], order: str | None = None) -> list[dict]:
    if not records or not table_exists(con, schema, table):
        return []
    if not {"source", "source_record_id"} <= _columns(con, schema, table):
        return []
    order_by = f" ORDER BY {order}" if order else ""
    return _rows(
        con,
        f'SELECT * FROM "{schema}"."{table}" WHERE list_contains($keys, source || $sep || source_record_id){order_by}',
        {"keys": records, "sep": _SEP},
    )


def access_report(
    con: duckdb.DuckDBPyConnection, identifier: str, *, kind: str | None = None, default_region: str = "SE"
) -> dict:
    """Golden record, source records (standardised and as received), timeline, consents,
    segments and the exports the person was in."""
    person = resolve_person(con, identifier, kind, default_region)
    cids = sorted(person.customer_ids)
    records = sorted(f"{s}{_SEP}{r}" for s, r in person.records)
    ids = person.identifier_set()
    raw: dict[str, list[dict]] = {}
    if ids:
        for (schema, table), columns in text_columns(con).items():
            if schema != "raw":
                continue
            pred, params = person_row_predicate(con, schema, table, columns, ids)
            if pred:
                rows = _rows(con, f'SELECT * FROM "raw"."{table}" WHERE {pred}', params)
                if rows:
                    raw[table] = rows
    consent_order = _consent_order(con)
    consents = _by_records(con, "staging", "consent_events", records, consent_order)
    if table_exists(con, "staging", "consent_events") and "identifier" in _columns(con, "staging", "consent_events"):
        seen = {json.dumps(r, sort_keys=True, default=str) for r in consents}
        for r in _rows(
            con,
            f"SELECT * FROM staging.consent_events WHERE list_contains($v, lower(identifier)) ORDER BY {consent_order}",
            {"v": sorted({*person.emails, *person.phones})},
        ):
            if json.dumps(r, sort_keys=True, default=str) not in seen:
                consents.append(r)
    golden = _by_customer(con, "golden", "customers", cids, "customer_id")
    consent_state = [
        {
            k: v
            for k, v in g.items()
            if k.startswith(("email_consent", "sms_consent"))
            or k in ("customer_id", "email_contactable", "sms_contactable")
        }
        for g in golden
    ]
    exports = _by_customer(con, "activation", "export_members", cids, "run_date, destination")
    export_files = []
    if exports and table_exists(con, "activation", "export_log"):
        pairs = sorted({f"{e['destination']}{_SEP}{e['run_date']}" for e in exports})
        export_files = _rows(
            con,
            "SELECT destination, run_date, file_kind, path, exported_at FROM activation.export_log "
            "WHERE list_contains($p, destination || $sep || CAST(run_date AS VARCHAR)) "
            "ORDER BY run_date, destination, file_kind",
            {"p": pairs, "sep": _SEP},
        )
    return {
        "identifier": identifier,
        "generated_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "found": bool(cids or person.records or raw),
        "customer_ids": cids,
        "golden_records": golden,
        "source_records": _by_records(con, "staging", "identity_records", records, "source, source_record_id"),
        "customer_map": _by_customer(con, "identity", "customer_map", cids, "source, source_record_id"),
        "raw_records": raw,
        "timeline": _by_customer(con, "golden", "customer_timeline", cids, "event_time"),
        "consents": {"current": consent_state, "events": consents},
        "segments": {
            "current": _by_customer(con, "segments", "membership", cids, "segment"),
            "history": _by_customer(con, "segments", "history", cids, "segment, entered_at"),
        },
        "exports": {"rows_sent": exports, "files": export_files},
    }


def _json_default(v):
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    return str(v)


def write_access_report(con: duckdb.DuckDBPyConnection, identifier: str, out_file: Path, **kwargs) -> dict:
    """Write the report as JSON to ``out_file`` (0600: it is the person's data)."""
    report = access_report(con, identifier, **kwargs)
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(report, indent=2, ensure_ascii=False, default=_json_default).encode("utf-8") + b"\n"
    tmp = out_file.with_name(f".{out_file.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, out_file)
    return report
