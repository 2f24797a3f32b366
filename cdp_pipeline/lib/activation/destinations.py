"""Audience destinations a user edits (``config/destinations.yaml``), read into plain objects.

Each destination has a ``kind`` (what file it gets), the ``segments`` whose members it
receives and the consent it requires. The consent an identifier's channel needs is not
configurable away: an ``esp`` destination always requires email consent and an ``sms``
destination SMS consent; extra requirements can be added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cdp_pipeline.lib.common.config_files import ConfigError, check_keys, read_yaml

DESTINATION_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")  # also a folder name under exports/
# Names Windows reserves for devices, in any case and with or without an extension ("Naming Files,
# Paths, and Namespaces", learn.microsoft.com): a folder called "con" or "aux" cannot be created,
# copied or opened there, so an export folder of that name breaks on the file share or laptop a
# marketer takes the files from. DESTINATION_NAME admits no '.', so the bare names are the ones to refuse.
WINDOWS_RESERVED_NAMES = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(1, 10)] + [f"lpt{i}" for i in range(1, 10)]
)
CONSENT_CHANNELS = ("email", "sms")
DESTINATION_KEYS = ("name", "kind", "description", "segments", "required_consent")

# kind -> (file columns, consent the kind always requires, what the file is for)
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "esp": (("email", "first_name", "tags"), ("email",), "email platform: address, first name, segment tags"),
    "sms": (("phone", "tags"), ("sms",), "SMS gateway: E.164 phone, segment tags"),
    "meta_audience": (("email", "phone"), (), "Meta custom audience: SHA-256 of email and of phone digits"),
    "google_customer_match": (("Email", "Phone"), (), "Google Customer Match: SHA-256 of email and E.164 phone"),
    "pos": (("loyalty_card_id",), (), "point of sale: loyalty card id with one 0/1 flag per segment"),
}

# kind -> {column: the file's header for it}, where the header the destination's importer maps
# is not the column's name. Only the header line says it: the rows stored in
# activation.export_members keep the column names. esp: "Email Address", "First Name" and "Tags"
# are the labels Mailchimp's import matches to its fields (they are also how its audience export
# names them), and Klaviyo's list import wants the first column labelled "Email" or "Email Address"
# and maps "First Name" to its property (docs/segments_and_activation.md, "What each destination
# expects"; benchmarks/results/2026-12-07-s42-destinations.md).
FILE_HEADERS: dict[str, dict[str, str]] = {
    "esp": {"email": "Email Address", "first_name": "First Name", "tags": "Tags"},
}


@dataclass(frozen=True)
class Destination:
    name: str
    kind: str
    segments: tuple[str, ...]
    required_consent: tuple[str, ...]
    description: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of this destination's export files, in order."""
        base = KINDS[self.kind][0]
        return base + self.segments if self.kind == "pos" else base

    @property
    def header(self) -> tuple[str, ...]:
        """The header line of this destination's export files: ``columns`` as its importer names them."""
        names = FILE_HEADERS.get(self.kind, {})
        return tuple(names.get(c, c) for c in self.columns)

    @property
    def consent_rule(self) -> str:
        """The rule in words, as written to the manifest and the export log."""
        parts = [f"{c}_contactable" for c in self.required_consent] or ["no channel consent required"]
        rule = " AND ".join(parts)
        return (
            f"{rule}; an email (or its hash) only when email_contactable, a phone (or its hash) "
            "only when sms_contactable"
        )


PACKAGED_DESTINATIONS = Path(__file__).resolve().parents[2] / "config" / "destinations.yaml"


def default_destinations_path(config_dir: Path | None = None) -> Path:
    """``config_dir/destinations.yaml`` (the user's, ``CDP_CONFIG_DIR``), else the packaged default."""
    user = Path(config_dir) / "destinations.yaml" if config_dir is not None else None
    return user if user is not None and user.exists() else PACKAGED_DESTINATIONS


def parse_destinations(doc: object) -> list[Destination]:
    if isinstance(doc, dict):
        check_keys(doc, ("destinations",), "destinations YAML")
    items = doc.get("destinations") if isinstance(doc, dict) else doc
    if items is None:
        return []
    if not isinstance(items, list):
        raise ValueError("destinations YAML: expected a list under 'destinations:'")
    out: list[Destination] = []
    seen: set[str] = set()
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ValueError(f"destinations YAML: entry {i} has no 'name'")
        name = item["name"].strip()
        # a misspelt key is refused, not ignored: "required_consnet" would export without the consent
        check_keys(item, DESTINATION_KEYS, "destinations YAML", f"destinations[{name}].")
        if not DESTINATION_NAME.match(name):
            raise ValueError(
                f"destination {name!r}: a name is lower case letters, digits, '_' or '-' "
                "and starts with a letter (it is also a folder name)"
            )
        if name in WINDOWS_RESERVED_NAMES:
            raise ValueError(
                f"destination {name!r}: the name is a device name Windows reserves (CON, PRN, AUX, NUL, "
                "COM1-9, LPT1-9), so its export folder could not be copied to or opened on Windows"
            )
        if name in seen:
            raise ValueError(f"destination {name!r} is defined twice")
        seen.add(name)
        kind = item.get("kind")
        if kind not in KINDS:
            raise ValueError(f"destination {name!r}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
        segments = item.get("segments") or []
        if isinstance(segments, str):
            segments = [segments]
        if not segments or not all(isinstance(s, str) for s in segments):
            raise ValueError(f"destination {name!r}: 'segments' must list at least one segment name")
        consent = item.get("required_consent", [])
        if isinstance(consent, str):
            consent = [consent]
        unknown = [c for c in consent or [] if c not in CONSENT_CHANNELS]
        if unknown:
            raise ValueError(
                f"destination {name!r}: unknown consent channel(s) {unknown} (one of {', '.join(CONSENT_CHANNELS)})"
            )
        required = tuple(c for c in CONSENT_CHANNELS if c in set(consent or []) | set(KINDS[kind][1]))
        out.append(
            Destination(
                name=name,
                kind=kind,
                segments=tuple(dict.fromkeys(segments)),
                required_consent=required,
                description=str(item.get("description") or "").strip(),
            )
        )
    return out


def load_destinations(config_dir: Path | None = None) -> list[Destination]:
    """The destinations of ``config_dir/destinations.yaml``, else of the packaged default: a user's
    file is the whole list (an empty one: no destinations)."""
    path = default_destinations_path(config_dir)
    doc = read_yaml(path)
    try:
        return parse_destinations(doc)
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
