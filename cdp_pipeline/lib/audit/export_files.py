"""Removing an erased person from export files that have not been delivered yet.

Every file under the export folder counts as **not delivered** unless its export folder
(``<destination>/<run date>/``) says otherwise: ``manifest.json`` has ``"delivered": true``
or a ``delivered_at`` value, or the folder holds a ``DELIVERED`` (or ``.delivered``) marker
file. Whatever delivers exports to a destination should set one of these after a
successful upload. Delivered folders are left as they are (they are the record of what the
destination received; ask the destination to delete the person, docs/operations.md).

A row is removed when one of its cells is one of the person's identifiers (email, phone,
hash, loyalty card…). The CSV is rewritten byte-compatible with the exporter (same columns,
``\\n`` line ends, minimal quoting, owner-only, atomic), and the manifest's row counts and
checksums, and ``activation.export_log``, are brought in line.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb

from cdp_pipeline.lib.activation.csv_safe import write_private_file
from cdp_pipeline.lib.audit.scan import IdentifierSet

MANIFEST = "manifest.json"
DELIVERED_MARKERS = ("DELIVERED", ".delivered")


def is_delivered(folder: Path) -> bool:
    if any((folder / m).exists() for m in DELIVERED_MARKERS):
        return True
    manifest = folder / MANIFEST
    if manifest.exists():
        try:
            doc = json.loads(manifest.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            return False
        return bool(doc.get("delivered") is True or doc.get("delivered_at"))
    return False


def _filter_csv(data: bytes, ids: IdentifierSet) -> tuple[bytes, int, int] | None:
    """(new bytes, rows kept, rows removed), or None when nothing was removed."""
    text = data.decode("utf-8", errors="strict")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return None
    header, body = rows[0], rows[1:]

    def names(i: int) -> str:
        return header[i] if i < len(header) else ""

    keep = [r for r in body if not any(ids.matches_cell(c, names(i)) for i, c in enumerate(r))]
    if len(keep) == len(body):
        return None
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(keep)
    return buf.getvalue().encode("utf-8"), len(keep), len(body) - len(keep)


def _update_log(con: duckdb.DuckDBPyConnection | None, path: Path, rows: int, sha: str) -> None:
    if con is None:
        return
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'activation' AND table_name = 'export_log'"
    ).fetchone()[0]
    if exists:
        con.execute("UPDATE activation.export_log SET rows = ?, sha256 = ? WHERE path = ?", [rows, sha, str(path)])


def remove_from_exports(
    con: duckdb.DuckDBPyConnection | None, export_dir: Path, ids: IdentifierSet
) -> tuple[list[str], list[str]]:
    """Remove rows carrying ``ids`` from undelivered export files.

    Returns (files rewritten, delivered files that still hold the person), as paths relative
    to ``export_dir``.
    """
    export_dir = Path(export_dir)
    if not ids or not export_dir.exists():
        return [], []
    rewritten: list[str] = []
    delivered: list[str] = []
    for path in sorted(p for p in export_dir.rglob("*.csv") if p.is_file() and not p.name.startswith(".")):
        folder = path.parent
        data = path.read_bytes()
        try:
            result = _filter_csv(data, ids)
        except UnicodeDecodeError:
            continue
        if result is None:
            continue
        rel = str(path.relative_to(export_dir))
        if is_delivered(folder):
            delivered.append(rel)
            continue
        new, kept, removed = result
        sha = write_private_file(path, new)
        _update_log(con, path, kept, sha)
        _update_manifest(con, folder, path.name, kept, removed, sha)
        rewritten.append(rel)
    # What a write killed half-way leaves beside its file (csv_safe.write_private_file's
    # ``.<name>.<pid>.tmp``): never an export, so one holding the person is deleted rather
    # than left for the byte scan to fail every night on.
    for path in sorted(p for p in export_dir.rglob(".*.tmp") if p.is_file() and not p.is_symlink()):
        if is_delivered(path.parent):
            continue
        try:
            result = _filter_csv(path.read_bytes(), ids)
        except (UnicodeDecodeError, csv.Error):
            result = ()  # unreadable leftovers are garbage too; delete
        if result is not None:
            path.unlink()
            rewritten.append(str(path.relative_to(export_dir)))
    return rewritten, delivered


def _update_manifest(con, folder: Path, file_name: str, kept: int, removed: int, sha: str) -> None:
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        return
    doc = json.loads(manifest_path.read_text(encoding="utf-8"))
    files = doc.get("files") or {}
    kind = next((k for k, v in files.items() if isinstance(v, dict) and v.get("file") == file_name), None)
    if kind is None:
        return
    files[kind]["rows"] = kept
    files[kind]["sha256"] = sha
    delta = doc.get("delta") or {}
    if kind == "full":
        doc["rows"] = kept
    elif kind == "delta_removed" and "removed" in delta:
        delta["removed"] = kept
    elif kind == "delta_added":
        # The file does not say whether the person's row was an add or an update: take adds first.
        take = min(removed, int(delta.get("added", 0)))
        delta["added"] = int(delta.get("added", 0)) - take
        delta["updated"] = max(0, int(delta.get("updated", 0)) - (removed - take))
    doc["erasure_rows_removed"] = int(doc.get("erasure_rows_removed", 0)) + removed
    manifest_sha = write_private_file(manifest_path, (json.dumps(doc, indent=2) + "\n").encode())
    _update_log(con, manifest_path, int(doc.get("rows", 0)), manifest_sha)
