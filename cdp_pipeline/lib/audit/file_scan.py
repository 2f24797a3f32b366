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
no value appears whole. That is why an erasure rewrites the build file with its live rows
(lib/audit/erase.rewrite_build_database), which publish then copies, rather than rely on this
scan: it is the tripwire, not the mechanism.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cdp_pipeline.lib.audit.scan import IdentifierSet

_EMAIL = re.compile(rb"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,8}")
_PHONE = re.compile(rb"\+[1-9][0-9]{6,20}")
_HEX = re.compile(rb"[0-9a-fA-F]{64,}")


@dataclass(frozen=True)
class FileMatch:
    path: Path
    identifiers: int  # occurrences of identifiers named in request files
    suppressed: int  # distinct values whose salted hash is on the suppression list


_CHUNK = 1 << 22  # 4 MiB: lowered once, then searched for each value while it is in cache


def _literals(ids: IdentifierSet) -> list[bytes]:
    # ASCII lower case on both sides (bytes.lower), as grep -a -i in the C locale: "Å" stays "Å"
    return sorted({v.encode("utf-8").lower() for v in ids.distinctive})


def _count_literals(data: bytes | mmap.mmap, values: list[bytes], digest=None) -> int:
    """Occurrences of ``values`` (lower case) in ``data``, ASCII case-insensitively, as ``grep -a -i``
    counts them; ``digest`` (a hashlib object) is fed every byte on the way.

    One pass over the file: each 4 MiB chunk is lowered once and searched with ``bytes.find``
    (about 3 GB/s) for each value. A regex alternation with IGNORECASE tried every branch at
    every byte: 0.8 s for 2 values and 4.9 s for 20 in a 54 MB file, against 0.07 s and 0.4 s."""
    size, found = len(data), 0
    overlap = max((len(v) for v in values), default=1) - 1
    for start in range(0, size, _CHUNK):
        if digest is not None:
            digest.update(data[start : start + _CHUNK])
        if not values:
            continue
        window = data[start : start + _CHUNK + overlap].lower()
        for v in values:
            i = window.find(v)
            while 0 <= i < _CHUNK:  # a match starting in the overlap is counted with the next chunk
                found += 1
                i = window.find(v, i + 1)
    return found


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
    return {text[i : i + 64] for i in range(len(text) - 63)}


def suppressed_values_in(
    data: bytes | mmap.mmap, hashes: frozenset[str] | set[str], salt: str, *, deep: bool = True
) -> int:
    """How many distinct phones (and with ``deep``, emails and 64-hex hashes) in ``data`` are on the
    suppression list."""
    if not hashes or not salt:
        return 0
    candidates: set[str] = set()
    for token in set(_PHONE.findall(data)):
        candidates |= _phone_candidates(token)
    if deep:
        for token in set(_EMAIL.findall(data)):
            candidates |= _email_candidates(token)
        for token in set(_HEX.findall(data)):
            candidates |= _hex_candidates(token)
    # identifier_hash(c, salt) without hashing the salt again for each candidate
    salted = hashlib.sha256(f"{salt}:".encode())
    found = 0
    for c in candidates:
        h = salted.copy()
        h.update(c.encode())
        found += h.hexdigest() in hashes
    return found


def scan_file(
    path: Path,
    ids: IdentifierSet,
    hashes: frozenset[str] | set[str] = frozenset(),
    salt: str = "",
    clean_files: "CleanFiles | None" = None,
) -> FileMatch | None:
    """A ``FileMatch`` when ``path``'s bytes hold an erased identifier; None when clean or absent.

    In a DuckDB database file (not its WAL) suppressed values are looked for as phones only:
    trying every email and hash there with its neighbours cut off costs about 8 s per 50 MB
    (10k-customer sample), and a database file the pipeline keeps holds no deleted rows of
    erased people (rewritten after an erasure, or a logical copy), while the table scan
    (``scan_for_suppressed_values``) covers its live rows. Request identifiers are looked for in
    every file. With ``clean_files``, a file whose bytes were already found clean for the same
    values is not read again, and one found clean now is recorded there."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None
    values = _literals(ids)
    if not values and not (hashes and salt):
        return None
    searched = _searched(values, hashes, salt)
    if clean_files is not None and clean_files.holds(path, size, searched):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        literal = _count_literals(data, values, digest)
        deep = data[8:12] != b"DUCK"  # the DuckDB file header
        suppressed = suppressed_values_in(data, hashes, salt, deep=deep)
    if literal or suppressed:
        return FileMatch(path, literal, suppressed)
    if clean_files is not None:
        clean_files.add(digest.hexdigest(), size, searched)
    return None


def _searched(values: list[bytes], hashes, salt: str) -> str:
    """What a scan looked for, as one salted hash: the record of clean files must not let anyone
    test a guessed address (an unsalted hash of the values would)."""
    h = hashlib.sha256(f"{salt}:".encode())
    for v in values:
        h.update(b"v" + v + b"\0")
    for x in sorted(hashes):
        h.update(b"h" + x.encode() + b"\0")
    return h.hexdigest()


class CleanFiles:
    """Files whose bytes a scan found clean, by content (SHA-256 and size) and by what it looked for.

    Most of what the check reads is unchanged since it was last read: the published warehouse was
    scanned by the publish that wrote it, and the previous copy is the same bytes under another
    name. Such a file is hashed (about 1 GB/s) instead of scanned again. A file whose size no
    record has is scanned without hashing it first (the build database changes every night). A
    new erasure changes what is looked for, so every file is scanned again for it. The record
    holds hashes only (``_searched`` is salted), in a JSON file beside the build database.
    """

    KEEP = 64

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.entries: list[dict] = list(json.loads(self.path.read_text()).get("clean", []))[-self.KEEP :]
        except (OSError, ValueError, AttributeError):
            self.entries = []

    def holds(self, file: Path, size: int, searched: str) -> bool:
        mine = [e for e in self.entries if e.get("size") == size and e.get("searched") == searched]
        if not mine:
            return False
        digest = _sha256_of(file)
        return any(e.get("sha256") == digest for e in mine)

    def add(self, digest: str, size: int, searched: str) -> None:
        entry = {"sha256": digest, "size": size, "searched": searched}
        self.entries = [e for e in self.entries if e != entry][-(self.KEEP - 1) :] + [entry]
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"clean": self.entries}, indent=1))
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)  # only a cache: the next scan reads the file again


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def files_under(folder: Path | None, *, skip_delivered: bool = False) -> list[Path]:
    """Every regular file under ``folder`` (symlinks are not followed), sorted."""
    if folder is None or not Path(folder).is_dir():
        return []
    from cdp_pipeline.lib.audit.export_files import is_delivered

    out = []
    for p in sorted(Path(folder).rglob("*")):
        if p.is_symlink() or not p.is_file():
            continue
        if skip_delivered and is_delivered(p.parent):
            continue  # the destination's copy of record (export_files); the erasure leaves it
        out.append(p)
    return out
