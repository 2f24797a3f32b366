"""Writing extract files under the landing layout, and the bookkeeping the manifest needs.

Every file goes to ``<out_dir>/<source>/<YYYY-MM-DD>/<name>``. Rows are written in the
order given (callers sort), so the same inputs always give the same bytes.
"""

import codecs
import csv
import io
import random
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .fastrandom import FastRandom


@dataclass(frozen=True, slots=True)
class BrokenLine:
    """A physical line written verbatim: deliberately unreadable, listed in the manifest."""

    text: str
    reason: str
    final_newline: bool = True


class Output:
    """Writes files and remembers what was written: files, rows, broken lines, duplicates."""

    def __init__(self, out_dir: Path, seed: int, *, hard_cases: bool = False):
        self.out_dir = out_dir
        self.seed = seed
        # The sample has identity hard cases (hardcases.py); builders spell names accordingly.
        self.hard_cases = hard_cases
        self.files: list[str] = []
        self.rows: Counter = Counter()
        self.broken_rows: list[dict] = []
        self.duplicate_rows: list[dict] = []
        self.duplicate_files: list[list[str]] = []
        self.header_only_files: list[str] = []

    def rng(self, name: str) -> FastRandom:
        # A string seed is hashed with SHA-512 by random.seed: stable across runs and processes.
        return FastRandom(f"{self.seed}/{name}")

    def relpath(self, source: str, day: date, name: str) -> str:
        return f"{source}/{day.isoformat()}/{name}"

    def _write_bytes(self, rel: str, data: bytes) -> None:
        path = self.out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files.append(rel)

    def _sink(self, rel: str, encoding: str | None) -> "Sink":
        path = self.out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.files.append(rel)
        return Sink(path, encoding)

    def write_csv(
        self,
        source: str,
        day: date,
        name: str,
        header: list[str],
        rows: list,
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
        newline: str = "\n",
    ) -> str:
        """rows: lists of field strings, or BrokenLine for a deliberately unreadable line."""
        rel = self.relpath(source, day, name)
        with self._sink(rel, encoding) as buf:
            writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
            writer.writerow(header)
            data_rows = len(rows)
            done = 0  # rows before this index are written; the rows between broken lines go in one call
            for index in _broken_indices(rows):
                row = rows[index]
                _write_rows(buf, writer, rows[done:index], delimiter, newline)
                buf.write(row.text + (newline if row.final_newline else ""))
                line_number = index + 2  # header is line 1 and no field holds a line break
                self.broken_rows.append(
                    {"source": source, "file": rel, "line_number": line_number, "reason": row.reason}
                )
                done = index + 1
            _write_rows(buf, writer, rows[done:], delimiter, newline)
        if data_rows == 0:
            self.header_only_files.append(rel)
        self.rows[source] += data_rows
        return rel

    def write_joined_csv(
        self,
        source: str,
        day: date,
        name: str,
        header: list[str],
        lines: list,
        *,
        delimiter: str,
        encoding: str,
        newline: str,
    ) -> str:
        """write_csv for rows already joined by the caller: each a str of fields that need no
        quoting (the caller's own values: no delimiter, quote or line break in a field), or a
        BrokenLine."""
        rel = self.relpath(source, day, name)
        with self._sink(rel, encoding) as sink:
            sink.write(delimiter.join(header) + newline)
            done = 0
            for index in _broken_indices(lines):
                line = lines[index]
                sink.write_lines(lines, done, index, newline)
                sink.write(line.text + (newline if line.final_newline else ""))
                self.broken_rows.append(
                    {"source": source, "file": rel, "line_number": index + 2, "reason": line.reason}
                )
                done = index + 1
            sink.write_lines(lines, done, len(lines), newline)
        if not lines:
            self.header_only_files.append(rel)
        self.rows[source] += len(lines)
        return rel

    def write_lines(self, source: str, day: date, name: str, lines: list) -> str:
        """JSON lines: each item a serialised object (all text, or all UTF-8 bytes), or a BrokenLine."""
        rel = self.relpath(source, day, name)
        broken = _broken_indices(lines)
        as_bytes = type(next((line for line in lines if line.__class__ is not BrokenLine), "")) is bytes
        newline = b"\n" if as_bytes else "\n"
        with self._sink(rel, None if as_bytes else "utf-8") as sink:
            done = 0  # lines before this index are written
            for index in broken:
                line = lines[index]
                sink.write_lines(lines, done, index, newline)
                text = line.text + ("\n" if line.final_newline else "")
                sink.write(text.encode("utf-8") if as_bytes else text)
                self.broken_rows.append(
                    {"source": source, "file": rel, "line_number": index + 1, "reason": line.reason}
                )
                done = index + 1
            sink.write_lines(lines, done, len(lines), newline)
        self.rows[source] += len(lines)
        return rel

    def note_duplicate_row(self, source: str, rel: str, line_number: int, original_line: int) -> None:
        self.duplicate_rows.append(
            {"source": source, "file": rel, "line_number": line_number, "duplicate_of_line": original_line}
        )

    def copy_file(self, original: str, source: str, day: date, name: str) -> str:
        """Deliver the same bytes again under another name or day."""
        rel = self.relpath(source, day, name)
        target = self.out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.out_dir / original, target)
        self.files.append(rel)
        self.duplicate_files.append([original, rel])
        return rel


_CHUNK = 256
_LINES_AT_ONCE = 4096
_FLUSH_AT = 1 << 20  # characters (or bytes) gathered before they go to the file


class Sink:
    """A file written a megabyte at a time: a large day file (a campaign day's SMS or GA4
    lines) is never held whole beside its rows, as text and again as bytes. Text is encoded
    with the encoding's incremental encoder (errors replaced), which writes the bytes
    str.encode writes for the whole text (a byte-order mark once); encoding None: bytes given."""

    def __init__(self, path: Path, encoding: str | None):
        self._file = open(path, "wb")  # noqa: SIM115 (closed by __exit__)
        self._encode = codecs.getincrementalencoder(encoding)("replace").encode if encoding else None
        self._parts: list = []
        self._size = 0

    def write(self, text) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= _FLUSH_AT:
            self._flush(final=False)

    def write_lines(self, lines: list, start: int, stop: int, newline) -> None:
        """lines[start:stop], each followed by newline."""
        for begin in range(start, stop, _LINES_AT_ONCE):
            self.write(newline.join(lines[begin : min(stop, begin + _LINES_AT_ONCE)]) + newline)

    def _flush(self, *, final: bool) -> None:
        if self._encode is None:
            self._file.write(b"".join(self._parts))
        else:
            self._file.write(self._encode("".join(self._parts), final))
        self._parts.clear()
        self._size = 0

    def __enter__(self) -> "Sink":
        return self

    def __exit__(self, *exc) -> None:
        try:
            if exc[0] is None:
                self._flush(final=True)
        finally:
            self._file.close()


def _write_rows(buf: "Sink | io.StringIO", writer, rows: list, delimiter: str, newline: str) -> None:
    """writer.writerows(rows), the csv writer's QUOTE_MINIMAL bytes: rows a chunk at a time, a
    chunk whose rows all need no quoting (_write_row_by_row says which) as one join, checked on
    the joined text (most chunks: no field holds the delimiter, a quote or a line break)."""
    ends_r, ends_n = newline.count("\r"), newline.count("\n")
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        try:
            text = newline.join(map(delimiter.join, chunk))
        except TypeError:  # a field that is not a string
            text = None
        breaks = len(chunk) - 1
        if (
            text is None
            or min(map(len, chunk)) < 2
            or text.count(delimiter) != sum(map(len, chunk)) - len(chunk)
            or '"' in text
            or text.count("\r") != ends_r * breaks
            or text.count("\n") != ends_n * breaks
        ):
            _write_row_by_row(buf, writer, chunk, delimiter, newline)
        else:
            buf.write(text)
            buf.write(newline)


def _write_row_by_row(buf: "Sink | io.StringIO", writer, rows: list, delimiter: str, newline: str) -> None:
    """writer.writerows(rows), the csv writer's QUOTE_MINIMAL bytes: a row of two or more strings
    none of which holds the delimiter, a quote or a line break needs no quoting and is joined
    (several times faster than the writer's walk over every character); any other row goes
    through the writer."""
    lines: list[str] = []
    for row in rows:
        try:
            line = delimiter.join(row)
        except TypeError:  # a field that is not a string: the writer knows how to render it
            line = None
        if (
            line is None
            or len(row) < 2  # a lone empty field is written quoted
            or line.count(delimiter) != len(row) - 1
            or '"' in line
            or "\n" in line
            or "\r" in line
        ):
            buf.write("".join(lines))
            lines.clear()
            writer.writerow(row)
        else:
            lines.append(line)
            lines.append(newline)
    buf.write("".join(lines))


def _broken_indices(rows: list) -> list[int]:
    """Where the deliberately unreadable lines are among rows."""
    return [index for index, row in enumerate(rows) if row.__class__ is BrokenLine]


def with_duplicate_rows(out: Output, rng: random.Random, rows: list, rate: float) -> tuple[list, list[tuple[int, int]]]:
    """Repeat a few rows exactly (an export that wrote a row twice).

    Returns the new row list and (line_number, original_line_number) pairs for the copies.
    """
    result: list = []
    pairs: list[tuple[int, int]] = []
    for row in rows:
        result.append(row)
        if not isinstance(row, BrokenLine) and rng.random() < rate:
            original_line = len(result) + 1
            result.append(list(row) if isinstance(row, list) else row)
            pairs.append((len(result) + 1, original_line))
    return result, pairs
