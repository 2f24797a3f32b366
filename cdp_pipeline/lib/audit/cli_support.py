"""Plain functions behind ``cdp forget`` and ``cdp access`` (cli.py stays thin)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from cdp_pipeline.lib.audit.access import write_access_report
from cdp_pipeline.lib.audit.requests import queue_erasure

EXIT_OK = 0
EXIT_NOT_FOUND = 3
EXIT_NO_WAREHOUSE = 2


def forget(identifier: str, settings, *, kind: str | None = None, reference: str | None = None) -> str:
    """Queue an erasure request; returns what will happen at the next run (to print)."""
    req = queue_erasure(identifier, settings.inbox_dir, kind=kind, reference=reference)
    return (
        f"Erasure request queued in {settings.inbox_dir / req.file} (line {req.line}).\n"
        "At the next run (`cdp run`, or the nightly schedule) the pipeline will:\n"
        "  - find everything this identifier resolves to (all of the person's emails, phones, ids);\n"
        "  - delete their rows from every table of raw, staging, identity, golden, segments,\n"
        "    activation and audit, and from export files not yet delivered;\n"
        "  - suppress their identifiers (salted hashes) so later extracts do not bring them back;\n"
        "  - record a PII-free row in audit.erasure_log;\n"
        "  - refuse to publish if any of their identifiers can still be found.\n"
        "The published warehouse keeps the person until that run publishes."
    )


def access(identifier: str, out_file: Path, settings, *, kind: str | None = None) -> int:
    """Write the right-of-access JSON from the published warehouse (opened read-only).
    Exit code: 0 written, 3 written but nothing found for the identifier, 2 no warehouse."""
    if not Path(settings.warehouse).exists():
        return EXIT_NO_WAREHOUSE
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        report = write_access_report(con, identifier, Path(out_file), kind=kind, default_region=settings.default_region)
    finally:
        con.close()
    return EXIT_OK if report["found"] else EXIT_NOT_FOUND
