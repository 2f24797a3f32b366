"""Reading a delimited file with Arrow's CSV reader, straight into Arrow columns.

The row-by-row reader (``csv_reader``) defines what a file's rows, line numbers and quarantine
reasons are. This module is a fast path that gives exactly the same result for the common file:
one header line, then records with the header's number of fields, and perhaps a few one-line
records with too few or too many. It returns ``None`` for anything else (an unbalanced quote,
spreadsheet padding, a repeated header, quoting that Python's csv module refuses) and the caller
reads the file row by row.

Why the result is the same (the checks cost a pass in C, or Python work per quoted or skipped
record only):

* the header line is read by ``csv_reader.read_header``, the same code as the row-by-row reader;
* Arrow reads the records after it from memory (all text, ``''`` for empty) and hands over each
  record without the header's field count, which it skips. A skipped record must be one physical
  line without a quote character: Python splits it the same way, and it is quarantined with the
  row-by-row reader's reason (or passed over, if blank);
* a record with no quote character is split the same way by both readers (at the delimiter and
  at CR, LF or CRLF). Each record that has one is parsed again by Python's csv module (strict,
  as the row-by-row reader does) and must give the same fields over the same lines; this catches
  what Arrow accepts and Python refuses (``"a"b``, ``"a" ,``, an unclosed quote at the end);
* physical lines are counted in the text and must equal the header line plus, for each record,
  one line and the line ends inside its values (one for a skipped record). A record's line
  number is then the header's line + 1 + the lines of the records before it;
* an empty line is a record of empty fields to Arrow; records of whitespace-only fields are
  dropped, as the row-by-row reader skips blank lines and rows of blank fields.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import json
import re

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cdp_pipeline.lib.raw.csv_reader import (
    _strip_eol,
    field_count_reason,
    iter_records,
    read_header,
    sniff_delimiter,
    split_physical_lines,
)
from cdp_pipeline.lib.raw.file_kinds import FileKind
from cdp_pipeline.lib.raw.parsed import ParsedFile, QuarantinedRow

# Characters json.dumps(ensure_ascii=False) escapes in a string.
_JSON_ESCAPED = r'[\x00-\x1f\\"]'
_LINE_END = re.compile(r"\r\n|\r|\n")
# The first character of a field that may be blank in Python's sense (str.strip() whitespace is
# below "!" or from U+0085 up): the rows where it is are looked at in Python.
_MAYBE_BLANK = r"^(?:$|[\x00- ]|[\x{85}-\x{10ffff}])"


def physical_line_count(text: str | bytes) -> int:
    """How many lines ``csv_reader.split_physical_lines`` makes of ``text`` (or of its UTF-8
    bytes, the same count: CR and LF are single bytes there, and never part of another character)."""
    lf, cr = ("\n", "\r") if isinstance(text, str) else (b"\n", b"\r")
    # most files end their lines with LF only: one count, and a search for CR that finds none
    ends = text.count(lf) + (text.count(cr) - text.count(cr + lf) if cr in text else 0)
    return ends + (1 if text and not text.endswith((lf, cr)) else 0)


def read_csv_arrow(
    text: str,
    utf8: bytes | None,
    *,
    source: str,
    file_name: str,
    encoding: str,
    kind: FileKind | None = None,
) -> ParsedFile | None:
    """The file's rows as Arrow columns (``_read_csv_arrow``), or, when its last line opens a
    quote it never closes, the rest of it so and that line as the row-by-row reader reads it
    (``_with_open_last_line``); ``None`` when it must be read row by row."""
    args = {"source": source, "file_name": file_name, "encoding": encoding, "kind": kind}
    return _read_csv_arrow(text, utf8, **args) or _with_open_last_line(text, utf8, **args)


def _with_open_last_line(text: str, utf8: bytes | None, **args) -> ParsedFile | None:
    """A file cut or broken in its last line: an odd number of quote characters there. Arrow
    reads the lines before it (``_read_csv_arrow``, which checks that Python's csv module reads
    them alike: so that reader ends their last record where they end, as it would in the whole
    file) and ``iter_records`` reads the last line, starting there as the row-by-row reader
    would, with the same line number and line end; it must quarantine it (an unclosed quote at
    the end of the file), else ``None``. At 1,000,000 customers one SMS log (92,143 rows) was
    read row by row for its last line: 0.75 CPU s."""
    body = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith(("\n", "\r")) else text
    start = max(body.rfind("\n"), body.rfind("\r")) + 1
    last = text[start:]
    if start == 0 or last.count('"') % 2 == 0:
        return None
    head_utf8 = utf8[: len(utf8) - len(last.encode("utf-8"))] if utf8 is not None else None
    head = text[:start]
    parsed = _read_csv_arrow(head, head_utf8, **args)
    if parsed is None:
        return None
    line_no = physical_line_count(head_utf8 if head_utf8 is not None else head) + 1
    # iter_records looks at the lines from its start on, and at the last for its line end
    _, fields, info = next(iter_records([""] * (line_no - 1) + [last], parsed.delimiter, line_no - 1))
    if fields is not None:
        return None
    reason, raw = info
    parsed.quarantined.append(QuarantinedRow(line_no, reason, raw))
    return parsed


def _read_csv_arrow(
    text: str,
    utf8: bytes | None,
    *,
    source: str,
    file_name: str,
    encoding: str,
    kind: FileKind | None = None,
) -> ParsedFile | None:
    """The file's rows as Arrow columns, or ``None`` when it must be read row by row.

    ``text`` is the decoded file; ``utf8`` its bytes when they are UTF-8 already (with or
    without BOM), else ``None`` and the text is encoded as UTF-8 for Arrow. Raises
    ``FileRejected`` exactly as ``read_csv_text`` does for the header."""
    end = _LINE_END.search(text)
    first_line = text[: end.end()] if end else text
    if not first_line.strip():
        return None
    try:
        # the header must be one whole record on line 1, or the row-by-row reader decides
        next(csv.reader([first_line], delimiter=sniff_delimiter(first_line), strict=True))
    except (csv.Error, StopIteration):
        return None
    h = read_header([first_line], 0, source=source, file_name=file_name, encoding=encoding, kind=kind)
    if h.next_line != 1:
        return None
    ncols = len(h.names)
    if utf8 is None:
        try:
            utf8 = text.encode("utf-8")
        except UnicodeEncodeError:
            return None
    read = _read(utf8, h.delimiter, ncols)
    if read is None:
        return None
    table, invalid = read
    fields = [table[f"c{i}"].combine_chunks() for i in range(ncols)]
    n = table.num_rows
    quoted = text.find('"', len(first_line)) != -1  # (no copy of the text)
    breaks = _line_breaks(fields, n) if quoted else _zeros(n)
    total_lines = physical_line_count(utf8)  # faster in bytes than in text
    if (pc.sum(breaks).as_py() or 0) + n + 1 + len(invalid) != total_lines:
        return None  # Arrow skipped or swallowed lines
    span = pc.add(breaks, 1)
    ends = pc.cumulative_sum(span)  # lines taken by the records up to each one
    lines = pc.add(pc.subtract(ends, span), 2)
    physical = split_physical_lines(text) if quoted or invalid else []
    quarantined, padded = [], []
    if invalid:
        # Arrow numbers a skipped record among all records (the header is 1); each is one line
        # (checked below), so its line is 2 + the lines of the kept records before it + the
        # skipped ones before it, and each kept record after it starts one line later.
        placed = []
        for t, (number, row_text, found) in enumerate(sorted(invalid, key=lambda r: r[0] or 0)):
            if number is None or number - 2 - t < 0:
                return None
            kept_before = number - 2 - t
            if kept_before > n:
                return None
            line_no = 2 + t + (ends[kept_before - 1].as_py() if kept_before else 0)
            placed.append((line_no, kept_before, row_text, found))
        checked = _short_and_long_lines(physical, placed, h.delimiter, ncols, text.endswith(("\n", "\r")))
        if checked is None:
            return None
        quarantined, padded = checked
        shift = [0] * (n + 1)
        for _, kept_before, _, _ in placed:
            shift[kept_before] += 1
        lines = pc.add(lines, pc.cumulative_sum(pa.array(shift[:n], pa.int64())))
    if quoted and not _quoted_records_read_alike(physical, fields, lines, span, h.delimiter):
        return None
    keep = _rows_kept(fields, h.names)
    if keep is None:
        return None
    if keep is not True:
        fields = [f.filter(keep) for f in fields]
        lines = lines.filter(keep)
        n = len(lines)
    if padded:
        # the row-by-row reader's rule (``read_rows``): padding when at least half of the rows
        # have it (then loaded: left to that reader), else each such row is quarantined
        if len(padded) * 2 >= len(padded) + n:
            return None
        quarantined = sorted(quarantined + padded, key=lambda q: q.line_number)

    parsed = ParsedFile(kind=h.kind, encoding=encoding, delimiter=h.delimiter, quarantined=quarantined)
    parsed.lines = lines
    for col in h.kind.columns:
        parsed.columns[col] = pa.nulls(n, pa.string())
    for i, col in h.mapping:
        parsed.columns[col] = fields[i]
    parsed.extra = _extra_json([(name, fields[i]) for i, name in h.extras], n)
    return parsed


def _zeros(n: int) -> pa.Array:
    return pa.repeat(pa.scalar(0, pa.int64()), n)


def _read(data: bytes, delimiter: str, ncols: int) -> tuple[pa.Table, list[tuple[int, str, int]]] | None:
    """Arrow's read of the records after line 1 as ``c0``… (text, ``''`` when empty), and the
    records without ``ncols`` fields (their line after the header, text and field count), which
    Arrow skips; ``None`` when Arrow cannot read the file."""
    names = [f"c{i}" for i in range(ncols)]
    invalid: list[tuple[int, str, int]] = []

    def skip(row) -> str:
        invalid.append((row.number, row.text, row.actual_columns))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=skip,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    return table, invalid


def _short_and_long_lines(
    physical: list[str], placed: list[tuple[int, int, str, int]], d: str, ncols: int, ends_with_newline: bool
) -> tuple[list[QuarantinedRow], list[QuarantinedRow]] | None:
    """The records Arrow skipped (line, -, text, field count), as the row-by-row reader sees
    them: a blank line is skipped, a one-line record without quotes and with the wrong number of
    fields is quarantined with its reason; one whose extra fields are all blank (spreadsheet
    padding, or an unquoted delimiter that shifted a row) comes second, quarantined the same way
    unless the padding is the file's (decided over it by the caller). ``None`` for anything else
    (a quote, a record over several lines), left to the row-by-row reader."""
    quarantined: list[QuarantinedRow] = []
    padded: list[QuarantinedRow] = []
    for line_no, _, row_text, found in placed:
        if not 1 < line_no <= len(physical):
            return None
        raw = _strip_eol(physical[line_no - 1])
        if raw != row_text or '"' in raw:
            return None
        if not raw.strip():
            continue  # a blank line is not a row
        values = raw.split(d)
        if len(values) != found or found == ncols:
            return None
        last = line_no == len(physical) and not ends_with_newline
        row = QuarantinedRow(line_no, field_count_reason(ncols, found, 1, last, line_no), raw)
        # padding or a shifted row: decided over the whole file
        (padded if found > ncols and not any(v.strip() for v in values[ncols:]) else quarantined).append(row)
    return quarantined, padded


def _line_breaks(fields: list[pa.Array], n: int) -> pa.Array:
    """Line ends (CRLF, CR or LF) inside each record's values. A column's values share one data
    buffer: only a column whose buffer holds a CR or LF is counted value by value."""
    total = _zeros(n)
    for f in fields:
        data = f.buffers()[2]
        raw = data.to_pybytes() if data is not None else b""
        if b"\n" in raw or b"\r" in raw:
            total = pc.add(total, pc.cast(pc.count_substring_regex(f, r"\r\n|\r|\n"), pa.int64()))
    return total


def _quoted_records_read_alike(
    physical: list[str], fields: list[pa.Array], lines: pa.Array, span: pa.Array, d: str
) -> bool:
    """Does Python's csv module, fed the physical lines of each record that holds a quote
    character, read exactly that record from them?"""
    first = lines.to_pylist()  # 1-based line of each record
    with_quote = [i + 1 for i, line in enumerate(physical) if '"' in line]
    records = sorted({bisect.bisect_right(first, line) - 1 for line in with_quote})
    records = [r for r in records if r >= 0]  # (a quote in the header line)
    if not records:
        return True
    idx = pa.array(records, pa.int64())
    expected = list(zip(*(f.take(idx).to_pylist() for f in fields)))
    spans = span.take(idx).to_pylist()
    # One reader over the records' lines in turn: a record that Python reads over more or fewer
    # lines than Arrow shifts every record after it, so the lists differ.
    segments = (physical[first[r] - 1 : first[r] - 1 + k] for r, k in zip(records, spans))
    try:
        got = list(map(tuple, csv.reader(itertools.chain.from_iterable(segments), delimiter=d, strict=True)))
    except csv.Error:
        return False
    return got == expected


def _rows_kept(fields: list[pa.Array], names: list[str]):
    """Which records are kept: ``True`` for all, a mask without the blank ones (whitespace-only
    fields: an empty line, or a blank line in spreadsheet form), or ``None`` when a record
    repeats the header (quarantined by the row-by-row reader)."""
    first = fields[0]
    suspect = pc.match_substring_regex(first, _MAYBE_BLANK)
    if names[0]:
        suspect = pc.or_(suspect, pc.match_substring(first, names[0]))
    idx = pc.indices_nonzero(suspect)
    if not len(idx):
        return True
    blank = []
    for i, row in zip(idx.to_pylist(), zip(*(f.take(idx).to_pylist() for f in fields))):
        if not "".join(row).strip():
            blank.append(i)
        elif [v.strip() for v in row] == names:
            return None
    if not blank:
        return True
    keep = [True] * len(first)
    for i in blank:
        keep[i] = False
    return pa.array(keep, pa.bool_())


def _extra_json(extras: list[tuple[str, pa.Array]], n: int) -> pa.Array:
    """The ``_extra`` column: ``json.dumps`` of the extra fields, as the row-by-row reader writes it."""
    if not extras:
        return pa.nulls(n, pa.string())
    if any(pc.any(pc.match_substring_regex(values, _JSON_ESCAPED)).as_py() for _, values in extras):
        lists = [values.to_pylist() for _, values in extras]
        names = [name for name, _ in extras]
        return pa.array([json.dumps(dict(zip(names, row)), ensure_ascii=False) for row in zip(*lists)], pa.string())
    # no value needs escaping: each is its text in quotes
    parts: list = []
    for k, (name, values) in enumerate(extras):
        parts += [("{" if k == 0 else ", ") + json.dumps(name, ensure_ascii=False) + ': "', values, '"']
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")
