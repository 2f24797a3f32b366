"""Reading newline-delimited JSON (GA4 events, SMS bulk exports), one object per line.

Every line becomes a raw row or a quarantine row. Exact duplicate lines are kept
(GA4 delivers at least once; staging deduplicates events, raw keeps what arrived).
"""

from __future__ import annotations

import json

from cdp_pipeline.lib.ingest.encoding import CP1252, utf8_line_or_cp1252
from cdp_pipeline.lib.ingest.file_kinds import WEB_EVENTS, FileKind, events_day_from_name
from cdp_pipeline.lib.ingest.parsed import FileRejected, ParsedFile, QuarantinedRow

_COMPACT = (",", ":")
_RAW_PREVIEW_CHARS = 10_000


def to_text(value) -> str | None:
    """A JSON value as raw VARCHAR: strings as they are, everything else as JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=_COMPACT)


def read_jsonl_text(text: str, *, kind: FileKind, file_name: str, encoding: str) -> ParsedFile:
    """Parse JSON lines into column lists for ``kind``'s raw table.

    Lines are split on LF only (a raw U+2028 may legally sit inside a JSON string).
    A line that is not a JSON object, or lacks a required key (absent or null), is
    quarantined with its line number.
    """
    if not text.strip():
        raise FileRejected("no data: the file has no text", encoding=encoding, file_kind=kind.name)
    lines = text.split("\n")
    ends_with_newline = text.endswith("\n")
    if ends_with_newline:
        lines.pop()
    last = len(lines)
    parsed = ParsedFile(kind=kind, encoding=encoding, delimiter=None)
    cols = {c: [] for c in kind.columns}
    extra = parsed.extra
    key_map: dict[str, str | None] = {}
    is_web = kind is WEB_EVENTS
    events_day = events_day_from_name(file_name) if is_web else None
    value_columns = [c for c in kind.columns if c not in kind.derived]

    for i, line in enumerate(lines, start=1):
        record = line[:-1] if line.endswith("\r") else line
        if not record.strip():
            continue
        if encoding == CP1252:
            record = utf8_line_or_cp1252(record)
        try:
            obj = json.loads(record)
        except json.JSONDecodeError as exc:
            prefix = "truncated last line: " if i == last and not ends_with_newline else ""
            parsed.quarantined.append(QuarantinedRow(
                i, f"{prefix}invalid JSON: {exc.msg} at column {exc.colno}", record))
            continue
        except RecursionError:
            # json's C decoder gives up past ~1,000 levels; one such line must not cost the file
            parsed.quarantined.append(QuarantinedRow(
                i, "invalid JSON: nested too deeply to be read", record[:_RAW_PREVIEW_CHARS]))
            continue
        if not isinstance(obj, dict):
            parsed.quarantined.append(QuarantinedRow(
                i, f"not a JSON object (found {type(obj).__name__})", record))
            continue
        row: dict[str, object] = {}
        unknown: dict[str, object] = {}
        for key, value in obj.items():
            col = key_map.get(key, "?")
            if col == "?":
                col = key_map[key] = kind.canonical(key)
            if col is None or col in row:
                if not is_web:  # a GA4 line is kept whole in event_json: nothing to add
                    unknown[key] = value
            else:
                row[col] = value
        missing = [c for c in kind.required if row.get(c) is None]
        if missing:
            parsed.quarantined.append(QuarantinedRow(
                i, f"missing required key(s): {', '.join(missing)}", record))
            continue
        for c in value_columns:
            cols[c].append(to_text(row.get(c)))
        if is_web:
            cols["events_day"].append(events_day)
            cols["event_json"].append(record)
        extra.append(json.dumps(unknown, ensure_ascii=False) if unknown else None)
        parsed.lines.append(i)
    parsed.columns = cols
    return parsed
