"""Reading a delimited text file row by row with exact physical line numbers.

Python's csv module parses each record, but this module feeds it one physical line at
a time, so it knows where every record starts and can recover from a broken one: a
record that swallows following lines (an unbalanced quote) is quarantined as its
first line only, and reading resumes on the next line. Nothing is dropped silently.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from cdp_pipeline.lib.raw.file_kinds import FileKind, classify_csv, normalise_header, unread_export
from cdp_pipeline.lib.raw.parsed import FileRejected, ParsedFile, QuarantinedRow

DELIMITERS = (",", ";", "\t", "|")

# Real fields (notes, 10,000-character addresses) exceed csv's 128 KiB default.
csv.field_size_limit(2**31 - 1)


class _LineFeeder:
    """Iterator over physical lines that the csv reader pulls from; ``pos`` is the next line."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.pos = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        line = self.lines[self.pos]
        self.pos += 1
        return line


def split_physical_lines(text: str) -> list[str]:
    """Lines ended by LF, CRLF or CR (kept), and nothing else: U+2028 or form feed inside
    a field must not split a row, which ``str.splitlines`` would do."""
    return io.StringIO(text, newline="").readlines()


def sniff_delimiter(header_line: str) -> str:
    """The candidate that splits the header line most often (ties: , ; tab |); ``,`` if none."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    return best if counts[best] else ","


def _strip_eol(s: str) -> str:
    return s[:-2] if s.endswith("\r\n") else s[:-1] if s.endswith(("\n", "\r")) else s


def iter_records(lines: list[str], delimiter: str, start: int = 0):
    """Yield ``(line_number, fields, None)`` or ``(line_number, None, (reason, raw_record))``.

    Blank lines are skipped. ``line_number`` is 1-based and is where the record starts.
    """
    feeder = _LineFeeder(lines)
    feeder.pos = start
    n = len(lines)
    ends_with_newline = bool(lines) and lines[-1].endswith(("\n", "\r"))

    def new_reader():
        return csv.reader(feeder, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)

    reader = new_reader()
    while feeder.pos < n:
        first = feeder.pos
        if not lines[first].strip():
            feeder.pos += 1
            continue
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            at_eof = feeder.pos >= n
            spanned = feeder.pos - first
            first_line = _strip_eol(lines[first])
            if at_eof and spanned == 1 and not ends_with_newline:
                reason = f"truncated last line: a quoted field is not closed at the end of the file ({exc})"
                yield first + 1, None, (reason, first_line)
            elif spanned > 1 or at_eof:
                reason = (
                    f"unbalanced quote: a quoted field opened on line {first + 1} is never closed "
                    f"(reading resumed on line {first + 2})"
                )
                yield first + 1, None, (reason, first_line)
            else:
                yield first + 1, None, (f"malformed quoting: {exc}", first_line)
            feeder.pos = first + 1
            reader = new_reader()
            continue
        yield first + 1, fields, (feeder.pos - first, feeder.pos >= n and not ends_with_newline)


@dataclass(frozen=True)
class CsvHeader:
    """What the header row says: the delimiter, the names and where each column goes."""

    delimiter: str
    names: list[str]  # stripped
    kind: FileKind
    mapping: list[tuple[int, str]]  # field index -> canonical column
    extras: list[tuple[int, str]]  # field index -> name in ``_extra``
    next_line: int  # 0-based index of the first line after the header record


def read_header(
    lines: list[str], header_at: int, *, source: str, file_name: str, encoding: str, kind: FileKind | None = None
) -> CsvHeader:
    """Sniff the delimiter from line ``header_at``, read the header record and map its names.

    Raises ``FileRejected`` for an unreadable header, an unknown kind or a missing required column."""
    delimiter = sniff_delimiter(lines[header_at])
    records = iter_records(lines, delimiter, header_at)
    header_line, header, header_info = next(records)
    if header is None:
        raise FileRejected(
            f"unreadable header row on line {header_line}",
            encoding=encoding,
            delimiter=delimiter,
            raw_record=_strip_eol(lines[header_at]),
        )
    header = [h.strip() for h in header]
    keys = {normalise_header(h) for h in header}
    unread = None if kind else unread_export(source, keys)
    kind = kind or (None if unread else classify_csv(source, file_name, keys))
    if kind is None:
        raise FileRejected(
            f"unknown file kind for source '{source}': "
            + (
                f"{unread}, which the platform does not read (docs/sources.md); header: {', '.join(header[:12])}"
                if unread
                else f"neither the name nor the header ({', '.join(header[:12])}) matches a kind in docs/sources.md"
            ),
            encoding=encoding,
            delimiter=delimiter,
            raw_record=_strip_eol(lines[header_at]),
        )

    # Which field reads each column: the spelling kind.rank puts first wherever it is in the
    # header (HubSpot's "Record ID" and a "Customer ID" beside it: the Customer ID is the key).
    chosen: dict[str, int] = {}
    for i, h in enumerate(header):
        col = kind.canonical(h)
        if not col:
            continue
        if col not in chosen or kind.rank(h, col) < kind.rank(header[chosen[col]], col):
            chosen[col] = i
    read_by = {i: col for col, i in chosen.items()}
    mapping: list[tuple[int, str]] = []
    extras: list[tuple[int, str]] = []
    seen = set(chosen)
    extra_names: set[str] = set()
    for i, h in enumerate(header):
        if i in read_by:
            mapping.append((i, read_by[i]))
            continue
        name = h or f"column_{i + 1}"
        base, k = name, 2
        while name in extra_names:
            name, k = f"{base} ({k})", k + 1
        extra_names.add(name)
        extras.append((i, name))
    missing = [c for c in kind.required if c not in seen]
    if missing:
        raise FileRejected(
            f"missing required column(s): {', '.join(missing)} (header: {', '.join(header)})",
            encoding=encoding,
            delimiter=delimiter,
            file_kind=kind.name,
            raw_record=_strip_eol(lines[header_at]),
        )
    return CsvHeader(delimiter, header, kind, mapping, extras, header_at + header_info[0])


def read_csv_text(text: str, *, source: str, file_name: str, encoding: str, kind: FileKind | None = None) -> ParsedFile:
    """Parse a decoded CSV file into column lists for its raw table.

    Raises ``FileRejected`` for a file with no header, an unknown kind or a missing
    required column. Rows that cannot be read are returned in ``quarantined``.
    """
    lines = split_physical_lines(text)
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise FileRejected("no header row: the file has no text", encoding=encoding)
    h = read_header(lines, header_at, source=source, file_name=file_name, encoding=encoding, kind=kind)
    kind, mapping, extras = h.kind, h.mapping, h.extras

    ncols = len(h.names)
    parsed = ParsedFile(kind=kind, encoding=encoding, delimiter=h.delimiter)
    good = read_rows(lines, h.delimiter, h.next_line, ncols, parsed.lines, parsed.quarantined, header=h.names)

    columns_by_index = list(zip(*good)) if good else [() for _ in range(ncols)]
    n = len(good)
    for col in kind.columns:
        parsed.columns[col] = [None] * n
    for i, col in mapping:
        parsed.columns[col] = list(columns_by_index[i]) if n else []
    if extras:
        parsed.extra = [json.dumps({name: row[i] for i, name in extras}, ensure_ascii=False) for row in good]
    else:
        parsed.extra = [None] * n
    return parsed


def field_count_reason(expected: int, found: int, spanned: int, last_unterminated: bool, line: int) -> str:
    if spanned > 1:
        return (
            f"unbalanced quote: the record starting on line {line} runs over {spanned} lines and has "
            f"{found} fields, expected {expected} (reading resumed on line {line + 1})"
        )
    if last_unterminated and found < expected:
        return f"truncated last line: expected {expected} fields, found {found} and no line end"
    return f"wrong number of fields: expected {expected}, found {found}"


def read_rows(
    lines: list[str],
    delimiter: str,
    start: int,
    ncols: int,
    good_lines: list[int],
    quarantined: list[QuarantinedRow],
    header: list[str] | None = None,
) -> list[list[str]]:
    """Rows of ``ncols`` fields from line index ``start`` on; unreadable ones go to ``quarantined``.

    A record that runs over several lines and then has the wrong number of fields is
    most likely an unbalanced quote that swallowed the lines after it: only its first
    line is quarantined and reading restarts on the next line, so the swallowed rows
    are read as rows again.
    """
    good: list[tuple[int, list[str]]] = []
    # Rows with extra, empty trailing fields: spreadsheet padding when most rows have it,
    # else an unquoted delimiter that shifted one row's values (quarantined, never loaded).
    padded: list[tuple[int, list[str], str, str]] = []
    while True:
        restart_at = None
        for ln, fields, info in iter_records(lines, delimiter, start):
            if fields is None:
                reason, raw = info
                quarantined.append(QuarantinedRow(ln, reason, raw))
                continue
            spanned, last_unterminated = info
            if len(fields) != ncols:
                reason = field_count_reason(ncols, len(fields), spanned, last_unterminated, ln)
                if len(fields) > ncols and spanned == 1 and not any(f.strip() for f in fields[ncols:]):
                    padded.append((ln, fields[:ncols], reason, _strip_eol(lines[ln - 1])))
                    continue
                quarantined.append(QuarantinedRow(ln, reason, _strip_eol(lines[ln - 1])))
                if spanned > 1:
                    restart_at = ln  # 0-based index of the line after the record's first
                    break
                continue
            if not "".join(fields).strip():  # no field holds anything but whitespace
                continue  # a row of empty fields is a blank line in spreadsheet form
            # (the first field is compared first: stripping every field of every row is costly)
            if header is not None and fields[0].strip() == header[0] and [f.strip() for f in fields] == header:
                # two exports concatenated: their second header is not a customer
                quarantined.append(
                    QuarantinedRow(ln, "header row repeated in the middle of the file", _strip_eol(lines[ln - 1]))
                )
                continue
            good.append((ln, fields))
        if restart_at is None:
            break
        start = restart_at
    if padded and len(padded) * 2 >= len(padded) + len(good):
        good.extend((ln, fields) for ln, fields, _, _ in padded if any(f.strip() for f in fields))
        good.sort(key=lambda row: row[0])
    else:
        quarantined.extend(QuarantinedRow(ln, reason, raw) for ln, _, reason, raw in padded)
        quarantined.sort(key=lambda q: q.line_number)
    good_lines.extend(ln for ln, _ in good)
    return [fields for _, fields in good]
