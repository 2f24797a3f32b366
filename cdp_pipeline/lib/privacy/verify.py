"""Proof that erased people are gone: the scan behind the blocking check and the publish gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp_pipeline.lib.privacy.erase import erased_identifier_set
from cdp_pipeline.lib.privacy.scan import scan_export_dir, scan_for_identifiers, scan_for_suppressed_values
from cdp_pipeline.lib.privacy.suppression import salt_path, suppressed_hashes, load_salt


class ErasedIdentifiersRemain(RuntimeError):
    """An erased person's identifier is still in the warehouse or the export folder."""


@dataclass
class ErasureScan:
    identifiers: int = 0
    suppressed: int = 0
    in_tables: list[tuple[str, str, str, int]] = field(default_factory=list)
    suppressed_in_tables: list[tuple[str, str, str, int]] = field(default_factory=list)
    in_exports: list[tuple[str, int]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.in_tables or self.suppressed_in_tables or self.in_exports)

    def summary(self) -> str:
        """Where identifiers remain (table.column and file names, counts): never the identifiers."""
        parts = [f"{s}.{t}.{c}: {n}" for s, t, c, n in self.in_tables]
        parts += [f"{s}.{t}.{c}: {n} (suppressed hash)" for s, t, c, n in self.suppressed_in_tables]
        parts += [f"exports/{f}: {n}" for f, n in self.in_exports]
        return "; ".join(parts) or "none"


def scan_erased(con: duckdb.DuckDBPyConnection, export_dir: Path | None, settings,
                catalog: str | None = None) -> ErasureScan:
    """Look for every erased identifier: those named in request files (anywhere in text) and
    every suppressed hash (as whole values), in every table and in undelivered exports."""
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
    return out


def assert_no_erased_identifiers(con: duckdb.DuckDBPyConnection, export_dir: Path | None, settings,
                                 catalog: str | None = None) -> ErasureScan:
    """Raise ``ErasedIdentifiersRemain`` if any erased identifier is left (for the publish step:
    call it on the build connection before copying, or on the published file with ``catalog``)."""
    result = scan_erased(con, export_dir, settings, catalog=catalog)
    if not result.clean:
        raise ErasedIdentifiersRemain("erased identifiers remain in " + result.summary())
    return result
