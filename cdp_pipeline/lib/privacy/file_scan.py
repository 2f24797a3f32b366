"""Find an erased person in the bytes of the files the pipeline keeps, as ``grep -a`` would.

A table scan (``scan``) sees live rows only; a database file also holds deleted rows in its
free blocks until it is rewritten, and a WAL holds what was written since the last
checkpoint. So the blocking check also reads the files themselves:

- the **identifiers named in request files** (emails, phones in their forms, and the SHA-256
  forms sent to ad platforms), matched as bytes, case-insensitively, anywhere;
- every **email, E.164 phone and 64-hex hash** found in the bytes, tested against the
  suppression list's salted hashes: this finds the phone of someone who asked by email,
  which no request file names. Values sit back to back in a database block, so each
  candidate is also tried with neighbouring characters cut off.

Short ids (``1001``) are not looked for in bytes: they occur in every file by chance.
The scan can only see values stored as plain text; DuckDB may compress a column so that
no value appears whole. That is why publish and erasure rewrite files with live rows only
(lib/warehouse.py) rather than rely on this scan: it is the tripwire, not the mechanism.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cdp_pipeline.lib.privacy.scan import IdentifierSet
from cdp_pipeline.lib.privacy.suppression import identifier_hash

_EMAIL = re.compile(rb"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,8}")
_PHONE = re.compile(rb"\+[1-9][0-9]{6,20}")
_HEX = re.compile(rb"[0-9a-fA-F]{64,}")


@dataclass(frozen=True)
class FileMatch:
    path: Path
    identifiers: int  # occurrences of identifiers named in request files
    suppressed: int   # distinct values whose salted hash is on the suppression list


def _literal_pattern(ids: IdentifierSet) -> re.Pattern[bytes] | None:
    values = sorted({v.encode("utf-8") for v in ids.distinctive}, key=lambda b: (-len(b), b))
    if not values:
        return None
    return re.compile(b"|".join(re.escape(v) for v in values), re.IGNORECASE)


def _email_candidates(token: bytes) -> set[str]:
    """``token`` and its forms with neighbouring bytes cut: local-part suffixes x domain prefixes."""
    # lower() is the suppression hash's normal form of an address this regex can match
    # (normalise_email only also strips spaces, <> and mailto:, which it cannot contain).
    local, _, domain = token.decode("ascii").lower().partition("@")
    first_dot = domain.find(".")
    ends = [i for i in range(first_dot + 3, len(domain) + 1) if domain[i - 1].isalnum() and domain[i - 2] != "."]
    return {local[start:] + "@" + domain[:end] for start in range(len(local)) for end in ends}


def _phone_candidates(token: bytes) -> set[str]:
    digits = token.decode("ascii")
    return {digits[:n] for n in range(8, min(len(digits), 16) + 1)}


def _hex_candidates(token: bytes) -> set[str]:
    text = token.decode("ascii").lower()
    return {text[i:i + 64] for i in range(len(text) - 63)}


def suppressed_values_in(data: bytes | mmap.mmap, hashes: frozenset[str] | set[str], salt: str, *,
                         deep: bool = True) -> int:
    """How many distinct phones (and with ``deep``, emails and 64-hex hashes) in ``data`` are on the
    suppression list."""
    if not hashes or not salt:
        return 0
    candidates: set[str] = set()
    for m in _PHONE.finditer(data):
        candidates |= _phone_candidates(m.group())
    if deep:
        for m in _EMAIL.finditer(data):
            candidates |= _email_candidates(m.group())
        for m in _HEX.finditer(data):
            candidates |= _hex_candidates(m.group())
    return sum(1 for c in candidates if identifier_hash(c, salt) in hashes)


def scan_file(path: Path, ids: IdentifierSet, hashes: frozenset[str] | set[str] = frozenset(),
              salt: str = "") -> FileMatch | None:
    """A ``FileMatch`` when ``path``'s bytes hold an erased identifier; None when clean or absent.

    In a DuckDB database file (not its WAL) suppressed values are looked for as phones only:
    trying every email and hash there with its neighbours cut off costs about 8 s per 50 MB
    (10k-customer sample), and a database file the pipeline keeps is a logical copy holding
    live rows only, which the table scan (``scan_for_suppressed_values``) already covers.
    Request identifiers are looked for in every file."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None
    pattern = _literal_pattern(ids)
    if pattern is None and not (hashes and salt):
        return None
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        literal = sum(1 for _ in pattern.finditer(data)) if pattern else 0
        deep = data[8:12] != b"DUCK"   # the DuckDB file header
        suppressed = suppressed_values_in(data, hashes, salt, deep=deep)
    if literal or suppressed:
        return FileMatch(path, literal, suppressed)
    return None


def scan_files(paths: Iterable[Path], ids: IdentifierSet, hashes: frozenset[str] | set[str] = frozenset(),
               salt: str = "") -> list[FileMatch]:
    return [m for p in paths if (m := scan_file(p, ids, hashes, salt)) is not None]


def files_under(folder: Path | None, *, skip_delivered: bool = False) -> list[Path]:
    """Every regular file under ``folder`` (symlinks are not followed), sorted."""
    if folder is None or not Path(folder).is_dir():
        return []
    from cdp_pipeline.lib.privacy.export_files import is_delivered

    out = []
    for p in sorted(Path(folder).rglob("*")):
        if p.is_symlink() or not p.is_file():
            continue
        if skip_delivered and is_delivered(p.parent):
            continue  # the destination's copy of record (export_files); the erasure leaves it
        out.append(p)
    return out
