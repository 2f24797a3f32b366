"""CSV files a spreadsheet cannot turn into formulas, written owner-only and atomically.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel/LibreOffice as a formula (CSV injection); such cells get a leading ``'``. So do cells where
that character comes after whitespace or quotes only (`` =HYPERLINK(…)``, ``"@SUM(…)``): an
import that trims spaces or quotes (LibreOffice's "Trim spaces", a re-import by hand) would
otherwise meet the formula.
Columns listed as ``raw_columns`` are written as they are: they hold values the exporter
has already validated against a strict pattern (an E.164 phone ``+46701234567``, a
SHA-256 hex digest, an address that starts with a letter or digit), which a gateway must
receive unchanged and which cannot carry a formula. Every other column is neutralised.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# What may stand before a formula prefix and still leave the cell neutralised: every character
# Python calls whitespace, the zero-width space and BOM, and straight quotes.
LEADING_SKIPPABLE = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "\u200b\ufeff\"'"

# Every prefix and skippable character is one character, so character classes say the test
# exactly, in Python's re and in RE2 (for SQL that neutralises cells in bulk) alike.
assert all(len(p) == 1 for p in FORMULA_PREFIXES)
_FORMULA_RE = re.compile("[" + re.escape(LEADING_SKIPPABLE) + "]*[" + re.escape("".join(FORMULA_PREFIXES)) + "]")
FORMULA_PREFIX_RE2 = (
    "^["
    + "".join(f"\\x{{{ord(c):04x}}}" for c in LEADING_SKIPPABLE)
    + "]*["
    + "".join(f"\\x{{{ord(p):04x}}}" for p in FORMULA_PREFIXES)
    + "]"
)


def neutralise_cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if _FORMULA_RE.match(text) else text


def render_csv(
    columns: Sequence[str],
    rows: Iterable[Mapping[str, object]],
    raw_columns: Iterable[str] = (),
    header: Sequence[str] | None = None,
) -> bytes:
    """``rows``' values of ``columns``, under the header line ``header`` (default: the column names)."""
    raw = set(raw_columns)
    return render_csv_cells(
        columns if header is None else header,
        (
            [
                ("" if row.get(c) is None else str(row.get(c))) if c in raw else neutralise_cell(row.get(c))
                for c in columns
            ]
            for row in rows
        ),
    )


def render_csv_cells(header: Sequence[str], cells: Iterable[Sequence[str]]) -> bytes:
    """The file for rows whose cells are already text, raw or neutralised (render_csv's last step),
    under the header line ``header``.

    Quoting is Python's csv module's, so a file is the same bytes whichever way its cells were
    made; the SQL that writes a whole file (exporter.write_export_from_members) quotes as it does."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(cells)
    return buf.getvalue().encode("utf-8")


def _row_end_after(data: bytes, start: int, at: int) -> int | None:
    """The end of the row holding the line feed at ``at`` (rows from ``start``), or None when that line
    feed is inside a quoted cell: with the csv module's minimal quoting a line feed in a cell is always
    between quotes and a quote in a cell is doubled, so the quotes since ``start`` are balanced exactly
    at a row's end."""
    return at + 1 if data.count(b'"', start, at + 1) % 2 == 0 else None


def split_csv(data: bytes, limit: int) -> list[tuple[bytes, int]]:
    """``data`` (a header line and rows, as render_csv_cells writes them) as parts of at most ``limit``
    bytes, each the header line and whole rows, in order, with its row count; ``[]`` when the file fits.
    Concatenating the parts' rows gives the file's rows. A row longer than ``limit`` minus the header
    (no real export has one) is a part of its own, over the limit: a row is never cut."""
    if len(data) <= limit:
        return []

    def first_row_end(start: int) -> int:
        at = data.find(b"\n", start)
        while at != -1:
            end = _row_end_after(data, start, at)
            if end is not None:
                return end
            at = data.find(b"\n", at + 1)
        return len(data)

    header_end = first_row_end(0)
    header, budget = data[:header_end], max(1, limit - header_end)
    parts: list[tuple[bytes, int]] = []
    start = header_end
    while start < len(data):
        cut = len(data) if len(data) - start <= budget else None
        at = -1 if cut is not None else data.rfind(b"\n", start, start + budget)
        while cut is None and at != -1:
            cut = _row_end_after(data, start, at)
            at = data.rfind(b"\n", start, at)
        if cut is None:
            cut = first_row_end(start)
        body = data[start:cut]
        rows = body.count(b"\n")
        if b'"' in body:  # a line feed inside a quoted cell is not a row
            rows = sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
        parts.append((header + body, rows))
        start = cut
    return parts


def write_private_file(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` with mode 0600, atomically; returns its SHA-256 hex."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # a umask cannot widen it, but be explicit
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


def write_csv(
    path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, object]], raw_columns: Iterable[str] = ()
) -> str:
    return write_private_file(path, render_csv(columns, rows, raw_columns))


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
