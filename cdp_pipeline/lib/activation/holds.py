"""Fail closed: destinations held back while a file that may carry opt-outs could not be read.

The ESP, the SMS gateway and the CRM are where people opt out. When one of their files is
rejected whole, or rows of it are quarantined, the people in it may have unsubscribed, bounced
or texted STOP, and the consent ledger does not know. The night still runs, but every
destination fed by that channel keeps its previous files (not refreshed) until the file is
released, and ``audit.export_holds`` records which file held which destination and how to
release it.

Channels a source's unread content can withdraw: CRM email and SMS consent, ESP email, SMS
gateway SMS. Channels a destination uses: the consent it requires and the identifiers its files
carry (``consent_gate.IDENTIFIER_COLUMNS``: an ad audience sends hashed emails and phones, so it
uses both; the POS loyalty file uses neither).

Which quarantined rows can hide an opt-out (``row_may_hide_opt_out``) is read from the row's
text, as received:

- SMS: only a reply that is an opt-out keyword withdraws consent; a row whose text holds no such
  word (STOP, STOPP, UNSUBSCRIBE, OPT OUT, ...: lib/staging/consent.py's keywords) cannot.
- ESP activity: only a bounce (or an unsubscribe/complaint, if a platform writes one) withdraws;
  a row with none of those words is an open or a click.
- ESP members: a file whose name says it lists subscribed members holds only grants.
- CRM: a row whose record id the same file also delivers in a row that could be read is a damaged
  copy: the file states that customer's consent in the readable row. Any other row holds.
- A whole file rejected always holds: nothing of it was read.

Release: the file fixed in place (delivered again, readable, under the same name in the same
landing-day folder: the night loads a changed day again and its ledger entry is replaced), the
file removed and its landing day run again, or an acknowledgement in
``<inbox>/consent_acknowledgements.csv`` (columns ``file`` and/or ``sha256``, optional
``acknowledged_by``, ``note``) naming the file's path or SHA-256. The acknowledgement file has
no ``identifier`` column, so the erasure-request reader, which looks at every CSV of the inbox,
passes it by. A file of the same name on a later landing day is another delivery, not a fix:
ESP exports keep their name every day.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cdp_pipeline.lib.activation.consent_gate import IDENTIFIER_COLUMNS
from cdp_pipeline.lib.activation.destinations import Destination
from cdp_pipeline.lib.common.sql_files import fetch_sql_dicts, run_sql
from cdp_pipeline.lib.common.warehouse import transaction
from cdp_pipeline.lib.raw.file_kinds import esp_status_from_name
from cdp_pipeline.lib.staging.consent import OPT_OUT_KEYWORDS

SQL_DIR = Path(__file__).parent / "sql"
ACKNOWLEDGEMENTS_FILE_NAME = "consent_acknowledgements.csv"
ACKNOWLEDGEMENT_COLUMNS = ("file", "sha256", "acknowledged_by", "note")

# source -> channels whose opt-outs its files carry (POS "Accepts Marketing" only grants)
CONSENT_SOURCE_CHANNELS: dict[str, tuple[str, ...]] = {"crm": ("email", "sms"), "esp": ("email",), "sms": ("sms",)}
# identifier kind of an export column -> the channel whose consent it needs
IDENTIFIER_CHANNEL = {
    "email": "email",
    "email_sha256": "email",
    "phone": "sms",
    "meta_phone_sha256": "sms",
    "google_phone_sha256": "sms",
}

# the keywords as staging reads them (lib/staging/consent.py), OPT OUT and OPT-OUT in two words too
_SMS_OPT_OUT = re.compile(r"\b(" + "|".join([*sorted(OPT_OUT_KEYWORDS), r"OPT[\s_-]+OUT"]) + r")\b", re.IGNORECASE)
_ESP_WITHDRAWAL = re.compile(r"bounce|unsub|abuse|complain|spam|clean", re.IGNORECASE)


def destination_channels(destination: Destination) -> tuple[str, ...]:
    """The consent channels a destination's files depend on: required ones and those of its identifiers."""
    used = set(destination.required_consent)
    used |= {IDENTIFIER_CHANNEL[k] for k in IDENTIFIER_COLUMNS[destination.kind].values() if k in IDENTIFIER_CHANNEL}
    return tuple(c for c in ("email", "sms") if c in used)


def row_may_hide_opt_out(
    source: str,
    file_kind: str | None,
    file_name: str,
    raw_record: str | None,
    readable_record_ids: Iterable[str] = (),
    delimiter: str | None = None,
) -> tuple[bool, str]:
    """Whether a quarantined row could be an opt-out the ledger missed, and why (see the module doc)."""
    text = raw_record or ""
    if not text.strip():
        return True, "nothing of the row could be kept"
    if source == "sms":
        word = _SMS_OPT_OUT.search(text)
        return (
            (True, f"may be an opt-out reply ({word.group(0)!r})") if word else (False, "no opt-out keyword in the row")
        )
    if source == "esp":
        if file_kind == "esp_activity":
            word = _ESP_WITHDRAWAL.search(text)
            return (
                (True, f"may be a bounce or unsubscribe ({word.group(0)!r})")
                if word
                else (False, "an open or click: no bounce or unsubscribe in the row")
            )
        if file_kind == "esp_members" and esp_status_from_name(file_name) == "subscribed":
            return False, "a subscribed-members export holds only grants"
        return True, "its member status cannot be read"
    if source == "crm":
        first = next(csv.reader(io.StringIO(text), delimiter=delimiter or ","), [""])
        record_id = (first[0] if first else "").strip().lstrip("'")
        if record_id and record_id in set(readable_record_ids):
            return False, "a damaged copy of a record the same file delivers readable"
        return True, "its consent columns cannot be read"
    return False, "the source carries no opt-outs"


@dataclass(frozen=True)
class BlockingFile:
    """A delivery whose unread content may withdraw consent on ``channels``."""

    source: str
    file: str
    file_name: str
    sha256: str
    landing_date: dt.date
    channels: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class UnreadFile:
    """A consent-source delivery rejected or with rows quarantined, and whether it blocks."""

    source: str
    file: str
    sha256: str
    landing_date: dt.date
    status: str
    rows_quarantined: int
    blocking: bool
    reason: str


def unread_consent_files(con: duckdb.DuckDBPyConnection) -> list[UnreadFile]:
    """Every current delivery of a consent-bearing source that was rejected or lost rows, with its verdict."""
    from cdp_pipeline.lib.raw.ledger import ensure_ingest_tables

    ensure_ingest_tables(con, ("crm_customers",))
    files = fetch_sql_dicts(con, SQL_DIR, "select_consent_source_files", {"sources": list(CONSENT_SOURCE_CHANNELS)})
    partial = [f for f in files if f["status"] != "rejected"]
    rows: dict[str, list[dict]] = {}
    readable: dict[str, set[str]] = {}
    if partial:
        params = {"files": [f["file"] for f in partial], "sha256s": [f["sha256"] for f in partial]}
        for r in fetch_sql_dicts(con, SQL_DIR, "select_consent_source_quarantine", params):
            rows.setdefault(r["file"], []).append(r)
        for r in fetch_sql_dicts(con, SQL_DIR, "select_readable_crm_record_ids", {"files": params["files"]}):
            readable.setdefault(r["_file"], set()).add(r["record_id"])
    out: list[UnreadFile] = []
    for f in files:
        if f["status"] == "rejected":
            out.append(
                UnreadFile(
                    f["source"],
                    f["file"],
                    f["sha256"],
                    f["landing_date"],
                    f["status"],
                    0,
                    True,
                    f"file rejected: {f['message'] or 'could not be read'}",
                )
            )
            continue
        hiding = []
        for r in rows.get(f["file"], []):
            may_hide, why = row_may_hide_opt_out(
                f["source"],
                f["file_kind"],
                f["file_name"],
                r["raw_record"],
                readable.get(f["file"], ()),
                f["delimiter"],
            )
            if may_hide:
                hiding.append(f"line {r['line_number']} ({r['reason']}): {why}")
        n = f["rows_quarantined"]
        if hiding:
            more = f"; and {len(hiding) - 3} more" if len(hiding) > 3 else ""
            reason = f"{len(hiding)} of {n} quarantined row(s) may carry an opt-out: " + "; ".join(hiding[:3]) + more
        else:
            reason = f"{n} row(s) quarantined; none can carry an opt-out"
        out.append(
            UnreadFile(f["source"], f["file"], f["sha256"], f["landing_date"], f["status"], n, bool(hiding), reason)
        )
    return out


@dataclass(frozen=True)
class Acknowledgement:
    file: str | None
    sha256: str | None
    acknowledged_by: str | None
    note: str | None
    line: int


def acknowledgements_path(inbox_dir: Path) -> Path:
    return Path(inbox_dir) / ACKNOWLEDGEMENTS_FILE_NAME


def read_acknowledgements(inbox_dir: Path) -> list[Acknowledgement]:
    """The lines of ``<inbox>/consent_acknowledgements.csv`` (none when the file is absent)."""
    path = acknowledgements_path(inbox_dir)
    if not path.is_file():
        return []
    reader = csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig", errors="replace"), newline=""))
    header = [h.strip().lower() for h in next(reader, None) or []]
    out: list[Acknowledgement] = []
    for line, row in enumerate(reader, start=2):

        def get(name: str) -> str | None:
            i = header.index(name) if name in header else None
            value = row[i].strip() if i is not None and i < len(row) else ""
            return value or None

        ack = Acknowledgement(
            get("file"), (get("sha256") or "").lower() or None, get("acknowledged_by"), get("note"), line
        )
        if ack.file or ack.sha256:
            out.append(ack)
    return out


def is_acknowledged(f: UnreadFile, acknowledgements: Sequence[Acknowledgement]) -> bool:
    return any(a.sha256 == f.sha256.lower() or a.file == f.file for a in acknowledgements)


def blocking_files(con: duckdb.DuckDBPyConnection, inbox_dir: Path) -> list[BlockingFile]:
    """Deliveries that hold their channels' destinations tonight: blocking and not acknowledged."""
    acks = read_acknowledgements(inbox_dir)
    return [
        BlockingFile(
            f.source,
            f.file,
            f.file.rsplit("/", 1)[-1],
            f.sha256,
            f.landing_date,
            CONSENT_SOURCE_CHANNELS[f.source],
            f.reason,
        )
        for f in unread_consent_files(con)
        if f.blocking and not is_acknowledged(f, acks)
    ]


def release_instructions(f: BlockingFile, inbox_dir: Path) -> str:
    return (
        f"fix the file and deliver it again as {f.file} (or remove it and rerun landing day "
        f'{f.landing_date}), or acknowledge it: add the line "{f.file},{f.sha256}" to '
        f"{acknowledgements_path(inbox_dir)} (columns {','.join(ACKNOWLEDGEMENT_COLUMNS)})"
    )


@dataclass(frozen=True)
class Hold:
    destination: str
    channel: str
    file: BlockingFile
    release: str


def export_holds(destinations: Sequence[Destination], blocking: Sequence[BlockingFile], inbox_dir: Path) -> list[Hold]:
    """One hold per destination, channel it uses and blocking file withdrawing that channel."""
    holds = []
    for dest in destinations:
        for channel in destination_channels(dest):
            holds += [
                Hold(dest.name, channel, f, release_instructions(f, inbox_dir))
                for f in blocking
                if channel in f.channels
            ]
    return holds


HOLDS_COMMENTS = (
    "Destinations whose files were not refreshed on a run date because a file of the ESP, SMS gateway or CRM "
    "could not be read (whole, or rows that may carry an opt-out); one row per destination, channel and file.",
    {
        "run_date": "run date of the export that was held (golden as_of_date)",
        "destination": "destination name (config/destinations.yaml); it keeps its previous files",
        "channel": "consent channel (email, sms) the file may withdraw and the destination uses",
        "source": "crm, esp or sms",
        "file": "the landing file, relative to the landing folder (audit.files.file)",
        "file_sha256": "SHA-256 of the file as delivered; name it in the inbox acknowledgements to release",
        "landing_date": "landing day of the file",
        "reason": "why the file holds: rejected whole, or which quarantined rows may be opt-outs",
        "release": "how to release the hold",
        "held_at": "when the hold was decided (UTC)",
    },
)


def ensure_holds_table(con: duckdb.DuckDBPyConnection) -> None:
    from cdp_pipeline.lib.common.table_comments import apply_table_comments
    from cdp_pipeline.lib.common.warehouse import ensure_schemas

    ensure_schemas(con)
    run_sql(con, SQL_DIR, "create_audit_export_holds")
    apply_table_comments(con, "audit", "export_holds", *HOLDS_COMMENTS)


def record_holds(con: duckdb.DuckDBPyConnection, run_date: dt.date, holds: Sequence[Hold]) -> None:
    """Replace ``run_date``'s rows of audit.export_holds with ``holds`` (one transaction)."""
    import pyarrow as pa

    ensure_holds_table(con)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    table = pa.Table.from_pylist(
        [
            {
                "run_date": run_date,
                "destination": h.destination,
                "channel": h.channel,
                "source": h.file.source,
                "file": h.file.file,
                "file_sha256": h.file.sha256,
                "landing_date": h.file.landing_date,
                "reason": h.file.reason,
                "release": h.release,
                "held_at": now,
            }
            for h in holds
        ],
        schema=pa.schema(
            [
                ("run_date", pa.date32()),
                ("destination", pa.string()),
                ("channel", pa.string()),
                ("source", pa.string()),
                ("file", pa.string()),
                ("file_sha256", pa.string()),
                ("landing_date", pa.date32()),
                ("reason", pa.string()),
                ("release", pa.string()),
                ("held_at", pa.timestamp("us")),
            ]
        ),
    )
    with transaction(con):
        run_sql(con, SQL_DIR, "delete_export_holds_run_date", {"run_date": run_date})
        con.register("new_export_holds", table)
        run_sql(con, SQL_DIR, "insert_export_holds")
        con.unregister("new_export_holds")


def holds_on(con: duckdb.DuckDBPyConnection, run_date: dt.date) -> list[dict]:
    """audit.export_holds rows of ``run_date`` (empty when the table does not exist yet)."""
    from cdp_pipeline.lib.common.warehouse import table_exists

    if not table_exists(con, "audit", "export_holds"):
        return []
    return fetch_sql_dicts(con, SQL_DIR, "select_export_holds", {"run_date": run_date})
