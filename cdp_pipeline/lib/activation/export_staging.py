"""Export staging: a night's files reach ``<export_dir>/<destination>/`` only after they passed the
consent check, so an uploader that reads a destination's folder never sees a failed night.

The night writes each destination's files and manifest to
``<export_dir>/.staging/<run>/<destination>/<run date>/``, checks them there, and moves the passing
destination's date folder into ``<export_dir>/<destination>/<run date>/`` with one ``rename`` (the
staging folder is inside the exports root, so on the same file system: the move is atomic, as
publish's rename of the warehouse file). A destination whose check fails is not moved: its folder
keeps the files of its last passing night. ``.staging`` can never be a destination's folder
(destination names start with a letter), and only one night runs per build database at a time
(lib/common/run_lock.py), so whatever a night finds under ``.staging`` was left by a killed run.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

STAGING_DIRNAME = ".staging"
_REPLACED_DIRNAME = ".replaced"
# What an uploader leaves in a date folder it delivered (lib/audit/export_files.py reads them): a
# rerun of the date keeps them, as it did when files were overwritten in place, so an erasure still
# knows the destination received that date and asks it to delete the person.
DELIVERY_MARKERS = ("DELIVERED", ".delivered")


def staging_root(export_dir: Path, run: str) -> Path:
    """The folder a run stages its exports in (``run``: the Dagster run id, made a safe name)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", run) or "run"
    return Path(export_dir) / STAGING_DIRNAME / name


def clear_staging(export_dir: Path) -> None:
    """Remove what killed runs left in the staging folder (never a delivered file: those are moved out)."""
    shutil.rmtree(Path(export_dir) / STAGING_DIRNAME, ignore_errors=True)


def discard(path: Path) -> None:
    """Remove a staged folder whose files are not to be delivered."""
    shutil.rmtree(path, ignore_errors=True)


def promote(staged: Path, final: Path, root: Path) -> Path:
    """Move the staged date folder ``staged`` to ``final`` (both directly named); returns ``final``.

    A first export of the date is one ``rename``. A rerun of a date whose folder exists renames the
    old folder aside (into ``root``, the run's staging folder) and the new one into place, then
    removes the old: between the two renames the date folder is briefly absent, but an uploader
    sees the old complete folder or the new complete one, never a mix or a failed night's file.
    The old folder's delivery markers are carried over (``DELIVERY_MARKERS``).
    """
    final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if final.exists() or final.is_symlink():
        for marker in DELIVERY_MARKERS:
            if (final / marker).is_file() and not (final / marker).is_symlink():
                shutil.copy2(final / marker, staged / marker)
        aside = root / _REPLACED_DIRNAME / final.parent.name / final.name
        aside.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.rename(final, aside)
        try:
            os.rename(staged, final)
        except BaseException:
            os.rename(aside, final)  # put yesterday's back
            raise
        discard(aside)
    else:
        os.rename(staged, final)
    return final
