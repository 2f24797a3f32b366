"""The identity rules a user edits (``config/identity.yaml``), read into plain objects."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from cdp_pipeline.lib.common.config_files import ConfigError, check_keys, check_type, merged, read_mapping

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
    # A fingerprint of the name tables first names are graded with (``name_variants.name_tables_hash``:
    # the variant groups of the packaged and the user's name_variants.yaml and the nickname table,
    # and first_names.json), which ``resolve`` fills for the night's tables: it is part of the kept
    # model's and graph's hashes, so a changed table retrains, rescores and re-clusters. Empty: the
    # packaged tables (``model_store.config_hash``).
    name_tables: str = ""

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
                raise ConfigError(f"{path}: a blocking rule is a list of columns or {{sql: ..., name: ...}}, not {r!r}")
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


# every key identity.yaml may hold, with what its value must be (``config_files.check_type``)
_TOP_KEYS = {
    "max_people_per_identifier": "mapping",
    "max_records_per_identifier": "mapping",
    "name_guarded_kinds": "list",
    "cardinality_rules": "list",
    "splink": "mapping",
}
_SPLINK_KEYS = {
    "match_threshold": "number",
    "sparse_target_precision": "number",
    "sparse_threshold_floor": "number",
    "blocking_rules": "list",
    "rare_name_max_records": "whole number",
    "prior_rules": "list",
    "prior_recall": "number",
    "em_rules": "list",
    "em_max_pairs": "number",
    "u_max_pairs": "number",
    "u_pairs_per_record": "number",
    "seed": "whole number",
}
# the least value of a number key (a limit below it means nothing: a negative count of pairs or records)
_MINIMUM = {"rare_name_max_records": 0, "em_max_pairs": 1, "u_max_pairs": 1, "u_pairs_per_record": 0}
# keys whose null means something (the environment's threshold; no cap on EM's pairs)
_NULLABLE = {"match_threshold", "em_max_pairs"}
_SHARES = ("match_threshold", "sparse_target_precision", "sparse_threshold_floor", "prior_recall")
_CARDINALITY_KEYS = ("name", "column", "max_distinct", "tolerance")


def _cardinality_rule(raw: object, path: Path, i: int) -> CardinalityRule:
    where = f"cardinality_rules[{i}]"
    check_type(raw, "mapping", path, where)
    check_keys(raw, _CARDINALITY_KEYS, path, f"{where}.")
    missing = [k for k in ("name", "column", "max_distinct") if raw.get(k) is None]
    if missing:
        raise ConfigError(f"{path}: {where} needs {', '.join(missing)} (keys: {', '.join(_CARDINALITY_KEYS)})")
    check_type(raw["max_distinct"], "whole number", path, f"{where}.max_distinct", minimum=1)
    tolerance = str(raw.get("tolerance") or "exact")
    if tolerance not in TOLERANCES:
        raise ConfigError(
            f"{path}: cardinality rule {raw.get('name')!r}: tolerance must be one of "
            f"{', '.join(TOLERANCES)}, not {tolerance!r}"
        )
    return CardinalityRule(str(raw["name"]), str(raw["column"]), raw["max_distinct"], tolerance)


def _identifier_limits(raw: dict, key: str, path: Path) -> dict[str, int]:
    limits = raw.get(key) or {}
    check_keys(limits, IDENTIFIER_KINDS, path, f"{key}.")
    for kind, value in limits.items():
        check_type(value, "whole number", path, f"{key}.{kind}", minimum=1)
    return dict(limits)


def read_identity_yaml(path: Path | str | None = None, *, config_dir: Path | None = None) -> tuple[dict, Path]:
    """The settings in force and the file they came from: ``path``, else ``config_dir``'s
    ``identity.yaml`` (``default_config_path``), merged over the packaged file
    (``config_files.merged``: a user file holds only the keys it changes), every key checked."""
    path = Path(path) if path else default_config_path(config_dir)
    raw = read_mapping(PACKAGED_CONFIG_PATH, "identity settings")
    if path.resolve() != PACKAGED_CONFIG_PATH:
        user = read_mapping(path, "identity settings")
        _check(user, path)
        raw = merged(raw, user)
    _check(raw, path)
    return raw, path


def _check(raw: dict, path: Path) -> None:
    check_keys(raw, _TOP_KEYS, path)
    for key, expected in _TOP_KEYS.items():
        check_type(raw.get(key), expected, path, key, nullable=True)
    sp = raw.get("splink") or {}
    check_keys(sp, _SPLINK_KEYS, path, "splink.")
    for key, expected in _SPLINK_KEYS.items():
        check_type(sp.get(key), expected, path, f"splink.{key}", nullable=True, minimum=_MINIMUM.get(key))
    for key in _SHARES:
        if sp.get(key) is not None and not 0 <= sp[key] <= 1:
            raise ConfigError(f"{path}: splink.{key} must be between 0 and 1, not {sp[key]!r}")
    for key in ("name_guarded_kinds",):
        unknown = [k for k in raw.get(key) or () if k not in IDENTIFIER_KINDS]
        if unknown:
            raise ConfigError(
                f"{path}: {key}: unknown identifier kind {unknown[0]!r}; kinds: {', '.join(IDENTIFIER_KINDS)}"
            )


def load_identity_config(
    path: Path | str | None = None, *, config_dir: Path | None = None, match_threshold: float | None = None
) -> IdentityConfig:
    """Read ``identity.yaml``: ``path``, else the one in ``config_dir`` (``default_config_path``), over
    the packaged file (``read_identity_yaml``). The threshold comes from, in order: the argument,
    ``CDP_MATCH_THRESHOLD``, the file, 0.99."""
    raw, path = read_identity_yaml(path, config_dir=config_dir)
    sp = raw.get("splink") or {}
    threshold = match_threshold
    if threshold is None and os.environ.get("CDP_MATCH_THRESHOLD"):
        threshold = float(os.environ["CDP_MATCH_THRESHOLD"])
    if threshold is None:
        threshold = float(sp.get("match_threshold") or 0.99)
    return IdentityConfig(
        max_people_per_identifier=_identifier_limits(raw, "max_people_per_identifier", path),
        max_records_per_identifier=_identifier_limits(raw, "max_records_per_identifier", path),
        name_guarded_kinds=tuple(raw.get("name_guarded_kinds") or ()),
        cardinality_rules=tuple(
            _cardinality_rule(r, path, i) for i, r in enumerate(raw.get("cardinality_rules") or ())
        ),
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
