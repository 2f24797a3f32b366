"""Parsing one landing file's bytes into raw rows and quarantined rows, without a database.

Separate from the load (``load.py``) so that the worker processes that parse a step's files
(``parse_pool.py``) import only the readers, not DuckDB.
"""

from __future__ import annotations

import re

import pyarrow as pa

from cdp_pipeline.lib.raw.compression import gunzip, inner_name, is_gzip
from cdp_pipeline.lib.raw.csv_arrow import read_csv_arrow
from cdp_pipeline.lib.raw.csv_reader import read_csv_text
from cdp_pipeline.lib.raw.encoding import UTF8, UTF8_BOM, NotTextError, decode_bytes, refuse_binary, utf8_body
from cdp_pipeline.lib.raw.file_kinds import ESP_MEMBERS, JSONL, WEB_EVENTS, esp_status_from_name, format_for, jsonl_kind
from cdp_pipeline.lib.raw.jsonl_reader import read_jsonl_text
from cdp_pipeline.lib.raw.parsed import FileRejected, ParsedFile

_PREVIEW_BYTES = 200


def parse_or_reject(source: str, file_name: str, data: bytes, counts_only: bool = False) -> ParsedFile | FileRejected:
    """``parse_file``, or why the whole file is rejected: its ``FileRejected``, or one made of an
    error reading it (the ledger's message; one bad file must not stop the load)."""
    try:
        return parse_file(source, file_name, data, counts_only)
    except FileRejected as exc:
        return exc
    except (UnicodeError, ValueError, RecursionError, MemoryError) as exc:
        return FileRejected(f"could not be read: {type(exc).__name__}: {exc}")


def parse_file(source: str, file_name: str, data: bytes, counts_only: bool = False) -> ParsedFile:
    """Decode and parse one file's bytes. Raises ``FileRejected`` when it cannot be read at all.
    ``counts_only``: a GA4 file keeps no loaded row's values (``read_jsonl_text``)."""
    if not data:
        raise FileRejected("empty file (0 bytes)")
    if is_gzip(data):
        data = gunzip(data)
        file_name = inner_name(file_name)
        if not data:
            raise FileRejected("empty file (a gzip file holding 0 bytes)")
    # JSON lines in UTF-8 are read from their bytes: the text of the file is not made
    body = utf8_body(data) if format_for(source, file_name) == JSONL or source == "sms" else None
    if body is not None and format_for(source, file_name, first_char(body.utf8)) == JSONL:
        try:
            refuse_binary(body.sample())
        except NotTextError as exc:
            raise FileRejected(str(exc), raw_record=_preview(data)) from exc
        kind = jsonl_kind(source)
        if kind is None:
            raise FileRejected(f"source '{source}' does not deliver JSON lines", encoding=body.encoding)
        parsed = read_jsonl_text(
            None,
            kind=kind,
            file_name=file_name,
            encoding=body.encoding,
            utf8=body.utf8,
            counts_only=counts_only and kind is WEB_EVENTS,
        )
        return _with_esp_status(parsed, file_name)
    try:
        decoded = decode_bytes(data)
    except NotTextError as exc:
        raise FileRejected(str(exc), raw_record=_preview(data)) from exc
    text = decoded.text
    first_char_ = text.lstrip()[:1]
    if format_for(source, file_name, first_char_) == JSONL:
        kind = jsonl_kind(source)
        if kind is None:
            raise FileRejected(f"source '{source}' does not deliver JSON lines", encoding=decoded.encoding)
        counting = counts_only and kind is WEB_EVENTS
        parsed = read_jsonl_text(text, kind=kind, file_name=file_name, encoding=decoded.encoding, counts_only=counting)
    else:
        # Arrow reads the common, well-formed file; anything else is read row by row
        utf8 = data if decoded.encoding in (UTF8, UTF8_BOM) else None
        parsed = read_csv_arrow(
            text, utf8, source=source, file_name=file_name, encoding=decoded.encoding
        ) or read_csv_text(text, source=source, file_name=file_name, encoding=decoded.encoding)
    return _with_esp_status(parsed, file_name)


def _with_esp_status(parsed: ParsedFile, file_name: str) -> ParsedFile:
    if parsed.kind is ESP_MEMBERS and _all_null(parsed.columns["status"]):
        status = esp_status_from_name(file_name)
        parsed.columns["status"] = [status] * parsed.rows_loaded
    return parsed


def _preview(data: bytes) -> str:
    return data[:_PREVIEW_BYTES].decode("latin-1").encode("unicode_escape").decode("ascii")


# What str.isspace() calls white space among ASCII characters (str.strip() strips these and more).
_ASCII_SPACE = re.compile(rb"[\t\n\x0b\x0c\r\x1c-\x1f ]*")


def first_char(utf8: bytes) -> str:
    """``text.lstrip()[:1]`` of the text of UTF-8 bytes, without making the text."""
    at = _ASCII_SPACE.match(utf8).end()
    if at == len(utf8) or utf8[at] < 0x80:
        return chr(utf8[at]) if at < len(utf8) else ""
    return utf8[at:].decode(UTF8).lstrip()[:1]  # white space past ASCII: rare


def _all_null(values) -> bool:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.null_count == len(values)
    return all(v is None for v in values)
