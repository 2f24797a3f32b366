"""Finding the files of one landing day, reading them safely, and what identifies them (path,
bytes, SHA-256 of exactly the bytes read).

Anyone who can drop a file in the landing folder must not make the pipeline read anything
else: only regular files really inside ``<landing>/<source>/<day>/`` are read, opened without
following a symbolic link (``O_NOFOLLOW``, then checked with ``fstat`` on the open file, so a
swap between the check and the read changes nothing); symlinked source or day folders are not
listed; the suppression salt is never read, wherever it is linked from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

# Files still being written by the sender: never read them.
IGNORED_SUFFIXES = (".tmp", ".part", ".partial")


@dataclass(frozen=True)
class LandingFile:
    """One delivered file: ``rel_path`` is relative to the landing folder (the ledger's key).

    ``sha256`` and ``bytes`` describe the bytes that were read (``read_landing_bytes``), not a
    second look at the path. ``refused`` says why the entry is not read at all (a symbolic link,
    a symlinked folder, not a regular file, a secret): it is recorded as rejected."""

    source: str
    landing_date: dt.date
    path: Path
    rel_path: str
    bytes: int
    sha256: str
    refused: str | None = None

    @property
    def name(self) -> str:
        return self.path.name


class RefusedPath(Exception):
    """A landing entry that is not read: its reason names the path, never the content."""


# What a ledger entry holds for an entry that was never read.
NOT_READ_SHA256 = ""


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a regular file's bytes (a symbolic link is not followed: it hashes as
    ``NOT_READ_SHA256``)."""
    try:
        # O_NONBLOCK: opening a pipe would otherwise wait for a writer (no effect on a regular file)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return NOT_READ_SHA256
    h = hashlib.sha256()
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return NOT_READ_SHA256
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def is_ignored(name: str) -> bool:
    lowered = name.lower()
    return name.startswith(".") or lowered.endswith(IGNORED_SUFFIXES)


def landing_day_dir(landing_dir: Path, source: str, landing_date: dt.date | str) -> Path:
    day = landing_date if isinstance(landing_date, str) else landing_date.isoformat()
    return Path(landing_dir) / source / day


def secret_files(data_dir: Path) -> frozenset[tuple[int, int]]:
    """(device, inode) of the secrets in the data folder ``data_dir`` that no ingest may read,
    however they are reached (the suppression salt)."""
    from cdp_pipeline.lib.audit.suppression import salt_path

    try:
        st = os.stat(salt_path(data_dir))
    except OSError:
        return frozenset()
    return frozenset({(st.st_dev, st.st_ino)})


def folder_refusal(landing_dir: Path, folder: Path) -> str | None:
    """Why a source or day folder is not read (a symbolic link, or resolving outside the landing
    folder); None when it is a real folder inside it."""
    landing_real = Path(os.path.realpath(landing_dir))
    rel = folder.relative_to(landing_dir)
    current = Path(landing_dir)
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            return f"{current.relative_to(landing_dir).as_posix()} is a symbolic link to a folder: refused"
    real = Path(os.path.realpath(folder))
    if real != landing_real / rel:
        return f"{rel.as_posix()} resolves outside the landing folder: refused"
    return None


def read_landing_bytes(lf: LandingFile, secrets: frozenset[tuple[int, int]] = frozenset()) -> bytes:
    """The file's bytes, read once: only a regular file really inside its day folder, never through
    a symbolic link, never a secret (``secrets``: ``secret_files``). Raises ``RefusedPath``."""
    if lf.refused:
        raise RefusedPath(lf.refused)
    try:
        fd = os.open(lf.path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if lf.path.is_symlink():
            raise RefusedPath(f"{lf.rel_path} is a symbolic link: refused (only regular files are read)") from exc
        raise RefusedPath(f"{lf.rel_path} could not be opened ({type(exc).__name__})") from exc
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise RefusedPath(f"{lf.rel_path} is not a regular file: refused")
        if (st.st_dev, st.st_ino) in secrets:
            raise RefusedPath(f"{lf.rel_path} is the suppression salt (a secret): refused")
        return f.read()


# posix_fadvise(WILLNEED) starts the reads of at most about the device's read-ahead (8 MB here)
# per call: a file is asked for in pieces of this many bytes.
_PAGE_IN_PIECE = 4 << 20


def page_in(lf: LandingFile, secrets: frozenset[tuple[int, int]] = frozenset()) -> None:
    """Ask the kernel to read ``lf``'s bytes into its page cache ahead of ``read_landing_bytes``
    (``posix_fadvise`` WILLNEED: the reads are started, not waited for, and nothing comes back
    here), so that the read finds them in memory instead of waiting for the disk. Only what
    ``read_landing_bytes`` would read: a regular file opened without following a symbolic link
    (``O_NONBLOCK``: a pipe never blocks the open), never a secret. Any failure is left for the
    read to meet and report; where the system has no ``posix_fadvise`` this does nothing."""
    if lf.refused or not hasattr(os, "posix_fadvise"):
        return
    try:
        fd = os.open(lf.path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except (OSError, TypeError, ValueError):
        # not even a path (TypeError: none; ValueError: a NUL in it): the read reports it, and
        # the paging-in thread goes on with the next file
        return
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in secrets:
            return
        for offset in range(0, st.st_size, _PAGE_IN_PIECE):
            os.posix_fadvise(fd, offset, _PAGE_IN_PIECE, os.POSIX_FADV_WILLNEED)
    except OSError:
        pass
    finally:
        os.close(fd)


def with_bytes_read(lf: LandingFile, data: bytes) -> LandingFile:
    """``lf`` described by the bytes actually read (size and SHA-256 of exactly those bytes)."""
    return replace(lf, bytes=len(data), sha256=hashlib.sha256(data).hexdigest())


def discover_files(landing_dir: Path, source: str, landing_date: dt.date | str) -> list[LandingFile]:
    """Every entry of ``<landing>/<source>/<day>/`` to load, sorted by name (a stable load order).

    Sub-folders are not descended into: the contract is one folder per day. Entries that are
    not regular files (sub-folders, symbolic links, pipes) come back with ``refused`` set, so the ledger
    records them as rejected; so does a symlinked source or day folder (one entry, for the
    folder, whose files are not listed). Size and SHA-256 are filled in when the file is read.
    """
    landing_dir = Path(landing_dir)
    day = dt.date.fromisoformat(landing_date) if isinstance(landing_date, str) else landing_date
    folder = landing_day_dir(landing_dir, source, day)
    if not (folder.is_dir() or folder.is_symlink()):
        return []
    refusal = folder_refusal(landing_dir, folder)
    if refusal:
        return [
            LandingFile(source, day, folder, folder.relative_to(landing_dir).as_posix(), 0, NOT_READ_SHA256, refusal)
        ]
    found = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if is_ignored(path.name):
            continue
        st = path.lstat()
        rel = path.relative_to(landing_dir).as_posix()
        refused = None
        if stat.S_ISDIR(st.st_mode):
            # recorded, not skipped: a source that delivered into a sub-folder (its opt-outs too)
            # would otherwise go unread without a word
            refused = f"{rel} is a folder: refused (files are read from the day folder itself, not from sub-folders)"
        elif stat.S_ISLNK(st.st_mode):
            refused = f"{rel} is a symbolic link: refused (only regular files are read)"
        elif not stat.S_ISREG(st.st_mode):
            refused = f"{rel} is not a regular file: refused"
        found.append(LandingFile(source, day, path, rel, st.st_size if not refused else 0, NOT_READ_SHA256, refused))
    return found
