"""Proof that erased people are gone: the scan behind the blocking check and the publish gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp_pipeline.lib.audit.erase import erased_identifier_set
from cdp_pipeline.lib.audit.file_scan import CleanFiles, FileMatch, files_under, scan_file
from cdp_pipeline.lib.audit.scan import scan_export_dir, scan_for_identifiers, scan_for_suppressed_values
from cdp_pipeline.lib.audit.suppression import load_salt, salt_path, suppressed_hashes
from cdp_pipeline.lib.common.warehouse import previous_path


class ErasedIdentifiersRemain(RuntimeError):
    """An erased person's identifier is still in the warehouse or the export folder."""


@dataclass
class ErasureScan:
    identifiers: int = 0
    suppressed: int = 0
    in_tables: list[tuple[str, str, str, int]] = field(default_factory=list)
    suppressed_in_tables: list[tuple[str, str, str, int]] = field(default_factory=list)
    in_exports: list[tuple[str, int]] = field(default_factory=list)
    in_files: list[FileMatch] = field(default_factory=list)
    files_scanned: int = 0

    @property
    def clean(self) -> bool:
        return not (self.in_tables or self.suppressed_in_tables or self.in_exports or self.in_files)

    def summary(self) -> str:
        """Where identifiers remain (table.column and file names, counts): never the identifiers."""
        parts = [f"{s}.{t}.{c}: {n}" for s, t, c, n in self.in_tables]
        parts += [f"{s}.{t}.{c}: {n} (suppressed hash)" for s, t, c, n in self.suppressed_in_tables]
        parts += [f"exports/{f}: {n}" for f, n in self.in_exports]
        parts += [
            f"bytes of {m.path.name}: {m.identifiers} identifier(s), {m.suppressed} suppressed value(s)"
            for m in self.in_files
        ]
        return "; ".join(parts) or "none"


def scan_erased(
    con: duckdb.DuckDBPyConnection,
    export_dir: Path | None,
    settings,
    catalog: str | None = None,
    *,
    files: bool = False,
) -> ErasureScan:
    """Look for every erased identifier: those named in request files (anywhere in text) and
    every suppressed hash (as whole values), in every table and in undelivered exports; with
    ``files``, also in the bytes of every file the pipeline keeps (``scan_kept_files``)."""
    ids = erased_identifier_set(con, settings)
    out = ErasureScan(identifiers=len(ids))
    if ids:
        out.in_tables = scan_for_identifiers(con, ids, catalog=catalog)
        if export_dir is not None:
            out.in_exports = scan_export_dir(Path(export_dir), ids)
    hashes = suppressed_hashes(con) if catalog is None else set()
    out.suppressed = len(hashes)
    if hashes or catalog is not None:
        path = salt_path(settings.data_dir)
        if path.exists():
            out.suppressed_in_tables = scan_for_suppressed_values(con, load_salt(path), catalog=catalog)
    if files:
        out.files_scanned, out.in_files = scan_kept_files(con, settings)
    return out


def _salt_if_needed(settings, hashes) -> str:
    path = salt_path(settings.data_dir)
    return load_salt(path) if hashes and path.exists() else ""


def build_side_files(settings) -> list[Path]:
    """The files a run writes that must not keep an erased person once the erasure has run: the
    build database and its WAL, undelivered export files and reports."""
    build = Path(settings.build_db)
    return (
        [build, Path(str(build) + ".wal")]
        + files_under(settings.export_dir, skip_delivered=True)
        + files_under(settings.reports_dir)
    )


def clean_files_record(settings) -> CleanFiles:
    """Which files' bytes were found clean, and for what (``file_scan.CleanFiles``): beside the
    build database, where neither ingest nor publish reaches."""
    return CleanFiles(Path(settings.build_db).parent / "byte_scan_clean_files.json")


def _erasures_recorded_in(db: Path) -> tuple[set[str], frozenset[str]]:
    """(request ids in ``audit.erasure_log``, hashes in ``audit.suppression``) of a database file."""
    c = duckdb.connect(str(db), read_only=True)
    try:
        ids = {r[0] for r in c.execute("SELECT request_id FROM audit.erasure_log").fetchall()}
        hashes = frozenset(r[0] for r in c.execute("SELECT identifier_hash FROM audit.suppression").fetchall())
    except duckdb.CatalogException:
        return set(), frozenset()
    finally:
        c.close()
    return ids, hashes


def scan_kept_files(con: duckdb.DuckDBPyConnection, settings) -> tuple[int, list[FileMatch]]:
    """(files scanned, files whose bytes hold an erased identifier or a suppressed value).

    The build side (``build_side_files``) is scanned for every erasure ``con`` has executed.
    The published warehouse and its previous copy are scanned for the erasures they record
    themselves: before tonight's publish they may predate tonight's erasure (publish replaces
    the one and deletes the other), but a file that says someone is erased must not hold them.
    """
    ids = erased_identifier_set(con, settings)
    hashes = frozenset(suppressed_hashes(con))
    if not ids and not hashes:
        return 0, []
    salt = _salt_if_needed(settings, hashes)
    clean = clean_files_record(settings)
    scanned, found = 0, []
    for path in build_side_files(settings):
        if path.exists():
            scanned += 1
            if (m := scan_file(path, ids, hashes, salt, clean)) is not None:
                found.append(m)
    for path in (Path(settings.warehouse), previous_path(settings.warehouse)):
        if not path.exists():
            continue
        scanned += 1
        request_ids, own_hashes = _erasures_recorded_in(path)
        if not request_ids and not own_hashes:
            continue
        own_ids = erased_identifier_set(con, settings, request_ids)
        if (m := scan_file(path, own_ids, own_hashes, salt, clean)) is not None:
            found.append(m)
    return scanned, found


@dataclass(frozen=True)
class ErasedValues:
    """What a byte scan looks for: request identifiers, suppression hashes and their salt."""

    ids: object
    hashes: frozenset[str]
    salt: str
    clean_files: CleanFiles | None = None

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection, settings) -> "ErasedValues":
        hashes = frozenset(suppressed_hashes(con))
        return cls(
            erased_identifier_set(con, settings),
            hashes,
            _salt_if_needed(settings, hashes),
            clean_files_record(settings),
        )

    def assert_not_in(self, path: Path) -> None:
        """Raise ``ErasedIdentifiersRemain`` if ``path``'s bytes hold anyone erased (publish calls it
        on the new warehouse file before it replaces the old one)."""
        if not self.ids and not self.hashes:
            return
        # Found clean, the new file is recorded: the next night's check does not read it again.
        m = scan_file(path, self.ids, self.hashes, self.salt, self.clean_files)
        if m is not None:
            raise ErasedIdentifiersRemain(
                f"erased identifiers remain in the bytes of {Path(path).name}: "
                f"{m.identifiers} identifier(s), {m.suppressed} suppressed value(s)"
            )


def assert_no_erased_identifiers(
    con: duckdb.DuckDBPyConnection, export_dir: Path | None, settings, catalog: str | None = None
) -> ErasureScan:
    """Raise ``ErasedIdentifiersRemain`` if any erased identifier is left (for the publish step:
    call it on the build connection before copying, or on the published file with ``catalog``)."""
    result = scan_erased(con, export_dir, settings, catalog=catalog)
    if not result.clean:
        raise ErasedIdentifiersRemain("erased identifiers remain in " + result.summary())
    return result
