"""JSON lines of flat objects (an SMS bulk export) read by Arrow's JSON reader, when it reads
them exactly as the line-by-line reader (``jsonl_reader``) would: else None, and that reader
reads the file.

The line-by-line reader makes a Python object of every key and every value of every line
(simdjson's keys, then its values: ~4 µs a line of a Twilio export of 11 keys, ~0.7 CPU s for
the 1,000,000-customer landing's 178,000 lines); Arrow reads the file's values into columns in
C (~0.12 s for 90,000 lines).

Taken only when every line would be loaded as read, which these checks make certain:

* every line starts with ``{``, is short enough to nest no deeper than json follows
  (``jsonl_reader._short_line_max``) and is one object simdjson reads: the lines the
  line-by-line reader's fast path reads (json reads them alike), one Arrow row each (a blank
  line, or two objects on one, would shift the rows: simdjson refuses both);
* Arrow reads the file without error: it refuses a key written twice in an object (where
  simdjson's first value and json's last differ) and a column whose values change type (and a
  lone surrogate, which simdjson refuses first);
* every key Arrow found stands for a column of the kind, no two for the same one: no key goes
  to ``_extra`` and no line has two spellings of a column;
* every column Arrow made is text, a 64-bit integer (written as ``int.__repr__`` writes it, as
  ``jsonl_reader.to_text`` does) or only nulls; a float, a boolean, a list or an object is left
  to the line-by-line reader, which writes them as json does;
* no required column holds a null (a line missing a required key is quarantined).

A key absent from a line is null, as a JSON null is. The file's bytes are UTF-8 without CR
(the caller's checks).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.json as pa_json
import simdjson

from cdp_pipeline.lib.raw.file_kinds import FileKind

_TEXT_TYPES = (pa.string(), pa.null())


def read_flat_lines(utf8: bytes, lines: list[bytes], kind: FileKind, short: int) -> dict | None:
    """``ParsedFile`` fields (``columns``, ``extra``, ``lines``) of ``lines`` (``utf8`` split at
    LF, less an empty last one), every line loaded; or None when one check above fails.
    ``short``: the longest line read without counting how deep it nests."""
    if not lines or kind.derived:
        return None
    parse = simdjson.Parser().parse
    for line in lines:
        if line[:1] != b"{" or len(line) > short:
            return None
        try:
            obj = parse(line)
        except (ValueError, RuntimeError):  # RuntimeError: an integer past 64 bits
            return None
        del obj  # the parser's document lives as long as a value taken from it
    try:
        table = pa_json.read_json(
            pa.py_buffer(utf8), read_options=pa_json.ReadOptions(use_threads=False), parse_options=_PARSE
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    n = len(lines)
    if table.num_rows != n:
        return None
    columns: dict[str, pa.ChunkedArray] = {}
    for name, values in zip(table.column_names, table.columns):
        column = kind.canonical(name)
        if column is None or column in columns:
            return None
        if values.type == pa.int64():
            values = values.cast(pa.string())
        elif values.type not in _TEXT_TYPES:
            return None
        columns[column] = values.cast(pa.string())
    if any(c not in columns or columns[c].null_count for c in kind.required):
        return None
    nulls = pa.nulls(n, pa.string())
    return {
        "columns": {c: columns.get(c, nulls) for c in kind.columns},
        "extra": nulls,
        "lines": pa.array(np.arange(1, n + 1, dtype=np.int64)),
    }


# newline-delimited: a line break inside a value is not JSON's anyway (the line would not parse)
_PARSE = pa_json.ParseOptions(newlines_in_values=False, unexpected_field_behavior="infer")
