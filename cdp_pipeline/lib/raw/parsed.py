"""What reading one file produces: rows for its raw table, and rows that could not be read."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from cdp_pipeline.lib.raw.file_kinds import FileKind


class FileRejected(Exception):
    """The whole file cannot be read (binary, empty, missing a required column, unknown kind)."""

    def __init__(
        self,
        reason: str,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        file_kind: str | None = None,
        raw_record: str | None = None,
    ):
        super().__init__(reason)
        self.reason = reason
        self.encoding = encoding
        self.delimiter = delimiter
        self.file_kind = file_kind
        self.raw_record = raw_record


@dataclass(frozen=True)
class QuarantinedRow:
    line_number: int
    reason: str
    raw_record: str


# A column of a ParsedFile: a Python list (the row-by-row readers) or an Arrow array (readers
# that hand over DuckDB's or Arrow's output without a Python object per value).
Values = list | pa.Array | pa.ChunkedArray


@dataclass
class ParsedFile:
    """Rows of one file, column-wise (values as received, VARCHAR), ready for an Arrow batch.

    ``columns[c]``, ``extra`` (JSON text or None) and ``lines`` are lists or Arrow arrays of the
    same length; use ``to_pylist`` / ``take_rows`` / ``as_arrow`` to handle either."""

    kind: FileKind
    encoding: str
    delimiter: str | None
    columns: dict[str, Values] = field(default_factory=dict)
    extra: Values = field(default_factory=list)
    lines: Values = field(default_factory=list)
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    # What an operator should know about rows that were loaded (the ledger's message).
    notes: list[str] = field(default_factory=list)
    # Counted only: ``lines`` (so the counts, the quarantine and the notes) as a whole parse gives
    # them, no column, no extra (a GA4 file read for its ledger entry: ``parse_pool``). ``again``
    # parses the file whole when its rows are wanted after all.
    counted_only: bool = False
    again: Callable[[], ParsedFile] | None = None

    def to_lists(self) -> ParsedFile:
        """This file with every column as a Python list (in place; returns itself)."""
        self.columns = {c: to_pylist(v) for c, v in self.columns.items()}
        self.extra = to_pylist(self.extra)
        self.lines = to_pylist(self.lines)
        return self

    @property
    def rows_loaded(self) -> int:
        return len(self.lines)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantined)

    @property
    def rows_read(self) -> int:
        return self.rows_loaded + self.rows_quarantined


def is_arrow(values: Values) -> bool:
    return isinstance(values, (pa.Array, pa.ChunkedArray))


def to_pylist(values: Values) -> list:
    """The values as a Python list (a list is returned as it is, not copied)."""
    return values.to_pylist() if is_arrow(values) else values


def take_rows(values: Values, keep: list[int]) -> Values:
    """The rows at indexes ``keep``, in the same form (list or Arrow) as ``values``."""
    if is_arrow(values):
        return values.take(pa.array(keep, type=pa.int64()))
    return [values[i] for i in keep]


def as_arrow(values: Values, type: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """The values as an Arrow array of ``type`` (an Arrow array of another type is cast)."""
    if is_arrow(values):
        return values if values.type == type else values.cast(type)
    return pa.array(values, type=type)


# What one quarantine row or ledger message keeps of a line (a 100 MB broken line is not a
# reason to store 100 MB, nor to copy a whole file's secrets into the audit tables): the
# start of it, its length and the SHA-256 of all of it, to find it in the file.
RAW_RECORD_MAX_CHARS = 4096
REASON_MAX_CHARS = 1024


def cap_text(text: str | None, limit: int) -> str | None:
    """``text`` when at most ``limit`` characters; else its first ``limit`` characters and a note
    of its whole length and SHA-256 (of its UTF-8 bytes)."""
    if text is None or len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()
    return f"{text[:limit]}… [cut at {limit:,} of {len(text):,} characters; sha256 of the whole: {digest}]"
