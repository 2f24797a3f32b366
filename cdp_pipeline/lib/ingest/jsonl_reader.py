"""Reading newline-delimited JSON (GA4 events, SMS bulk exports), one object per line, or
one JSON array of objects.

Every line (every element of an array) becomes a raw row or a quarantine row. Exact
duplicate lines are kept (GA4 delivers at least once; staging deduplicates events, raw
keeps what arrived).
"""

from __future__ import annotations

import json
import re

from cdp_pipeline.lib.ingest.encoding import CP1252, utf8_line_or_cp1252
from cdp_pipeline.lib.ingest.file_kinds import WEB_EVENTS, FileKind, events_day_from_name
from cdp_pipeline.lib.ingest.parsed import FileRejected, ParsedFile, QuarantinedRow

_COMPACT = (",", ":")
_RAW_PREVIEW_CHARS = 10_000


def _first_words(exc: BaseException) -> str:
    """The start of an exception's message: the kind of problem, not the value."""
    return str(exc).split(":")[0][:80]


def to_text(value) -> str | None:
    """A JSON value as raw VARCHAR: strings as they are, everything else as JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=_COMPACT)


def read_jsonl_text(text: str, *, kind: FileKind, file_name: str, encoding: str) -> ParsedFile:
    """Parse JSON lines into column lists for ``kind``'s raw table.

    Lines are split on LF only (a raw U+2028 may legally sit inside a JSON string).
    A line that is not a JSON object, or lacks a required key (absent or null), is
    quarantined with its line number. A file that is one JSON array of objects (an "export
    as JSON" instead of JSON lines, often pretty-printed) is read element by element, each
    with the line it starts on; its records are kept compact (``event_json``).
    """
    if not text.strip():
        raise FileRejected("no data: the file has no text", encoding=encoding, file_kind=kind.name)
    parsed = ParsedFile(kind=kind, encoding=encoding, delimiter=None)
    rows = _Rows(kind, file_name, parsed)
    elements = _array_elements(text)
    if elements is not None:
        for line_no, obj in elements:
            rows.add(line_no, obj, json.dumps(obj, ensure_ascii=False, separators=_COMPACT))
        rows.finish()
        return parsed
    lines = text.split("\n")
    ends_with_newline = text.endswith("\n")
    if ends_with_newline:
        lines.pop()
    last = len(lines)
    add = rows.add
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
            parsed.quarantined.append(
                QuarantinedRow(i, f"{prefix}invalid JSON: {exc.msg} at column {exc.colno}", record)
            )
            continue
        except RecursionError:
            # json's C decoder gives up past ~1,000 levels; one such line must not cost the file
            parsed.quarantined.append(
                QuarantinedRow(i, "invalid JSON: nested too deeply to be read", record[:_RAW_PREVIEW_CHARS])
            )
            continue
        except ValueError as exc:
            # e.g. an integer of more than 4,300 digits (Python's int conversion limit): one such
            # line must not cost the file either
            parsed.quarantined.append(
                QuarantinedRow(i, f"invalid JSON: a value could not be read ({_first_words(exc)})", record)
            )
            continue
        add(i, obj, record)
    rows.finish()
    return parsed


class _Rows:
    """The raw rows (or quarantine rows) of one file's JSON records."""

    def __init__(self, kind: FileKind, file_name: str, parsed: ParsedFile) -> None:
        self.kind, self.parsed = kind, parsed
        self.cols: dict[str, list] = {c: [] for c in kind.columns}
        self.key_map: dict[str, str | None] = {}
        self.is_web = kind is WEB_EVENTS
        self.events_day = events_day_from_name(file_name) if self.is_web else None
        self.value_columns = [c for c in kind.columns if c not in kind.derived]
        self.cookieless = 0

    def add(self, line_no: int, obj, record: str) -> None:
        parsed, cols, key_map = self.parsed, self.cols, self.key_map
        if not isinstance(obj, dict):
            parsed.quarantined.append(
                QuarantinedRow(line_no, f"not a JSON object (found {type(obj).__name__})", record)
            )
            return
        row: dict[str, object] = {}
        unknown: dict[str, object] = {}
        for key, value in obj.items():
            col = key_map.get(key, "?")
            if col == "?":
                col = key_map[key] = self.kind.canonical(key)
            if col is None or col in row:
                if not self.is_web:  # a GA4 line is kept whole in event_json: nothing to add
                    unknown[key] = value
            else:
                row[col] = value
        missing = [c for c in self.kind.required if row.get(c) is None]
        if missing:
            parsed.quarantined.append(QuarantinedRow(line_no, f"missing required key(s): {', '.join(missing)}", record))
            return
        if self.is_web:
            if not is_int64(row["event_timestamp"]):
                parsed.quarantined.append(
                    QuarantinedRow(
                        line_no,
                        "event_timestamp is not a whole number of microseconds "
                        f"(found {to_text(row['event_timestamp'])[:40]!r})",
                        record,
                    )
                )
                return
            pseudo_id = row.get("user_pseudo_id")
            if pseudo_id is None or (isinstance(pseudo_id, str) and not pseudo_id.strip()):
                self.cookieless += 1
        for c in self.value_columns:
            cols[c].append(to_text(row.get(c)))
        if self.is_web:
            cols["events_day"].append(self.events_day)
            cols["event_json"].append(record)
        parsed.extra.append(json.dumps(unknown, ensure_ascii=False) if unknown else None)
        parsed.lines.append(line_no)

    def finish(self) -> None:
        self.parsed.columns = self.cols
        if self.cookieless:
            self.parsed.notes.append(
                f"{self.cookieless} consent-mode (cookieless) event(s) without user_pseudo_id: loaded, "
                "counted, not attributed to a visitor"
            )


_INT64 = re.compile(r"-?[0-9]{1,19}")


def is_int64(value) -> bool:
    """A GA4 INT64 (``event_timestamp``): a JSON integer, or the string of one (BigQuery writes
    INT64 values as strings in JSON exports), within 64 bits."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        if not _INT64.fullmatch(value.strip()):
            return False
        value = int(value)
    return isinstance(value, int) and -(2**63) <= value < 2**63


_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _array_elements(text: str) -> list[tuple[int, object]] | None:
    """(line, element) of each element when the whole text is one JSON array; else None (then
    it is read line by line, and what cannot be read is quarantined line by line)."""
    start = _WHITESPACE.match(text).end()
    if not text.startswith("[", start):
        return None
    decoder = json.JSONDecoder()
    out: list[tuple[int, object]] = []
    line, counted = 1, 0
    i = _WHITESPACE.match(text, start + 1).end()
    try:
        if text.startswith("]", i):
            i += 1
        else:
            while True:
                obj, end = decoder.raw_decode(text, i)
                line += text.count("\n", counted, i)
                counted = i
                out.append((line, obj))
                i = _WHITESPACE.match(text, end).end()
                if text.startswith(",", i):
                    i = _WHITESPACE.match(text, i + 1).end()
                    continue
                if not text.startswith("]", i):
                    return None
                i += 1
                break
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; so is a huge integer
        return None
    return out if not text[i:].strip() else None
