"""Survivorship: choose, per customer, the source record that supplies each golden attribute.

The rules live in ``config/survivorship.yaml`` (``CDP_CONFIG_DIR``): per group of
columns that survive together, an ordered list of rules. The engine turns them into
set-based DuckDB statements (one per group, then one joining them): per customer, the candidate with the smallest key
(``arg_min``) wins, the key being a struct of one term per rule, in order, so the
first rule that discriminates wins, and ``source_record_id`` (then ``source``)
breaks the remaining ties. No Python
runs per customer.

Rules (see the YAML header for the business wording):

=================  ==========================================================
``valid_only``     filter, applied before ranking wherever listed: invalid or
                   junk values are blanked (``*_is_junk``, ``impossible_birth_date``)
``source_priority``rank by position of the source in the list; unlisted last
``prefer_sources`` listed sources beat unlisted ones, with no order among them
``most_recent``    latest ``record_time`` first (NULL last)
``most_frequent``  the value (case-insensitive) most of the customer's candidate
                   records carry
``most_complete``  most non-NULL columns of the group; a one-column group: longest value
``prefer_contactable`` (email, phone) a value granted in the consent ledger
                   (``golden.identifier_consent``) beats one without a ledger row,
                   which beats a blocked one (its latest signal is an opt-out,
                   bounce, cleaning or STOP)
``unswapped_name`` (first_name + last_name) a record with its names swapped loses to
                   the others, and one carrying them in the right order beats
                   them (``mark_swapped_names``)
=================  ==========================================================
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cdp_pipeline.lib.common.config_files import ConfigError, check_keys, check_type, read_mapping
from cdp_pipeline.lib.common.sql_files import fetch_sql, quote_literal, run_sql
from cdp_pipeline.lib.identity.name_variants import load_name_variants, real_first_names
from cdp_pipeline.lib.staging.names import match_name

SURVIVED_ATTRIBUTES = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "birth_date",
)
RULES = (
    "valid_only",
    "source_priority",
    "prefer_sources",
    "most_recent",
    "most_frequent",
    "most_complete",
    "prefer_contactable",
    "unswapped_name",
)
_NAME_COLUMNS = ("first_name", "last_name")
SQL_DIR = Path(__file__).parent / "sql"
# The columns the consent ledger speaks about: the records carry ``<column>_blocked``.
_LEDGER_COLUMNS = ("email", "phone")
_RULES_WITH_SOURCES = ("source_priority", "prefer_sources")
_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# What "valid" means per column. Staging already turns unparseable emails/phones into
# NULL; junk values (test@test.com, 1234567, "Unknown") stay but carry a flag.
_VALIDITY = {
    "email": "NOT coalesce(email_is_junk, false)",
    "phone": "NOT coalesce(phone_is_junk, false)",
    "first_name": "NOT coalesce(name_is_junk, false)",
    "last_name": "NOT coalesce(name_is_junk, false)",
    "birth_date": "NOT list_contains(coalesce(dq_flags, []::VARCHAR[]), 'impossible_birth_date')",
}


def _validity(column: str) -> str:
    return _VALIDITY.get(column, f"NOT list_contains(coalesce(dq_flags, []::VARCHAR[]), 'invalid_{column}')")


@dataclass(frozen=True)
class Rule:
    name: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttributeRules:
    """A group of columns taken together from one winning record, and how to pick it."""

    name: str
    columns: tuple[str, ...]
    rules: tuple[Rule, ...]


PACKAGED_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def default_config_path(config_dir: Path | None = None) -> Path:
    """``config_dir/survivorship.yaml`` (``CDP_CONFIG_DIR``) when there is one, else the packaged file."""
    user = Path(config_dir) / "survivorship.yaml" if config_dir is not None else None
    return user if user is not None and user.exists() else PACKAGED_CONFIG_DIR / "survivorship.yaml"


def _parse_rule(raw: object, where: str) -> Rule:
    if isinstance(raw, str):
        if raw in _RULES_WITH_SOURCES:
            raise ValueError(f"{where}: rule {raw!r} needs a list of sources")
        if raw not in RULES:
            raise ValueError(f"{where}: unknown rule {raw!r} (known: {', '.join(RULES)})")
        return Rule(raw)
    if isinstance(raw, dict) and len(raw) == 1:
        ((name, value),) = raw.items()
        if name not in _RULES_WITH_SOURCES:
            raise ValueError(f"{where}: rule {name!r} takes no argument")
        if not isinstance(value, list) or not value:
            raise ValueError(f"{where}: {name} needs a non-empty list of sources")
        sources = tuple(str(s).strip().lower() for s in value)
        bad = [s for s in sources if not _SOURCE_NAME.match(s)]
        if bad:
            raise ValueError(f"{where}: not a source name: {bad}")
        return Rule(name, sources)
    raise ValueError(f"{where}: a rule is a name or {{name: [sources]}}, got {raw!r}")


def parse_survivorship_config(data: dict) -> tuple[AttributeRules, ...]:
    """Validate the YAML document; every survived attribute must be covered exactly once."""
    attributes = (data or {}).get("attributes")
    if not isinstance(attributes, dict) or not attributes:
        raise ValueError("survivorship config needs an 'attributes' mapping")
    groups: list[AttributeRules] = []
    seen: dict[str, str] = {}
    for name, spec in attributes.items():
        spec = spec or {}
        columns = tuple(spec.get("columns") or [name])
        for col in columns:
            if col not in SURVIVED_ATTRIBUTES:
                raise ValueError(f"{name}: {col!r} is not a survived attribute ({', '.join(SURVIVED_ATTRIBUTES)})")
            if col in seen:
                raise ValueError(f"{col!r} appears in both {seen[col]!r} and {name!r}")
            seen[col] = name
        rules = tuple(_parse_rule(r, f"{name}.rules[{i}]") for i, r in enumerate(spec.get("rules") or []))
        if not rules:
            raise ValueError(f"{name}: needs at least one rule")
        if any(r.name == "prefer_contactable" for r in rules) and (
            len(columns) != 1 or columns[0] not in _LEDGER_COLUMNS
        ):
            raise ValueError(f"{name}: prefer_contactable applies to a group of only email or only phone")
        if any(r.name == "unswapped_name" for r in rules) and columns != _NAME_COLUMNS:
            raise ValueError(f"{name}: unswapped_name applies to the group [first_name, last_name]")
        groups.append(AttributeRules(str(name), columns, rules))
    missing = [c for c in SURVIVED_ATTRIBUTES if c not in seen]
    if missing:
        raise ValueError(f"survivorship config has no rules for {missing}")
    return tuple(groups)


def merged_attributes(packaged: dict, user: dict) -> dict:
    """A user's ``attributes`` over the packaged ones: a user group replaces the packaged group of its
    name and every packaged group sharing a column with it (a user may regroup the columns); the
    packaged groups of the other columns stay."""

    def columns(name, spec) -> set:
        spec = spec if isinstance(spec, dict) else {}
        cols = spec.get("columns") or [name]
        return set(cols) if isinstance(cols, list) else {cols}

    out: dict = {}
    for name, spec in packaged.items():  # in the packaged order: a replaced group keeps its place
        replacing = [n for n, s in user.items() if n == name or columns(n, s) & columns(name, spec)]
        if not replacing:
            out[name] = spec
        for n in replacing:
            out.setdefault(n, user[n])
    for n, s in user.items():
        out.setdefault(n, s)
    return out


def _attributes(doc: dict, path: Path) -> dict:
    check_keys(doc, ("attributes",), path)
    attributes = doc.get("attributes") or {}
    check_type(attributes, "mapping", path, "attributes")
    for name, spec in attributes.items():
        check_type(spec, "mapping", path, f"attributes.{name}", nullable=True)
        check_keys(spec or {}, ("columns", "rules"), path, f"attributes.{name}.")
        for key in ("columns", "rules"):
            check_type((spec or {}).get(key), "list", path, f"attributes.{name}.{key}", nullable=True)
    return attributes


def load_survivorship_config(config_dir: Path | str | None = None) -> tuple[AttributeRules, ...]:
    """The rules of ``config_dir/survivorship.yaml`` over the packaged rules (``merged_attributes``);
    the packaged rules without one."""
    path = default_config_path(config_dir)
    packaged_path = PACKAGED_CONFIG_DIR / "survivorship.yaml"
    attributes = _attributes(read_mapping(packaged_path, "survivorship settings"), packaged_path)
    if path.resolve() != packaged_path.resolve():
        attributes = merged_attributes(attributes, _attributes(read_mapping(path, "survivorship settings"), path))
    try:
        return parse_survivorship_config({"attributes": attributes})
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


_NEVER = "9223372036854775807"  # sorts after every real key: NULL times rank last


def _sort_keys(group: AttributeRules) -> list[str]:
    """One ascending key per rule, then the tie-breakers (smaller wins)."""
    keys = []
    cols = group.columns
    for rule in group.rules:
        if rule.name == "source_priority":
            cases = " ".join(f"WHEN {quote_literal(s)} THEN {i}" for i, s in enumerate(rule.sources))
            keys.append(f"CASE source {cases} ELSE {len(rule.sources)} END")
        elif rule.name == "prefer_sources":
            keys.append(f"CASE WHEN source IN ({', '.join(quote_literal(s) for s in rule.sources)}) THEN 0 ELSE 1 END")
        elif rule.name == "most_recent":
            keys.append(f"coalesce(-epoch_us(record_time), {_NEVER})")
        elif rule.name == "most_frequent":
            keys.append("-_frequency")
        elif rule.name == "prefer_contactable":
            # granted in the ledger, then no ledger row, then blocked: the customer's consent is the
            # ledger's row of the golden address (create_golden_customer_rows.sql)
            keys.append(f"CASE WHEN {cols[0]}_blocked THEN 2 WHEN {cols[0]}_blocked IS NULL THEN 1 ELSE 0 END")
        elif rule.name == "unswapped_name":
            keys.append("_swapped")
        elif rule.name == "most_complete":
            if len(cols) == 1:
                keys.append(f"-coalesce(length(CAST(v_{cols[0]} AS VARCHAR)), 0)")
            else:
                keys.append("-(" + " + ".join(f"(v_{c} IS NOT NULL)::INT" for c in cols) + ")")
    return keys + ["source_record_id", "source"]


def _is_first_name(name: str, variants) -> bool:
    """Every word of the name (match form) is a first name in use (``real_first_names``) or in a
    variant group (``name_variants.yaml``, the nickname table): "Eva", "Anna-Karin"; not "Lindberg"."""
    words = (match_name(name) or "").split()
    return bool(words) and all(w in real_first_names() or variants.groups(w) for w in words)


def name_tables_fingerprint(config_dir: Path | None = None) -> str:
    """A hash of the first names ``unswapped_name`` knows: part of the golden code version, so a
    change of the name tables (the packaged or ``config_dir``'s name_variants.yaml, the Faker or nicknames
    pin) rebuilds golden whole rather than leaving the customers an incremental build keeps judged by the
    old tables."""
    variants = load_name_variants(config_dir)
    names = sorted(real_first_names() | {n for group in variants.members.values() for n in group})
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def swapped_name_rows(
    con: duckdb.DuckDBPyConnection, records: str, config_dir: Path | None = None
) -> tuple[list[int], list[int]]:
    """The rowids of ``records`` whose first and last name are swapped, and those of the records
    that carry the same two names in the right order. Swapped, on two pieces of evidence: another
    record of the same customer carries the two names the other way round, and this record's last
    name is a first name while its first name is not ("Lindberg Eva" beside "Eva Lindberg"). Which
    of the two orders is right is only decided by the name tables; a person whose surname is a first
    name ("Eva Martin") is swapped by neither record, and without a record in the other order nothing
    is swapped. A few rows per thousand customers reach Python. The name tables are the packaged ones
    merged with ``config_dir``'s ``name_variants.yaml`` (the user's, as identity reads them), so a first
    name a user added to a variant group counts as one here too."""
    rows = fetch_sql(con, SQL_DIR, "select_reversed_name_records", records=records)
    if not rows:
        return [], []
    variants = load_name_variants(config_dir)
    verdict: dict[tuple[str, str], bool] = {}

    def swapped(first: str, last: str) -> bool:
        if (first, last) not in verdict:
            verdict[(first, last)] = _is_first_name(last, variants) and not _is_first_name(first, variants)
        return verdict[(first, last)]

    wrong, right = [], []
    for row, first, last in rows:
        if swapped(first, last):
            wrong.append(row)
        elif swapped(last, first):  # the customer's other record, in the right order
            right.append(row)
    return wrong, right


def _swapped_table(target: str) -> str:
    return f"{target}__swapped_names"


def mark_swapped_names(
    con: duckdb.DuckDBPyConnection, records: str, target: str, config_dir: Path | None = None
) -> None:
    """``temp.<target>__swapped_names``: the rowids ``swapped_name_rows`` finds (``swapped``: true
    for a swapped record, false for one carrying its names in the right order), which the
    ``unswapped_name`` rule reads."""
    wrong, right = swapped_name_rows(con, records, config_dir)
    run_sql(
        con,
        SQL_DIR,
        "create_swapped_name_rows",
        {"wrong": wrong, "right": right},
        target=_swapped_table(target),
    )


def group_sql(group: AttributeRules, records: str, swapped: str | None = None) -> str:
    """SELECT of the winning record per customer for one group (customer_id, source, id, v_<col>…).

    ``arg_min`` over a struct of the rule keys is a hash aggregate: the same answer as
    ranking with ``row_number()``, without sorting every customer's records. It keeps the
    winner's ``rowid`` (``records`` must be a table), whose values are then read back by a
    join: an aggregate state of a whole struct of strings per customer costs more (at 1M
    records the five groups 1.13 CPU s against 1.36). ``swapped``: the table of rowids
    ``unswapped_name`` ranks last (``mark_swapped_names``), needed with that rule.
    """
    valid = any(r.name == "valid_only" for r in group.rules)
    values = ", ".join(
        (f"CASE WHEN {_validity(c)} THEN {c} END AS v_{c}" if valid else f"{c} AS v_{c}") for c in group.columns
    )
    any_value = " OR ".join(f"v_{c} IS NOT NULL" for c in group.columns)
    keys = _sort_keys(group)
    key = "{" + ", ".join(f"'k{i}': {k}" for i, k in enumerate(keys)) + "}"
    ranked = values
    if any(r.name == "prefer_contactable" for r in group.rules):
        ranked += f", {group.columns[0]}_blocked"
    if any(r.name == "unswapped_name" for r in group.rules):
        if swapped is None:
            raise ValueError(f"{group.name}: unswapped_name needs the table of swapped records (mark_swapped_names)")
        # 2 swapped, 0 the same names in the right order (so a swapped CRM "Bergström Mats" gives way to the
        # "Mats Bergström" that confirms it, not to a shop's "Mats Begström"), 1 every other record.
        ranked += (
            f", CASE WHEN rowid IN (SELECT _row FROM {swapped} WHERE swapped) THEN 2"
            f" WHEN rowid IN (SELECT _row FROM {swapped} WHERE NOT swapped) THEN 0 ELSE 1 END AS _swapped"
        )
    candidates = f"SELECT rowid AS _row, customer_id, source, source_record_id, record_time, {ranked} FROM {records}"
    if any(r.name == "most_frequent" for r in group.rules):
        freq_key = ", ".join(f"lower(CAST(v_{c} AS VARCHAR))" for c in group.columns)
        candidates = (
            f"SELECT *, count(*) OVER (PARTITION BY customer_id, {freq_key}) AS _frequency "
            f"FROM ({candidates}) WHERE {any_value}"
        )
    else:
        candidates = f"SELECT * FROM ({candidates}) WHERE {any_value}"
    out = ", ".join(f"r.v_{c} AS v_{c}" for c in group.columns)
    return (
        f"SELECT w.customer_id, r.source AS source, r.source_record_id AS source_record_id, {out} FROM ("
        f"SELECT customer_id, arg_min(_row, {key}) AS _row FROM ({candidates}) GROUP BY customer_id) AS w "
        f"JOIN (SELECT rowid AS _row, source, source_record_id, {values} FROM {records}) AS r USING (_row)"
    )


def _group_table(target: str, group: AttributeRules) -> str:
    return f"{target}_{group.name}"


def survivorship_sql(
    config: tuple[AttributeRules, ...],
    records: str,
    customers: str,
    target: str,
    *,
    view: bool = False,
    carry: tuple[str, ...] = (),
) -> list[str]:
    """The statements creating ``target``: per customer of ``customers``, each survived
    attribute with ``<attr>_source`` and ``<attr>_source_record_id``.

    One temp table per group (``<target>_<group>``: its winners), then one statement joining
    them: an ``arg_min`` aggregate is held in memory, so each group's is built alone rather
    than all of them beside the joins in one statement (a 1M-record build needed a 700MB
    memory_limit for that one). The caller drops the group tables. With ``view``, ``target``
    is a temp view of that join, which the statement reading it runs as part of itself
    (the group tables must then outlive it).

    ``records`` is a table (``group_sql`` reads the winners back by ``rowid``) with customer_id,
    source, source_record_id, record_time, the attribute columns, ``*_is_junk`` and ``dq_flags``
    (and ``email_blocked`` / ``phone_blocked`` for ``prefer_contactable``: true, false, or NULL without a ledger row). Names are
    code-chosen identifiers.

    With ``carry``, ``customers`` (a table or a parenthesised query) has one row per customer and
    ``target`` holds its ``carry`` columns too: no DISTINCT of the customers, and the caller joins
    nothing more (the profiles' identifier lists: at 1M records a hash aggregate of 1M records and
    a join of 290k rows fewer).
    """
    swapped = f"temp.{_swapped_table(target)}" if uses_unswapped_name(config) else None
    statements = [
        f"CREATE OR REPLACE TEMP TABLE {_group_table(target, g)} AS {group_sql(g, records, swapped)}" for g in config
    ]
    by_column = {c: g for g in config for c in g.columns}
    select = ["c.customer_id"]
    for col in SURVIVED_ATTRIBUTES:
        alias = f"g_{by_column[col].name}"
        select += [
            f"{alias}.v_{col} AS {col}",
            f"CASE WHEN {alias}.v_{col} IS NOT NULL THEN {alias}.source END AS {col}_source",
            f"CASE WHEN {alias}.v_{col} IS NOT NULL THEN {alias}.source_record_id END AS {col}_source_record_id",
        ]
    select += [f"c.{col}" for col in carry]
    base = customers if carry else f"(SELECT DISTINCT customer_id FROM {customers})"
    joins = " ".join(f"LEFT JOIN temp.{_group_table(target, g)} AS g_{g.name} USING (customer_id)" for g in config)
    statements.append(
        f"CREATE OR REPLACE TEMP {'VIEW' if view else 'TABLE'} {target} AS SELECT {', '.join(select)} FROM {base} c {joins}"
    )
    return statements


def uses_unswapped_name(config: tuple[AttributeRules, ...]) -> bool:
    return any(r.name == "unswapped_name" for g in config for r in g.rules)


def drop_group_tables(con: duckdb.DuckDBPyConnection, config: tuple[AttributeRules, ...], target: str) -> None:
    for g in config:
        con.execute(f"DROP TABLE IF EXISTS temp.{_group_table(target, g)}")
    con.execute(f"DROP TABLE IF EXISTS temp.{_swapped_table(target)}")


def run_survivorship(
    con: duckdb.DuckDBPyConnection,
    config: tuple[AttributeRules, ...] | None = None,
    records: str = "_golden_records",
    customers: str = "_golden_records",
    target: str = "_golden_survived",
    *,
    view: bool = False,
    carry: tuple[str, ...] = (),
    config_dir: Path | None = None,
) -> None:
    """Create ``target`` (``survivorship_sql``). Its group tables are dropped here, unless
    ``view``: then the caller drops them (``drop_group_tables``) once it has read the view.
    ``config_dir``: the folder of the user's ``name_variants.yaml`` (``unswapped_name``)."""
    config = config or load_survivorship_config()
    try:
        if uses_unswapped_name(config):
            mark_swapped_names(con, records, target, config_dir)
        for statement in survivorship_sql(config, records, customers, target, view=view, carry=carry):
            con.execute(statement)
    finally:
        if not view:
            drop_group_tables(con, config, target)
