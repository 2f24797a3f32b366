"""Which text encoding a delivered file is in, and whether it is text at all.

The contract allows UTF-8 (with or without BOM) and Windows-1252. A file that decodes
as UTF-8 is UTF-8; anything else is Windows-1252, decoded here in Python because
DuckDB's cp1252 support is an extension it downloads on first use (fails offline).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import pyarrow as pa

UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
UTF16 = "utf-16"
CP1252 = "windows-1252"

# Share of control characters (other than tab, CR, LF, FF) above which a file is
# binary, not text: real extracts have none, random bytes have ~11 %.
BINARY_CONTROL_SHARE = 0.02
_SAMPLE_CHARS = 65_536
_TEXT_CONTROLS = {"\t", "\n", "\r", "\f"}
_CONTROL_CHARS = re.compile("[" + "".join(re.escape(chr(c)) for c in range(32) if chr(c) not in _TEXT_CONTROLS) + "]")


def _cp1252_undefined_as_latin1(err: UnicodeDecodeError):
    # Five bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) have no Windows-1252 character. Windows
    # itself maps them to the C1 controls of the same value; do the same so no byte is lost.
    bad = err.object[err.start : err.end]
    return bad.decode("latin-1"), err.end


codecs.register_error("cdp_cp1252_c1", _cp1252_undefined_as_latin1)


class NotTextError(ValueError):
    """The bytes are not a text file (binary data)."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str


def decode_bytes(data: bytes) -> DecodedText:
    """Decode a file's bytes: UTF-8 (BOM noted), UTF-16 with BOM, else Windows-1252.

    Raises ``NotTextError`` when the content is binary (NUL bytes, control characters).
    """
    # each candidate decoded once: the decoding is the test (a day file is 10-100 MB)
    text = _utf8_or_none(memoryview(data)[len(codecs.BOM_UTF8) :]) if data.startswith(codecs.BOM_UTF8) else None
    if text is not None:
        decoded = DecodedText(text, UTF8_BOM)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            decoded = DecodedText(data.decode(UTF16), UTF16)
        except UnicodeDecodeError as exc:
            raise NotTextError(f"starts with a UTF-16 byte-order mark but is not UTF-16 ({exc.reason})") from exc
    elif (text := _utf8_or_none(data)) is not None:
        decoded = DecodedText(text, UTF8)
    else:
        decoded = DecodedText(data.decode(CP1252, errors="cdp_cp1252_c1"), CP1252)
    refuse_binary(decoded.text[:_SAMPLE_CHARS])
    return decoded


def refuse_binary(sample: str) -> None:
    """Raise ``NotTextError`` when a file whose text starts with ``sample`` (its first
    ``_SAMPLE_CHARS`` characters, or all) is binary content."""
    share = control_share(sample)
    if share > BINARY_CONTROL_SHARE:
        raise NotTextError(
            f"binary content, not a text file ({share:.0%} control or NUL characters in the first "
            f"{min(len(sample), _SAMPLE_CHARS)} characters)"
        )


@dataclass(frozen=True)
class Utf8Body:
    """A file ``decode_bytes`` reads as UTF-8, not decoded: its bytes after a BOM, the encoding."""

    utf8: bytes
    encoding: str

    def sample(self) -> str:
        """The first ``_SAMPLE_CHARS`` characters of the text (what ``refuse_binary`` looks at)."""
        # a character is at most 4 bytes; the cut may split the last one, which is left off
        return self.utf8[: 4 * _SAMPLE_CHARS + 4].decode(UTF8, errors="ignore")[:_SAMPLE_CHARS]


def utf8_body(data: bytes) -> Utf8Body | None:
    """``data`` as ``decode_bytes`` reads it when that is UTF-8 (with or without BOM), checked
    without making the text (Arrow's check agrees with Python's decoder); else None."""
    body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    if not _is_utf8(body):
        return None
    return Utf8Body(body, UTF8_BOM if body is not data else UTF8)


def _is_utf8(data: bytes) -> bool:
    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    try:
        pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data)).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def utf8_line_or_cp1252(line: str) -> str:
    """One line of a file that was decoded as Windows-1252 because *somewhere* it is not UTF-8:
    re-read the line as UTF-8 when its bytes are valid UTF-8. JSON lines are UTF-8 (RFC 8259);
    one bad byte on one line must not turn every å on every other line into mojibake."""
    if line.isascii():
        return line
    try:
        raw = line.encode(CP1252)
    except UnicodeEncodeError:
        # the five undefined bytes were kept as C1 controls (see _cp1252_undefined_as_latin1)
        raw = b"".join(ch.encode("latin-1") if "\x80" <= ch <= "\x9f" else ch.encode(CP1252) for ch in line)
    try:
        return raw.decode(UTF8)
    except UnicodeDecodeError:
        return line


def control_share(text: str) -> float:
    sample = text[:_SAMPLE_CHARS]
    if not sample:
        return 0.0
    return len(_CONTROL_CHARS.findall(sample)) / len(sample)


def _utf8_or_none(data: bytes | memoryview) -> str | None:
    """The bytes decoded as UTF-8, or None when they are not UTF-8."""
    try:
        return str(data, UTF8)
    except UnicodeDecodeError:
        return None
