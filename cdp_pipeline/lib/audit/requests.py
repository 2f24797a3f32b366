"""Erasure requests: queued by ``cdp forget`` or dropped into the inbox as CSV files.

A request names one identifier of the person (email, phone, customer id, loyalty card,
CRM id, web user id). ``cdp forget`` appends to ``<inbox>/erasure_requests/requests.csv``;
an operator may also drop any ``*.csv`` with an ``identifier`` column (optional ``kind``,
``requested_at``, ``reference``) into ``<inbox>/erasure_requests/`` or ``<inbox>/``.
The next run executes every request not yet in ``audit.erasure_log``.

Request files hold plain identifiers: they are created owner-only (0600, folder 0700) and
stay in the inbox (outside the warehouse) so the post-erasure scan can look for exactly
what the person asked to remove. Delete them once the erasure has been published if your
policy says so: the suppression list (hashes) keeps the person out either way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path

from cdp_pipeline.lib.audit.suppression import REQUEST_KINDS, identifier_hash

REQUESTS_DIRNAME = "erasure_requests"
QUEUE_FILE_NAME = "requests.csv"
COLUMNS = ("identifier", "kind", "requested_at", "reference")


@dataclass(frozen=True)
class ErasureRequest:
    identifier: str
    kind: str | None
    requested_at: str | None
    reference: str | None
    file: str
    line: int

    def request_id(self, salt: str) -> str:
        """Stable id of the request (salted, so it reveals nothing about the identifier)."""
        key = "|".join((self.identifier.strip(), self.kind or "", self.requested_at or "", self.reference or ""))
        return "er_" + identifier_hash(key, salt)[:20]


def requests_dir(inbox_dir: Path) -> Path:
    return Path(inbox_dir) / REQUESTS_DIRNAME


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None).isoformat(sep=" ")


def queue_erasure(
    identifier: str,
    inbox_dir: Path,
    *,
    kind: str | None = None,
    reference: str | None = None,
    requested_at: str | None = None,
) -> ErasureRequest:
    """Append a request to the queue file (created 0600); returns the request as queued."""
    identifier = (identifier or "").strip()
    if not identifier:
        raise ValueError("an erasure request needs an identifier")
    if kind and kind.strip().lower() not in REQUEST_KINDS:
        raise ValueError(f"unknown identifier kind {kind!r}; expected one of {sorted(REQUEST_KINDS)}")
    folder = requests_dir(inbox_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / QUEUE_FILE_NAME
    requested_at = requested_at or _now_iso()
    row = [identifier, (kind or "").strip().lower(), requested_at, reference or ""]
    new = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        if new:
            w.writerow(COLUMNS)
        w.writerow(row)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, 0o600)
    line = sum(1 for _ in open(path, encoding="utf-8")) if not new else 2
    return ErasureRequest(
        identifier, row[1] or None, requested_at, reference or None, str(path.relative_to(inbox_dir)), line
    )


def _request_files(inbox_dir: Path) -> list[Path]:
    inbox_dir = Path(inbox_dir)
    files = sorted(requests_dir(inbox_dir).glob("*.csv")) + sorted(inbox_dir.glob("*.csv"))
    return [p for p in files if p.is_file() and not p.name.startswith(".")]


def read_requests(inbox_dir: Path) -> list[ErasureRequest]:
    """Every request in the inbox, in file then line order. CSVs without an ``identifier``
    column (e.g. the identity review file) are not request files and are skipped."""
    out: list[ErasureRequest] = []
    inbox_dir = Path(inbox_dir)
    for path in _request_files(inbox_dir):
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if not header:
            continue
        names = [h.strip().lower() for h in header]
        if "identifier" not in names:
            continue
        idx = {n: names.index(n) for n in COLUMNS if n in names}
        for line, row in enumerate(reader, start=2):

            def get(name: str) -> str | None:
                i = idx.get(name)
                v = row[i].strip() if i is not None and i < len(row) else ""
                return v or None

            ident = get("identifier")
            if not ident:
                continue
            kind = get("kind")
            out.append(
                ErasureRequest(
                    ident,
                    kind.lower() if kind else None,
                    get("requested_at"),
                    get("reference"),
                    str(path.relative_to(inbox_dir)),
                    line,
                )
            )
    return out
