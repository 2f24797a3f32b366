"""Each warehouse has its own build state and exports: a run refuses to work on another one's.

A build database holds the incremental state of the warehouse it publishes (the file ledger,
persistent customer IDs, the identity model, deltas of exports); an export folder holds the
files destinations receive for it. Were two warehouses to share either, the second would run
incrementally on the first one's people (handing out customer IDs that belong to others) and
overwrite its export files. Settings give each CDP_WAREHOUSE its own build database and export
folder by default (settings.py); an explicit CDP_BUILD_DB or CDP_EXPORT_DIR can still point two
warehouses at the same place, so the first run records which warehouse the build database and the
export folder belong to (a small file beside each), and a run for another warehouse refuses.
"""

from __future__ import annotations

import os
from pathlib import Path

OWNER_SUFFIX = ".warehouse"  # <build db>.warehouse
EXPORTS_OWNER = ".warehouse"  # <export dir>/.warehouse


class SharedRunState(RuntimeError):
    """The build database or export folder belongs to another warehouse; the message says which."""


def owner_files(settings) -> dict[str, Path]:
    """What each piece of state is called in messages -> the file naming its warehouse."""
    return {
        f"build database {settings.build_db}": Path(str(settings.build_db) + OWNER_SUFFIX),
        f"export folder {settings.export_dir}": Path(settings.export_dir) / EXPORTS_OWNER,
    }


def claim_run_state(settings) -> None:
    """Record ``settings.warehouse`` as the owner of the build database and the export folder, or
    raise ``SharedRunState`` when either already belongs to another warehouse. Nothing is written
    unless both are free or already this warehouse's.

    The owner is recorded relative to the marker's folder, so a data folder copied or moved as a
    whole (a backup restored elsewhere, the reliability tests' copies of a night) still matches."""
    warehouse = Path(settings.warehouse).resolve()
    to_write: list[tuple[Path, str]] = []
    for what, marker in owner_files(settings).items():
        mine = os.path.relpath(warehouse, marker.parent.resolve())
        try:
            owner = marker.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            to_write.append((marker, mine))
            continue
        if owner != mine:
            raise SharedRunState(
                f"the {what} holds the state of the warehouse {os.path.normpath(marker.parent / owner)}, not of "
                f"{warehouse}: a run for this warehouse would continue from the other one's customers and "
                f"exports. Leave CDP_BUILD_DB and CDP_EXPORT_DIR unset (each warehouse then gets its own, "
                f"beside it) or point them at folders of this warehouse. If the warehouse file itself was "
                f"moved, delete {marker}, which records the owner"
            )
    for marker, mine in to_write:
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
        tmp.write_text(mine + "\n", encoding="utf-8")
        os.replace(tmp, marker)
