"""The identity rules a user edits (``config/identity.yaml``), read into plain objects."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

# crm_customer covers both a CRM customer_id and a web user_id: the web user_id *is* the CRM id.
PACKAGED_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "identity.yaml"

IDENTIFIER_KINDS = ("email", "phone", "loyalty_card", "crm_customer", "cookie")


TOLERANCES = ("exact", "linked", "typo")


@dataclass(frozen=True)
class CardinalityRule:
    """A customer may hold at most ``max_distinct`` distinct non-null values of ``column``.

    ``tolerance: linked`` counts two values as one when the model matched two records carrying
    them directly (it weighed everything else knowing they differ: a CRM's duplicate records
    each have their own id); a chain through records without the column never does.
    ``tolerance: typo`` also counts values one typo apart (dates also with day and month
    swapped) as one: 1916-10-27 and 1916-10-17 are one birth date written twice; its model matches
    count two values as one only when one side gives its value, give or take a typo, on a single
    record (a side that gives it on two records has said it again: ``cardinality._Groups.lone_value``)
    or when the two are close dates (``cardinality.close_dates``: a date mistyped twice), and count a
    close date one side gives on a single record as the other side's, whichever records the match
    joins (``cardinality._Groups.close_lone_values``); close dates count so only where the two sides
    do not both carry an e-mail or a phone (``cardinality._Groups.close_counts``)."""

    name: str
    column: str
    max_distinct: int
    tolerance: str = "exact"


@dataclass(frozen=True)
class SqlRule:
    """A blocking or training rule written as SQL over ``l.`` and ``r.``; ``name`` for the progress and logs."""

    sql: str
    name: str = ""


@dataclass(frozen=True)
class SplinkConfig:
    match_threshold: float = 0.99
    # pairs judged on name, birth date and address only: threshold calibrated per run (thresholds.py)
    sparse_target_precision: float = 0.99
    sparse_threshold_floor: float = 0.5
    # a rule: the columns (or one-record SQL expressions) that must be equal, or a string of
    # SQL over l. and r. for what equal columns cannot say (first and last name swapped)
    blocking_rules: tuple[tuple[str, ...] | SqlRule, ...] = ()
    # a full name held by at most this many of the model's records is a blocking key
    # (``rare_full_name``): bounded blocks, so its pairs grow linearly with the records
    rare_name_max_records: int = 10
    prior_rules: tuple[tuple[str, ...], ...] = ()
    prior_recall: float = 0.7
    em_rules: tuple[tuple[str, ...] | SqlRule, ...] = ()  # as blocking_rules
    em_max_pairs: float | None = 2e6
    u_max_pairs: float = 1e7
    # ... or this many pairs per record in the model, when more (splink_model.u_sample_pairs)
    u_pairs_per_record: float = 20.0
    seed: int = 42


@dataclass(frozen=True)
class IdentityConfig:
    max_people_per_identifier: dict[str, int] = field(default_factory=dict)
    max_records_per_identifier: dict[str, int] = field(default_factory=dict)
    name_guarded_kinds: tuple[str, ...] = ("email", "phone", "cookie")
    cardinality_rules: tuple[CardinalityRule, ...] = ()
    splink: SplinkConfig = field(default_factory=SplinkConfig)

    def with_splink(self, **changes) -> "IdentityConfig":
        return replace(self, splink=replace(self.splink, **changes))


def _rules(items) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple([r] if isinstance(r, str) else r) for r in (items or ()))


def _blocking_rules(items, path: Path) -> tuple[tuple[str, ...] | SqlRule, ...]:
    """Column lists as ``_rules``; a mapping ``{sql: "l.a = r.b AND ...", name: "..."}`` as a ``SqlRule``."""
    out: list[tuple[str, ...] | SqlRule] = []
    for r in items or ():
        if isinstance(r, dict):
            if "sql" not in r or set(r) - {"sql", "name"} or not str(r["sql"]).strip():
                raise ValueError(f"{path}: a blocking rule is a list of columns or {{sql: ..., name: ...}}, not {r!r}")
            out.append(SqlRule(" ".join(str(r["sql"]).split()), str(r.get("name") or "").strip()))
        else:
            out.append(tuple([r] if isinstance(r, str) else r))
    return tuple(out)


def default_config_path(config_dir: Path | None = None) -> Path:
    """``config_dir/identity.yaml`` (``config_dir``: the settings' folder) when there is one, else
    the packaged file."""
    if config_dir is not None and (Path(config_dir) / "identity.yaml").exists():
        return Path(config_dir) / "identity.yaml"
    return PACKAGED_CONFIG_PATH


def _cardinality_rule(raw: dict, path: Path) -> CardinalityRule:
    tolerance = str(raw.get("tolerance") or "exact")
    if tolerance not in TOLERANCES:
        raise ValueError(
            f"{path}: cardinality rule {raw.get('name')!r}: tolerance must be one of "
            f"{', '.join(TOLERANCES)}, not {tolerance!r}"
        )
    return CardinalityRule(raw["name"], raw["column"], int(raw["max_distinct"]), tolerance)


def load_identity_config(
    path: Path | str | None = None, *, config_dir: Path | None = None, match_threshold: float | None = None
) -> IdentityConfig:
    """Read ``identity.yaml``: ``path``, else the one in ``config_dir`` (``default_config_path``).
    The threshold comes from, in order: the argument, ``CDP_MATCH_THRESHOLD``, the file, 0.99."""
    path = Path(path) if path else default_config_path(config_dir)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    sp = raw.get("splink") or {}
    threshold = match_threshold
    if threshold is None and os.environ.get("CDP_MATCH_THRESHOLD"):
        threshold = float(os.environ["CDP_MATCH_THRESHOLD"])
    if threshold is None:
        threshold = float(sp.get("match_threshold") or 0.99)
    limits = {k: int(v) for k, v in (raw.get("max_records_per_identifier") or {}).items()}
    people = {k: int(v) for k, v in (raw.get("max_people_per_identifier") or {}).items()}
    unknown = (set(limits) | set(people)) - set(IDENTIFIER_KINDS)
    if unknown:
        raise ValueError(f"unknown identifier kinds in {path}: {sorted(unknown)}")
    return IdentityConfig(
        max_people_per_identifier=people,
        max_records_per_identifier=limits,
        name_guarded_kinds=tuple(raw.get("name_guarded_kinds") or ()),
        cardinality_rules=tuple(_cardinality_rule(r, path) for r in raw.get("cardinality_rules") or ()),
        splink=SplinkConfig(
            match_threshold=threshold,
            sparse_target_precision=float(sp.get("sparse_target_precision", 0.99)),
            sparse_threshold_floor=float(sp.get("sparse_threshold_floor", 0.5)),
            blocking_rules=_blocking_rules(sp.get("blocking_rules"), path),
            rare_name_max_records=int(sp.get("rare_name_max_records", 10)),
            prior_rules=_rules(sp.get("prior_rules")),
            prior_recall=float(sp.get("prior_recall", 0.7)),
            em_rules=_blocking_rules(sp.get("em_rules"), path),
            em_max_pairs=float(sp["em_max_pairs"]) if sp.get("em_max_pairs") else None,
            u_max_pairs=float(sp.get("u_max_pairs", 1e7)),
            u_pairs_per_record=float(sp.get("u_pairs_per_record", 20.0)),
            seed=int(sp.get("seed", 42)),
        ),
    )
