"""Plain functions behind ``cdp forget`` and ``cdp access`` (cli.py stays thin)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from cdp_pipeline.lib.audit.access import write_access_report
from cdp_pipeline.lib.audit.requests import queue_erasure
from cdp_pipeline.lib.audit.suppression import EMAIL, candidate_forms
from cdp_pipeline.lib.staging import standardise_email

EXIT_OK = 0
EXIT_NOT_FOUND = 3
EXIT_NO_WAREHOUSE = 2


def forget(identifier: str, settings, *, kind: str | None = None, reference: str | None = None) -> str:
    """Queue an erasure request; returns what will happen at the next run (to print).

    Raises ValueError, queuing nothing, for an identifier that has no reading as the kind given
    (``--kind phone abc``, an e-mail without ``@``): such a request could match no one, and the
    operator would believe the person erased."""
    if not candidate_forms(identifier, kind, settings.default_region):
        what = f"a {kind.replace('_', ' ')}" if kind else "an identifier"
        raise ValueError(f"the identifier given is not {what}; nothing queued (check it, or give the right --kind)")
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


def forget_warnings(identifier: str, *, kind: str | None = None, default_region: str = "SE") -> list[str]:
    """Doubts about an identifier ``forget`` still queues. An e-mail staging cannot read as one
    (``anna@``) is kept as typed: a record with that same text is still the person's and must go,
    so the request is not refused, but the operator should know it matches nothing else."""
    forms = candidate_forms(identifier, kind, default_region)
    if any(k == EMAIL for k, _ in forms) and not standardise_email(str(identifier).strip()):
        return [
            "the e-mail address given is not well formed: the request matches only records holding "
            "exactly that text (check it for a typo)"
        ]
    return []


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
