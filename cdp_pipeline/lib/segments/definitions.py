"""Segment definitions a marketer edits (``config/segments.yaml``), read into plain objects.

A definition is a name, a description and a SQL boolean ``predicate`` over the columns of
``golden.customers`` (plus the helper columns of ``evaluate.HELPER_COLUMNS``), with an
optional owner and tags. Loading never evaluates anything: the predicate is checked by
``predicate_guard`` and run by ``evaluate``. A malformed entry (no predicate, bad tags) is
kept with a ``load_error`` so that it fails on its own and the other segments still build;
only a file that cannot be read at all, or two segments with one name, stop the load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cdp_pipeline.lib.common.config_files import ConfigError, check_keys, read_yaml

SEGMENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SEGMENT_KEYS = ("name", "description", "predicate", "owner", "tags")


@dataclass(frozen=True)
class SegmentDefinition:
    name: str
    description: str
    predicate: str
    owner: str | None = None
    tags: tuple[str, ...] = ()
    load_error: str | None = field(default=None, compare=False)


PACKAGED_SEGMENTS = Path(__file__).resolve().parents[2] / "config" / "segments.yaml"


def default_segments_path(config_dir: Path | None = None) -> Path:
    """``config_dir/segments.yaml`` (the user's, ``CDP_CONFIG_DIR``), else the packaged default."""
    user = Path(config_dir) / "segments.yaml" if config_dir is not None else None
    return user if user is not None and user.exists() else PACKAGED_SEGMENTS


def parse_segment_definitions(doc: object, source: str = "segments YAML") -> list[SegmentDefinition]:
    """Definitions from an already-parsed YAML document (``{"segments": [...]}`` or a list); ``source``: the
    file it came from, named in each segment's ``load_error``."""
    if isinstance(doc, dict):
        check_keys(doc, ("segments",), "segments YAML")
    items = doc.get("segments") if isinstance(doc, dict) else doc
    if items is None:
        return []
    if not isinstance(items, list):
        raise ValueError("segments YAML: expected a list under 'segments:'")
    out: list[SegmentDefinition] = []
    seen: set[str] = set()
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ValueError(f"segments YAML: entry {i} has no 'name'")
        name = item["name"].strip()
        if not SEGMENT_NAME.match(name):
            raise ValueError(f"segment {name!r}: a name is lower case letters, digits and '_' and starts with a letter")
        if name in seen:
            raise ValueError(f"segment {name!r} is defined twice")
        seen.add(name)
        problems = []
        unknown = [k for k in item if k not in SEGMENT_KEYS]
        if unknown:
            problems.append(f"unknown key {unknown[0]!r} (allowed: {', '.join(SEGMENT_KEYS)})")
        predicate = item.get("predicate")
        if isinstance(predicate, (bool, int, float)):
            # YAML reads an unquoted true/false/yes/no/on/off as a boolean and 1 as a number, not as SQL
            problems.append(
                f"predicate is the YAML {'boolean' if isinstance(predicate, bool) else 'number'} {predicate!r}, "
                'not a SQL condition: write the condition in quotes (predicate: "true" for everyone, '
                'predicate: "has_abandoned_cart")'
            )
            predicate = ""
        elif not isinstance(predicate, str) or not predicate.strip():
            problems.append("has no predicate")
            predicate = ""
        tags = item.get("tags") or []
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            problems.append("tags must be a list of strings")
            tags = []
        owner = item.get("owner")
        out.append(
            SegmentDefinition(
                name=name,
                description=str(item.get("description") or "").strip(),
                predicate=predicate.strip(),
                owner=str(owner) if owner is not None else None,
                tags=tuple(tags),
                load_error=f"{source}: segment {name!r}: " + "; ".join(problems) if problems else None,
            )
        )
    return out


def load_segment_definitions(config_dir: Path | None = None) -> list[SegmentDefinition]:
    """The definitions of ``config_dir/segments.yaml``, else of the packaged default: a user's file
    is the whole list (an empty one: no segments)."""
    path = default_segments_path(config_dir)
    doc = read_yaml(path)
    try:
        return parse_segment_definitions(doc, str(path))
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
