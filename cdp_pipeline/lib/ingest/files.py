"""Finding the files of one landing day, and what identifies them (path, bytes, SHA-256)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path


# Files still being written by the sender: never read them.
IGNORED_SUFFIXES = (".tmp", ".part", ".partial")


@dataclass(frozen=True)
class LandingFile:
    """One delivered file: ``rel_path`` is relative to the landing folder (the ledger's key)."""

    source: str
    landing_date: dt.date
    path: Path
    rel_path: str
    bytes: int
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes: the identity of a delivery."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def is_ignored(name: str) -> bool:
    lowered = name.lower()
    return name.startswith(".") or lowered.endswith(IGNORED_SUFFIXES)


def landing_day_dir(landing_dir: Path, source: str, landing_date: dt.date | str) -> Path:
    day = landing_date if isinstance(landing_date, str) else landing_date.isoformat()
    return Path(landing_dir) / source / day


def discover_files(landing_dir: Path, source: str, landing_date: dt.date | str) -> list[LandingFile]:
    """Every complete file in ``<landing>/<source>/<day>/``, sorted by name (a stable load order).

    Sub-folders are not descended into: the contract is one folder per day.
    """
    landing_dir = Path(landing_dir)
    day = dt.date.fromisoformat(landing_date) if isinstance(landing_date, str) else landing_date
    folder = landing_day_dir(landing_dir, source, day)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.is_file() or is_ignored(path.name):
            continue
        found.append(
            LandingFile(
                source=source,
                landing_date=day,
                path=path,
                rel_path=path.relative_to(landing_dir).as_posix(),
                bytes=path.stat().st_size,
                sha256=file_sha256(path),
            )
        )
    return found
