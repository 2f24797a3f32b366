"""Reading the YAML files an operator edits (``CDP_CONFIG_DIR``): one way to read, merge and check them.

Every loader (identity rules, name variants, survivorship, segments, destinations) reads its file
through ``read_yaml`` and checks its keys with ``check_keys`` / ``check_type``, so a file that is not
YAML, a misspelt key or a value of the wrong type stops the run with a ``ConfigError`` naming the
file, the key and what is allowed, instead of being ignored: a misspelt ``required_consent`` would
otherwise export a destination without the consent it was meant to need, and a user's
``identity.yaml`` without ``name_guarded_kinds`` would switch the household guard off.

Settings files (``identity.yaml``, ``survivorship.yaml``) are ``merged`` over the packaged file: a
user file holds only the keys it changes. List files a user owns (``segments.yaml``,
``destinations.yaml``) replace the packaged list whole.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml


class ConfigError(ValueError):
    """A configuration file the platform cannot use; the message names the file and the key."""


def read_yaml(path: Path) -> object:
    """The parsed document of ``path`` (``None`` for an empty file)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from exc


def read_mapping(path: Path, what: str) -> dict:
    """``read_yaml`` of a file whose document is a mapping of keys (an empty file: ``{}``);
    ``what`` says what its keys are, for the message when it is not."""
    doc = read_yaml(path)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping of {what}, not {_kind(doc)}")
    return doc


def check_keys(raw: Mapping, allowed: Iterable[str], path: Path | str, where: str = "") -> None:
    """Refuse a key of ``raw`` that is not ``allowed``; ``where``: the enclosing key with its dot
    (``splink.``), so the message names the key as the file nests it."""
    allowed = tuple(allowed)
    unknown = [k for k in raw if k not in allowed]
    if unknown:
        key = str(unknown[0])
        close = difflib.get_close_matches(key, [str(a) for a in allowed], n=1)
        hint = f" (did you mean {where}{close[0]}?)" if close else ""
        under = f" under {where.rstrip('.')}" if where else ""
        raise ConfigError(f"{path}: unknown key {where}{key}{hint}; the keys allowed{under}: {', '.join(allowed)}")


# what a value must be, by the name ``check_type`` is given
_TYPES = {
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "whole number": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "mapping": lambda v: isinstance(v, dict),
    "text": lambda v: isinstance(v, str),
}


def check_type(
    value: object, expected: str, path: Path, key: str, *, nullable: bool = False, minimum: float | None = None
) -> None:
    """Refuse ``value`` of ``key`` unless it is ``expected`` (a name of ``_TYPES``; or null when ``nullable``), and a
    number below ``minimum`` (a negative limit would otherwise be taken: every identifier over it, no pairs sampled)."""
    if value is None and nullable:
        return
    if not _TYPES[expected](value):
        null = " or null" if nullable else ""
        raise ConfigError(f"{path}: {key} must be a {expected}{null}, not {_kind(value)}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{path}: {key} must be at least {minimum:g}, not {value!r}")


def merged(packaged: Mapping, user: Mapping) -> dict:
    """``user`` over ``packaged``: a mapping in both is merged key by key; any other value the user
    gives (a list, a number, null) replaces the packaged one whole, but a key left empty over a
    packaged mapping (``splink:`` with nothing under it) changes nothing."""
    out = dict(packaged)
    for key, value in user.items():
        if isinstance(out.get(key), dict) and (value is None or isinstance(value, dict)):
            out[key] = merged(out[key], value or {})
        else:
            out[key] = value
    return out


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"{value!r} (true/false)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return repr(value)
