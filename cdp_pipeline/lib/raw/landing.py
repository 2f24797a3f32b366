"""What is in the landing folder: which days have files, and which files are new.

Used by the nightly run (to choose its landing days, each a partition) and by the landing-file
sensor (to notice deliveries). Loading itself lives in ``lib/raw``.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from cdp_pipeline.lib.raw.files import is_ignored
from cdp_pipeline.settings import SOURCES

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, order=True)
class LandedFile:
    source: str
    day: str
    path: Path
    size: int
    mtime_ns: int
    # False for what ingest refuses without reading (a link, a sub-folder, a pipe): the ledger
    # records it with 0 bytes, so only its modification time says whether it changed
    regular: bool = True


def landed_files(landing_dir: Path) -> list[LandedFile]:
    """Every entry of ``<landing>/<source>/<YYYY-MM-DD>/`` that ingest records, sorted: the files, and
    what it refuses unread (a link, a sub-folder, a pipe; ``regular`` False). Not hidden or
    ``.part``/``.tmp`` files, which are still being written."""
    out: list[LandedFile] = []
    landing_dir = Path(landing_dir)
    for source in SOURCES:
        src_dir = landing_dir / source
        # A symlinked source folder is not listed: what it points at is outside the landing folder.
        if src_dir.is_symlink() or not src_dir.is_dir():
            continue
        for day_dir in src_dir.iterdir():
            if not (_DAY.match(day_dir.name) and _valid_day(day_dir.name)):
                continue
            if day_dir.is_symlink():
                # not listed either; the folder itself is the entry ingest records as rejected
                st = day_dir.lstat()
                out.append(LandedFile(source, day_dir.name, day_dir, st.st_size, st.st_mtime_ns, regular=False))
                continue
            if not day_dir.is_dir():
                continue
            for f in day_dir.iterdir():
                if is_ignored(f.name):
                    continue
                try:
                    st = f.lstat()
                except FileNotFoundError:  # removed or renamed since it was listed
                    continue
                # every entry ingest records, a refused one too (discover_files)
                out.append(LandedFile(source, day_dir.name, f, st.st_size, st.st_mtime_ns, stat.S_ISREG(st.st_mode)))
    return sorted(out)


def landing_days(landing_dir: Path) -> list[str]:
    """Sorted landing dates that have at least one ready file."""
    return sorted({f.day for f in landed_files(landing_dir)})


def nightly_landing_days(landing_dir: Path, *, today: date, lookback_days: int = 3) -> list[str]:
    """The landing days a scheduled night loads: those of the last ``lookback_days`` days up to today.

    GA4 re-exports a day for up to three days and late files land in recent folders, so
    each night reloads a short window; loads are idempotent, so reloading costs time only.
    """
    start = today - timedelta(days=lookback_days)
    return [d for d in landing_days(landing_dir) if start.isoformat() <= d <= today.isoformat()]


def _valid_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
        return True
    except ValueError:
        return False


def changed_days(landing_dir: Path, ledger: list[tuple[str, str, int, datetime]]) -> list[str]:
    """Landing days whose files differ from what the ledger loaded: a file the ledger has not
    seen, one of another size or modified after its load, or a loaded file that is gone. An
    entry ingest refuses unread (a link, a sub-folder, a pipe) is in the ledger with 0 bytes:
    only its modification time counts.

    ``ledger``: ``(file relative to the landing folder, landing day, bytes, loaded_at UTC)``
    from ``audit.files``. Comparing size and modification time (not checksums) keeps a quiet
    night from reading every landing file again; a file rewritten after its load is reread.
    """
    landing_dir = Path(landing_dir)
    seen = {file: (str(day)[:10], size, loaded_at) for file, day, size, loaded_at in ledger}
    days: set[str] = set()
    present: set[str] = set()
    for f in landed_files(landing_dir):
        rel = f.path.relative_to(landing_dir).as_posix()
        present.add(rel)
        entry = seen.get(rel)
        modified = datetime.fromtimestamp(f.mtime_ns / 1e9, tz=timezone.utc).replace(tzinfo=None)
        if entry is None or (f.regular and entry[1] != f.size) or modified > entry[2]:
            days.add(f.day)
    days |= {day for file, (day, _, _) in seen.items() if file not in present}
    return sorted(days)
