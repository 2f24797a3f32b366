"""Reading newline-delimited JSON (GA4 events, SMS bulk exports), one object per line, or
one JSON array of objects.

Every line (every element of an array) becomes a raw row or a quarantine row. Exact
duplicate lines are kept (GA4 delivers at least once; staging deduplicates events, raw
keeps what arrived).
"""

from __future__ import annotations

import json
import operator
import re
import sys
import threading
from collections.abc import Callable

import numpy as np
import orjson
import pyarrow as pa
import simdjson

from cdp_pipeline.lib.raw.encoding import CP1252, UTF8, utf8_line_or_cp1252
from cdp_pipeline.lib.raw.file_kinds import WEB_EVENTS, FileKind, events_day_from_name
from cdp_pipeline.lib.raw.jsonl_arrow import read_flat_lines
from cdp_pipeline.lib.raw.parsed import FileRejected, ParsedFile, QuarantinedRow

_COMPACT = (",", ":")
_RAW_PREVIEW_CHARS = 10_000


def _first_words(exc: BaseException) -> str:
    """The start of an exception's message: the kind of problem, not the value."""
    return str(exc).split(":")[0][:80]


def to_text(value) -> str | None:
    """A JSON value as raw VARCHAR: strings as they are, everything else as JSON text."""
    if value is None or isinstance(value, str):
        return value
    if type(value) is int:
        # what json.dumps writes for an int, without its encoder set up per value (GA4's
        # event_timestamp is a number on every line)
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False, separators=_COMPACT)


def read_jsonl_text(
    text: str | None,
    *,
    kind: FileKind,
    file_name: str,
    encoding: str,
    utf8: bytes | None = None,
    counts_only: bool = False,
) -> ParsedFile:
    """``_read_jsonl_text`` in a thread of its own. How deep json reads (and writes back, for a
    kept value) before it gives up is the recursion limit less the stack already in use, so a
    line nested some hundreds of levels deep was read by a shallow caller (a parse worker, a
    test) and quarantined by a deep one (a Dagster step). From a new thread's stack the answer
    is the same wherever the file is read. One thread per file: microseconds."""
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["parsed"] = _read_jsonl_text(
                text, kind=kind, file_name=file_name, encoding=encoding, utf8=utf8, counts_only=counts_only
            )
        except BaseException as exc:  # raised again in the caller's thread
            out["error"] = exc

    thread = threading.Thread(target=run, name=f"jsonl {file_name}")
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["parsed"]  # type: ignore[return-value]


def _read_jsonl_text(
    text: str | None,
    *,
    kind: FileKind,
    file_name: str,
    encoding: str,
    utf8: bytes | None = None,
    counts_only: bool = False,
) -> ParsedFile:
    """Parse JSON lines into column lists for ``kind``'s raw table. ``utf8``: the file's bytes
    when they are UTF-8 (BOM left off), read by the fast path below; then ``text`` may be None
    (the text of them is made only when the file is one JSON array, or starts with white space
    past ASCII).

    Lines are split on LF only (a raw U+2028 may legally sit inside a JSON string).
    A line that is not a JSON object, or lacks a required key (absent or null), is
    quarantined with its line number. A file that is one JSON array of objects (an "export
    as JSON" instead of JSON lines, often pretty-printed) is read element by element, each
    with the line it starts on; its records are kept compact (``event_json``).

    ``counts_only``: every line is read and judged alike, but the loaded rows' values are not
    kept (``ParsedFile.counted_only``): what a GA4 file that will not be written needs for its
    ledger entry (``held_deliveries.likely_unwritten``).
    """
    if text is None:
        text = _text_needed(utf8)
        blank = text is None and _ASCII_SPACE_UTF8.match(utf8).end() == len(utf8)
    if text is not None:
        blank = not text or text.isspace()  # what strip() strips, without a copy of the text
    if blank:
        raise FileRejected("no data: the file has no text", encoding=encoding, file_kind=kind.name)
    parsed = ParsedFile(kind=kind, encoding=encoding, delimiter=None)
    rows = _Rows(kind, file_name, parsed)
    rows.counts_only = parsed.counted_only = counts_only
    elements = _array_elements(text) if text is not None else None
    if elements is not None:
        for line_no, obj in elements:
            record = json.dumps(obj, ensure_ascii=False, separators=_COMPACT)
            # json.dumps writes a lone surrogate as the character it is
            surrogate = None if record.isascii() else _SURROGATE.search(record)
            rows.add(line_no, obj, record, surrogate and surrogate.group())
        rows.finish()
        return parsed
    # A line is a slice of text decoded strictly (UTF-8, UTF-16 or Windows-1252), so it holds no
    # surrogate itself: only json's decoding of a \uD800-\uDFFF escape makes one. Only a file, then
    # a line, with such an escape is looked at closer.
    if utf8 is not None:  # the same answers from the bytes (the characters looked for are ASCII)
        escapes = b"\\" in utf8 and _SURROGATE_ESCAPE_UTF8.search(utf8) is not None
        ends_with_newline = utf8.endswith(b"\n")
    else:
        escapes = "\\" in text and _SURROGATE_ESCAPE.search(text) is not None
        ends_with_newline = text.endswith("\n")
    # The UTF-8 bytes split on LF give the same lines as the text (0x0A is only ever LF in UTF-8)
    lines = (utf8 if utf8 is not None else text).split(b"\n" if utf8 is not None else "\n")
    if ends_with_newline:
        lines.pop()
    last = len(lines)
    crlf = utf8 is not None and b"\r" in utf8
    if utf8 is not None and not (crlf or counts_only):
        # a file of flat objects (an SMS bulk export) Arrow reads as this reader would (a lone
        # surrogate's line is one simdjson and Arrow refuse: then this reader reads the file)
        flat = read_flat_lines(utf8, lines, kind, _short_line_max())
        if flat is not None:
            parsed.columns, parsed.extra, parsed.lines = flat["columns"], flat["extra"], flat["lines"]
            return parsed
    add = rows.add
    quarantine = parsed.quarantined.append
    cp1252 = encoding == CP1252
    loads = json.loads
    fast_loads = orjson.loads
    add_plain = rows.add_plain

    def read_line(i: int, line: str | bytes) -> None:
        # a line as Python's json reads it (a line of UTF-8 bytes: one simdjson did not keep)
        if type(line) is bytes:
            line = line.decode(UTF8)
        record = line[:-1] if line.endswith("\r") else line
        # blank lines are skipped; a line that starts with no white space is not blank (the
        # common case, tested without copying the line as strip() does)
        first = record[:1]
        if not first or (first.isspace() and not record.strip()):
            return
        if cp1252:
            record = utf8_line_or_cp1252(record)
        # orjson reads a line twice as fast as json. An object it reads is kept when every value
        # kept from it is one both read alike (``add_plain``); any other line (one orjson
        # refuses: NaN, a lone surrogate, ...; or with a float, where orjson also reads an
        # integer past 64 bits) is json's, and json's errors are the quarantine's reasons. So is
        # a line that could nest near the recursion limit, where json may give up and orjson not.
        if record.count("[") + record.count("{") <= _FAST_OPENINGS_MAX:
            try:
                obj = fast_loads(record)
            except ValueError:  # orjson.JSONDecodeError
                pass
            else:
                if type(obj) is dict and add_plain(i, obj, record):
                    return
        try:
            obj = loads(record)
        except json.JSONDecodeError as exc:
            prefix = "truncated last line: " if i == last and not ends_with_newline else ""
            quarantine(QuarantinedRow(i, f"{prefix}invalid JSON: {exc.msg} at column {exc.colno}", record))
            return
        except RecursionError:
            # json's C decoder gives up past ~1,000 levels; one such line must not cost the file
            quarantine(QuarantinedRow(i, "invalid JSON: nested too deeply to be read", record[:_RAW_PREVIEW_CHARS]))
            return
        except ValueError as exc:
            # e.g. an integer of more than 4,300 digits (Python's int conversion limit): one such
            # line must not cost the file either
            quarantine(QuarantinedRow(i, f"invalid JSON: a value could not be read ({_first_words(exc)})", record))
            return
        if escapes and _SURROGATE_ESCAPE.search(record):
            add(i, obj, record, _first_surrogate(obj))
        else:
            add(i, obj, record)

    if utf8 is not None:
        rows.file_lines = None if counts_only else _FileLines(utf8, lines, crlf)
        rows.read_lazily(lines, crlf, read_line)
    else:
        for i, line in enumerate(lines, start=1):
            read_line(i, line)
    rows.finish()
    return parsed


# A line with at most this many "[" and "{" nests at most this deep: far below where json's
# recursion limit (~1,000 levels less the stack of read_jsonl_text's thread) or orjson's (1,024)
# stops a read.
_FAST_OPENINGS_MAX = 200

# In read_jsonl_text's thread json follows a line nested to the recursion limit less the frames
# in use (992 of 1,000 levels measured, Python 3.11); this many levels less leaves room to spare.
_THREAD_FRAMES = 200


def _short_line_max() -> int:
    """The longest line simdjson may read without a count of its "[" and "{": a line it reads
    is valid JSON, so it nests at most half its length deep (each level opens and closes), and
    one this short nests less deep than json follows in read_jsonl_text's thread. At Python's
    default recursion limit (1,000): 1,600 bytes, every GA4 line of the 1M landing (672-1,129 bytes)."""
    return 2 * max(0, sys.getrecursionlimit() - _THREAD_FRAMES)


_LAZY_OBJECT = simdjson.Object

# JSON values orjson and json read alike (``_Rows.add_plain``); None stands for null.
_PLAIN_TYPES = frozenset({str, int, bool, type(None)})

# A key no JSON object has (JSON keys are strings): ``obj.get(_ABSENT)`` is None.
_ABSENT = object()

_NONE = (None,)

# (the keys of value_columns an object has, how their values become value_columns' or None when
# they are in order, the keys kept in _extra)
_LazyPlan = tuple[tuple[str, ...], Callable[[tuple], tuple] | None, tuple[str, ...]]


def _arranger(indexes: list[int]) -> Callable[[tuple], tuple]:
    """A function taking the items at ``indexes`` of a tuple, as a tuple."""
    if len(indexes) == 1:
        (i,) = indexes
        return lambda values: (values[i],)
    return operator.itemgetter(*indexes)


class _Rows:
    """The raw rows (or quarantine rows) of one file's JSON records.

    ``add`` keeps, per record, only the values of the kind's columns (an object's keys are
    mapped to columns once per distinct key list, not per record); ``finish`` checks and
    converts them column by column. A record that is not loaded becomes a quarantine row with
    the first reason that applies, in this order: not an object, a required key missing,
    event_timestamp not an INT64 (GA4), a lone surrogate anywhere in it."""

    def __init__(self, kind: FileKind, file_name: str, parsed: ParsedFile) -> None:
        self.kind, self.parsed = kind, parsed
        self.key_map: dict[str, str | None] = {}
        self.is_web = kind is WEB_EVENTS
        self.events_day = events_day_from_name(file_name) if self.is_web else None
        self.value_columns = [c for c in kind.columns if c not in kind.derived]
        # key list of an object -> (the key read for each value column, the keys kept in _extra)
        self.plans: dict[tuple[str, ...], tuple[tuple, tuple[str, ...]]] = {}
        self.lazy_plans: dict[tuple[str, ...], _LazyPlan | None] = {}
        self.values: list[tuple] = []  # per record: the JSON values of value_columns
        self.extras: dict[int, str] = {}  # record index -> _extra (SMS keys outside the contract)
        self.surrogates: dict[int, str] = {}  # record index -> the first lone surrogate it holds
        self.records: list[str | bytes] = []  # the line as text, or its UTF-8 bytes (``read_lazily``)
        self.line_nos: list[int] = []
        self.not_objects: dict[int, str] = {}  # record index -> why it is quarantined
        self.no_values = (None,) * len(self.value_columns)
        self.file_lines: _FileLines | None = None  # the lines' bytes, when read from UTF-8 bytes
        self.counts_only = False  # keep no loaded row's values (``_read_jsonl_text``)

    def _plan(self, shape: tuple[str, ...]) -> tuple[tuple, tuple[str, ...]]:
        # Each column is read from the key kind.rank puts first (the column's own name over an
        # alias, wherever it is in the object, as the CSV reader chooses); a key that stands for
        # no column, or for one read from another key, goes to _extra in the object's order (a
        # GA4 line is kept whole in event_json instead).
        read: dict[str, str] = {}
        for key in shape:
            col = self.key_map.get(key, "?")
            if col == "?":
                col = self.key_map[key] = self.kind.canonical(key)
            if col is not None and (col not in read or self.kind.rank(key, col) < self.kind.rank(read[col], col)):
                read[col] = key
        chosen = set(read.values())
        unknown = [key for key in shape if key not in chosen]
        plan = (tuple(read.get(c, _ABSENT) for c in self.value_columns), () if self.is_web else tuple(unknown))
        self.plans[shape] = plan
        return plan

    def add_plain(self, line_no: int, obj: dict, record: str) -> bool:
        """``add`` for an object read by orjson, when every value it keeps (in a column or in
        _extra) is a string, an integer, a boolean or null, read alike by orjson and json (orjson
        reads an integer past 64 bits as a float, json as an integer). Else adds nothing: False.
        (orjson refuses a lone surrogate, so the object has none.)"""
        shape = tuple(obj)
        keys, unknown = self.plans.get(shape) or self._plan(shape)
        return self._add_if_plain(line_no, tuple(map(obj.get, keys)), obj, unknown, record)

    def _lazy_plan(self, shape: tuple[str, ...]) -> _LazyPlan | None:
        # ``_plan`` as the keys the object has and how their values become value_columns' (an
        # absent column is None); None for an object with a key twice, where simdjson's get()
        # finds the first value and json keeps the last
        if len(set(shape)) < len(shape):
            self.lazy_plans[shape] = None
            return None
        keys, unknown = self.plans.get(shape) or self._plan(shape)
        present = tuple(k for k in keys if k is not _ABSENT)
        if len(present) == len(keys):
            arrange = None
        else:
            # simdjson's get() of a key the object lacks costs ~3 µs (a KeyError raised and
            # caught): 60 % of an SMS bulk export's parse time, whose lines lack 3 of 14 columns
            at = iter(range(len(present)))
            arrange = _arranger([len(present) if k is _ABSENT else next(at) for k in keys])
        plan = (present, arrange, unknown)
        self.lazy_plans[shape] = plan
        return plan

    def read_lazily(self, lines: list[bytes], crlf: bool, read_line: Callable[[int, bytes], None]) -> None:
        """Add the UTF-8 ``lines`` (numbered from 1) that simdjson reads as ``add_plain`` would
        keep them; hand every other line to ``read_line``, in order.

        simdjson validates a line whole but makes Python objects only of the values asked for
        (GA4's nested event_params, items, device ... stay in event_json, unread here). A line it
        reads is kept when it is what json would read alike: an object with no key twice (where
        simdjson's get() finds the first value and json keeps the last) whose kept values are
        strings, integers, booleans or null. simdjson refuses a lone surrogate, NaN, a trailing
        comma, an integer past 64 bits, a number out of a double's range, nesting past 1,024, and
        accepts a leading BOM (json does not: only a line starting with "{" is tried). The loop
        is written out in full: it runs once per line, a method call per line was a tenth of a
        GA4 file's parse time.

        Measured per GA4 line (~700 bytes, 100,000-customer landing): simdjson's parse ~0.6 µs,
        its keys (``tuple(obj)``) ~0.8 µs, the five values ~0.9 µs, the "[" and "{" count ~1.3 µs
        (made only of a line longer than ``_short_line_max``: none of a GA4 export's). Reading the lines with DuckDB's JSON functions instead was measured slower (6.4 against
        4.8 CPU s for the 587,662 lines): each function parses the line again (json_valid,
        json_keys, json_extract ~1-2 µs each), and what makes yyjson read as json does (no NaN
        in other spellings, no trailing comma, no key twice, nesting) costs as much again."""
        parse = simdjson.Parser().parse
        plans = self.lazy_plans
        lazy_plan = self._lazy_plan
        add_if_plain = self._add_if_plain
        plain = _PLAIN_TYPES.issuperset
        append_record, append_line, append_values = self.records.append, self.line_nos.append, self.values.append
        last_shape = last_plan = None
        short = _short_line_max()
        for i, line in enumerate(lines, start=1):
            if line[:1] == b"{":
                record = line[:-1] if crlf and line.endswith(b"\r") else line
                # the count (~1 µs a GA4 line, a sixth of its parse) only for a line long enough
                # to nest deeper than json follows
                if len(record) <= short or record.count(b"[") + record.count(b"{") <= _FAST_OPENINGS_MAX:
                    try:
                        obj = parse(record)
                    except (ValueError, RuntimeError):  # RuntimeError: an integer past 64 bits
                        obj = None
                    kept = False
                    if type(obj) is _LAZY_OBJECT:
                        shape = tuple(obj)  # its keys
                        if shape != last_shape:  # a file's lines mostly have one shape
                            plan = plans.get(shape, _ABSENT)
                            last_shape, last_plan = shape, lazy_plan(shape) if plan is _ABSENT else plan
                        if last_plan is not None:
                            present, arrange, unknown = last_plan
                            values = tuple(map(obj.get, present))
                            if arrange is not None:
                                values = arrange(values + _NONE)
                            if unknown:
                                kept = add_if_plain(i, values, obj, unknown, record)
                            elif plain(map(type, values)):
                                append_record(record)
                                append_line(i)
                                append_values(values)
                                kept = True
                    # the parser's document lives as long as a value taken from it: none is kept
                    # (a value not plain, not kept, would make the next line's parse fail)
                    del obj
                    values = None
                    if kept:
                        continue
            read_line(i, line)

    def _add_if_plain(self, line_no: int, values: tuple, obj, unknown: tuple[str, ...], record) -> bool:
        # ``values`` (of value_columns) and the values ``unknown`` names, added when each is plain
        # (both readers read those alike)
        if not _PLAIN_TYPES.issuperset(map(type, values)):
            return False
        if unknown:
            extra = {k: obj[k] for k in unknown}
            if not _PLAIN_TYPES.issuperset(map(type, extra.values())):
                return False
            self.extras[len(self.values)] = json.dumps(extra, ensure_ascii=False)
        self.records.append(record)
        self.line_nos.append(line_no)
        self.values.append(values)
        return True

    def add(self, line_no: int, obj, record: str, surrogate: str | None = None) -> None:
        """``surrogate``: the first lone UTF-16 surrogate the record holds, if any (a string
        escaping half a pair, "\\ud800", decodes to one in Python). Such a record cannot be stored
        as text, nor read by DuckDB's JSON functions (staging reads event_json): it is quarantined,
        and the quarantine keeps the record backslash-escaped."""
        if surrogate:
            record = record.encode("utf-8", "backslashreplace").decode("utf-8")
        index = len(self.values)
        self.records.append(record)
        self.line_nos.append(line_no)
        if not isinstance(obj, dict):
            self.not_objects[index] = f"not a JSON object (found {type(obj).__name__})"
            self.values.append(self.no_values)
            return
        shape = tuple(obj)
        keys, unknown = self.plans.get(shape) or self._plan(shape)
        if unknown:
            self.extras[index] = json.dumps({k: obj[k] for k in unknown}, ensure_ascii=False)
        if surrogate:
            self.surrogates[index] = surrogate
        self.values.append(tuple(map(obj.get, keys)))

    def finish(self) -> None:
        parsed, kind = self.parsed, self.kind
        n = len(self.values)
        values = self.values
        # column by column: a third of the time of zip(*values) over a GA4 file's rows
        raw = {c: [v[j] for v in values] for j, c in enumerate(self.value_columns)}
        self.values = values = []
        records, line_nos = self.records, self.line_nos
        bad = dict(self.not_objects)  # record index -> why it is quarantined (the first reason)

        required = [raw[c] for c in kind.required]
        if any(None in col for col in required):
            for i in sorted({i for col in required if None in col for i, v in enumerate(col) if v is None}):
                if i in bad:
                    continue
                missing = [c for c, col in zip(kind.required, required) if col[i] is None]
                bad[i] = f"missing required key(s): {', '.join(missing)}"
        whole_ints = False  # every event_timestamp a JSON integer within 64 bits
        if self.is_web:
            ts = raw["event_timestamp"]
            whole_ints = bool(ts) and set(map(type, ts)) == {int} and -(2**63) <= min(ts) and max(ts) < 2**63
            if not whole_ints:
                for i, v in enumerate(ts):
                    if i not in bad and not is_int64(v):
                        bad[i] = f"event_timestamp is not a whole number of microseconds (found {to_text(v)[:40]!r})"

        for i, surrogate in self.surrogates.items():
            if i not in bad:
                bad[i] = f"invalid text: a string holds a lone UTF-16 surrogate (\\u{ord(surrogate):04x})"

        # counting: only what the notes need (the cookieless events' user_pseudo_id)
        kept = ("user_pseudo_id",) if self.counts_only and self.is_web else () if self.counts_only else raw
        # A GA4 file with every row loaded (the common file) gets Arrow columns, made here in C from
        # the values rather than as lists of texts that the parse worker then makes Arrow arrays of
        # (parse_pool._Rows): ~9 of a 1M GA4 file's ~150 ms.
        arrow = self.is_web and not self.counts_only and not bad
        cols = {
            c: _arrow_texts(raw[c], whole_ints and c == "event_timestamp") if arrow else _texts(raw[c]) for c in kept
        }
        extra = [None] * n
        for i, e in self.extras.items():
            extra[i] = e

        if bad:
            keep = [i for i in range(n) if i not in bad]
            cols = {c: [v[i] for i in keep] for c, v in cols.items()}
            extra = [extra[i] for i in keep]
            loaded_records = [] if self.counts_only else [records[i] for i in keep]
            loaded_lines = [line_nos[i] for i in keep]
            # in the order read (two elements of an array may start on one line), merged by line
            # with the lines that are not JSON (one quarantine row per line at most)
            rejected = [QuarantinedRow(line_nos[i], bad[i], _text(records[i])) for i in sorted(bad)]
            parsed.quarantined = sorted(parsed.quarantined + rejected, key=lambda q: q.line_number)
        else:
            loaded_records, loaded_lines = records, line_nos

        if self.is_web:
            if not self.counts_only:
                day = self.events_day
                cols["events_day"] = pa.repeat(pa.scalar(day, pa.string()), n) if arrow else [day] * len(loaded_lines)
                # a loaded line's record is the line as received (less a CR ending it)
                lines_read = self.file_lines
                cols["event_json"] = (
                    _utf8_texts(loaded_records) if lines_read is None else lines_read.texts(loaded_lines)
                )
            # (the values themselves when made Arrow: texts or None, the same)
            pseudo_ids = raw["user_pseudo_id"] if arrow else cols["user_pseudo_id"]
            cookieless = pseudo_ids.count(None) + sum(1 for v in pseudo_ids if v is not None and not v.strip())
        else:
            cookieless = 0
        parsed.columns = {} if self.counts_only else {c: cols[c] for c in kind.columns}
        parsed.extra = [] if self.counts_only else pa.nulls(n, pa.string()) if arrow and not self.extras else extra
        parsed.lines = loaded_lines
        if cookieless:
            parsed.notes.append(
                f"{cookieless} consent-mode (cookieless) event(s) without user_pseudo_id: loaded, "
                "counted, not attributed to a visitor"
            )


def _text(record: str | bytes) -> str:
    return record.decode(UTF8) if type(record) is bytes else record


def _utf8_texts(records: list[str | bytes]) -> list[str] | pa.Array:
    """Records as raw VARCHAR: an Arrow array straight from their UTF-8 bytes when any is bytes
    (no Python string is made of a GA4 line read by simdjson). Bytes records are lines of a file
    that decoded as UTF-8, cut at LF or CR: valid UTF-8, so not validated again."""
    if not any(type(r) is bytes for r in records):
        return records
    if not all(type(r) is bytes for r in records):
        records = [r if type(r) is bytes else r.encode(UTF8) for r in records]
    return pa.array(records, pa.binary()).view(pa.string())


class _FileLines:
    """The lines of a UTF-8 file (``utf8.split(b"\\n")``, less an empty last one) as slices of its
    bytes: an Arrow array of some of them is cut from the file in C, no Python bytes per line."""

    def __init__(self, utf8: bytes, lines: list[bytes], crlf: bool) -> None:
        self.utf8, self.crlf = utf8, crlf
        self.lengths = lengths = np.fromiter(map(len, lines), np.int64, len(lines))
        self.ends = np.cumsum(lengths + 1) - 1  # where each line's LF is (or would be)
        self.starts = self.ends - lengths

    def texts(self, line_nos: list[int]) -> pa.Array:
        """The lines numbered ``line_nos`` (ascending, from 1), a CR ending one left off, as text."""
        k = len(line_nos)
        if k == len(self.lengths) and not self.crlf and (not k or line_nos[-1] == k):
            return self._all_lines()
        idx = np.asarray(line_nos, np.int64) - 1
        starts, ends = self.starts[idx], self.ends[idx]
        if self.crlf:
            data = np.frombuffer(self.utf8, np.uint8)
            ends = ends - ((ends > starts) & (data[np.maximum(ends - 1, 0)] == 13))
        # the lines and what lies between them, alternately: every other slice is a line
        offsets = np.empty(2 * k + 1, np.int64)
        offsets[0:-1:2], offsets[1::2], offsets[-1] = starts, ends, len(self.utf8)
        pieces = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), 2 * k, [None, pa.py_buffer(offsets), pa.py_buffer(self.utf8)]
        )
        # slices of UTF-8 text cut at LF or CR: valid UTF-8, not validated again
        return pieces.take(pa.array(np.arange(0, 2 * k, 2))).view(pa.large_string()).cast(pa.string())

    def _all_lines(self) -> pa.Array:
        """Every line, none ending in CR (a GA4 export, every line loaded): the file's bytes less
        its LFs are the lines one after the other, so the array is those bytes and the lines'
        lengths summed. ``bytes.replace`` copies them once; cutting them out as ``texts`` does took
        28 of a 1,000,000-customer GA4 file's 160 ms to parse (38,000 lines, 27 MB)."""
        offsets = np.zeros(len(self.lengths) + 1, np.int64)
        np.cumsum(self.lengths, out=offsets[1:])
        data = pa.py_buffer(self.utf8.replace(b"\n", b""))
        # valid UTF-8 cut at LF, as in ``texts``; 64-bit offsets, made 32-bit as ``texts`` gives them
        joined = pa.LargeStringArray.from_buffers(len(self.lengths), pa.py_buffer(offsets), data)
        return joined.cast(pa.string())


def _texts(values: list) -> list:
    """JSON values as raw VARCHAR (``to_text``), column-wise."""
    types = set(map(type, values))
    if types <= _TEXT_TYPES:
        return values
    if types == _INT_TYPE:  # GA4's event_timestamp
        return list(map(int.__repr__, values))
    return [v if v is None or type(v) is str else to_text(v) for v in values]


def _arrow_texts(values: list, whole_ints: bool) -> pa.Array | list:
    """``_texts`` as an Arrow array of strings. ``whole_ints``: every value is an int within 64
    bits, written by Arrow as ``int.__repr__`` writes it. Else Arrow takes the values when each is
    a string or None (it refuses any other: then ``_texts`` as a list)."""
    if whole_ints:
        return pa.array(values, pa.int64()).cast(pa.string())
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid, UnicodeEncodeError):
        return _texts(values)


_TEXT_TYPES = {str, type(None)}
_INT_TYPE = {int}


_INT64 = re.compile(r"-?[0-9]{1,19}")
_SURROGATE = re.compile("[\ud800-\udfff]")
# a JSON escape of a UTF-16 surrogate, or a backslash before one ("\\\\ud800": not an escape)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_UTF8 = re.compile(_SURROGATE_ESCAPE.pattern.encode())


def _first_surrogate(obj) -> str | None:
    """The first lone surrogate in a decoded JSON value's strings, keys included (in the order
    written), or None. Walked without recursion: the value may be nested as deep as json reads."""
    stack = [obj]
    while stack:
        value = stack.pop()
        if type(value) is str:
            m = _SURROGATE.search(value)
            if m:
                return m.group()
        elif type(value) is dict:
            for key, item in reversed(value.items()):
                stack += (item, key)
        elif type(value) is list:
            stack.extend(reversed(value))
    return None


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
_WHITESPACE_UTF8 = re.compile(rb"[ \t\n\r]*")
# What str.isspace() calls white space among ASCII characters.
_ASCII_SPACE_UTF8 = re.compile(rb"[\t\n\x0b\x0c\r\x1c-\x1f ]*")


def _text_needed(utf8: bytes) -> str | None:
    """The text of UTF-8 bytes when ``read_jsonl_text`` needs it: the file may be blank (white
    space past ASCII first) or one JSON array (``[`` first); else None."""
    at = _ASCII_SPACE_UTF8.match(utf8).end()
    if at < len(utf8) and utf8[at] >= 0x80:
        return utf8.decode(UTF8)
    if utf8.startswith(b"[", _WHITESPACE_UTF8.match(utf8).end()):
        return utf8.decode(UTF8)
    return None


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
