"""Run guarded segment predicates in a sandbox that cannot reach files, network or extensions.

The build connection cannot have ``enable_external_access`` switched off and back on (DuckDB
only allows turning it off), so predicates never run there. Instead ``open_sandbox`` makes a
fresh in-memory DuckDB connection, copies ``golden.customers`` into it through Arrow, adds the
helper columns, then sets ``enable_external_access=false``, turns off extension autoloading
and sets ``lock_configuration=true`` before any predicate runs. Even a predicate that slipped
past the guard could read no file and load no extension there.

Helper columns exist because a predicate sees one row: "top 10% by spend" needs the other
rows. Each helper is a window over the whole customer table computed before evaluation,
so the predicate can say ``spend_percentile >= 0.9``.

Only what the predicates read is copied: the sandbox table has every column (so the guard
and DuckDB see golden's full schema and types), but rows are loaded for ``customer_id``, the
columns the guarded predicates use and the helpers' inputs; the other columns stay NULL.
Copying all of golden's ~70 columns and computing the windows over them cost about ten times
as much as the predicates themselves. The helpers are always computed, as before: the windows
also decide the table's row order, and so which row a predicate that fails at run time
meets first (its error names the segment and the error class, never the row's values).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from cdp_pipeline.lib.segments.definitions import SegmentDefinition
from cdp_pipeline.lib.segments.predicate_guard import UnsafePredicateError, guard_predicate_columns

SANDBOX_TABLE = "customers"

# name -> (columns it needs, SQL expression over the input table, meaning)
HELPER_COLUMNS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "spend_percentile": (
        ("total_spend",),
        "CASE WHEN total_spend > 0 THEN percent_rank() OVER (PARTITION BY total_spend > 0 ORDER BY total_spend) END",
        "rank of total_spend among buyers (total_spend > 0), 0 = lowest, 1 = highest; NULL for "
        "non-buyers. Top 10% by spend: spend_percentile >= 0.9",
    ),
    "orders_percentile": (
        ("orders_count",),
        "CASE WHEN orders_count > 0 THEN percent_rank() OVER (PARTITION BY orders_count > 0 ORDER BY orders_count) END",
        "rank of orders_count among buyers, 0 = fewest orders, 1 = most; NULL for non-buyers",
    ),
}


@dataclass
class SegmentResult:
    name: str
    status: str  # ok | error
    error: str | None = None
    predicate_sql: str | None = None
    customer_ids: list[str] = field(default_factory=list)


def open_sandbox(customers: pa.Table, *, threads: int = 2, memory_limit: str = "1GB") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding ``customers`` (+ helper columns), with external access off."""
    con = _new_sandbox(customers.schema, threads=threads, memory_limit=memory_limit)
    try:
        _load_rows(con, customers, set(_helpers(customers.schema)))
        _lock(con)
    except BaseException:
        con.close()
        raise
    return con


def _helpers(schema: pa.Schema) -> dict[str, tuple[tuple[str, ...], str]]:
    """Helper columns the table gets: those whose inputs it has and whose name it does not."""
    present = {c.lower() for c in schema.names}
    return {
        name: (needs, sql)
        for name, (needs, sql, _) in HELPER_COLUMNS.items()
        if set(needs) <= present and name not in present
    }


def _new_sandbox(schema: pa.Schema, *, threads: int = 2, memory_limit: str = "1GB") -> duckdb.DuckDBPyConnection:
    """A fresh in-memory connection with the empty sandbox table: golden's columns and the helpers."""
    con = duckdb.connect(":memory:", config={"threads": threads, "memory_limit": memory_limit})
    try:
        helpers = [f"{sql} AS {name}" for name, (_, sql) in _helpers(schema).items()]
        con.register("golden_input", schema.empty_table())
        con.execute(
            f"CREATE TABLE {SANDBOX_TABLE} AS SELECT g.*{''.join(', ' + h for h in helpers)} FROM golden_input AS g"
        )
        con.unregister("golden_input")
    except BaseException:
        con.close()
        raise
    return con


def _load_rows(con: duckdb.DuckDBPyConnection, rows: pa.Table, helpers: set[str]) -> None:
    """Insert ``rows`` (some or all of golden's columns) and compute the named helpers over them."""
    exprs = [f"{sql} AS {name}" for name, (_, sql) in _helpers(rows.schema).items() if name in helpers]
    con.register("golden_input", rows)
    con.execute(
        f"INSERT INTO {SANDBOX_TABLE} BY NAME SELECT g.*{''.join(', ' + e for e in exprs)} FROM golden_input AS g"
    )
    con.unregister("golden_input")


def _lock(con: duckdb.DuckDBPyConnection) -> None:
    for setting in (
        "SET enable_external_access = false",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET allow_community_extensions = false",
        "SET lock_configuration = true",
    ):
        con.execute(setting)


def sandbox_columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = $t AND schema_name = 'main'",
        {"t": SANDBOX_TABLE},
    ).fetchall()
    return {name.lower(): dtype for name, dtype in rows}


def _guard(definition: SegmentDefinition, columns: dict[str, str]) -> SegmentResult | tuple[str, frozenset[str]]:
    """The definition's safe SQL and the columns it reads, or its error."""
    if definition.load_error:
        return SegmentResult(definition.name, "error", definition.load_error)
    try:
        return guard_predicate_columns(definition.name, definition.predicate, columns)
    except UnsafePredicateError as e:
        return SegmentResult(definition.name, "error", str(e))


# What a predicate failing over customers' rows is reported as: its error class and this
# sentence, never DuckDB's message, which quotes the row's values ("Could not convert string
# 'anna@…' to INT32") and would carry them into the definitions table, the check and the event log.
RUNTIME_ERROR_MEANING = {
    "ConversionException": "a value could not be converted",
    "OutOfRangeException": "a value was out of range",
    "InvalidInputException": "a value was not valid input for a function",
    "InvalidTypeException": "a value had the wrong type",
    "OverflowError": "a computation overflowed",
    "ZeroDivisionError": "a division by zero",
}


def runtime_error_text(name: str, error: BaseException) -> str:
    """The error of a predicate that failed on the rows: its position (segment, predicate) and the
    error's class, without row values."""
    cls = type(error).__name__
    meaning = RUNTIME_ERROR_MEANING.get(cls, "the predicate failed on a customer's values")
    return f"segment {name!r}: predicate failed while evaluating customers: {cls}: {meaning}"


def _run(con: duckdb.DuckDBPyConnection, definition: SegmentDefinition, sql: str) -> SegmentResult:
    try:
        # Planning sees the predicate and the schema only: its message (a missing column, a
        # type mismatch) may be shown as DuckDB wrote it.
        described = con.execute(f"DESCRIBE SELECT ({sql}) AS matches FROM {SANDBOX_TABLE}").fetchall()
        result_type = described[0][1]
        if result_type.upper() != "BOOLEAN":
            raise UnsafePredicateError(definition.name, f"not a boolean expression (it gives {result_type})")
    except UnsafePredicateError as e:
        return SegmentResult(definition.name, "error", str(e), sql)
    except duckdb.Error as e:
        first = str(e).splitlines()[0]
        return SegmentResult(definition.name, "error", f"segment {definition.name!r}: {first}", sql)
    try:
        ids = [
            r[0]
            for r in con.execute(
                f"SELECT customer_id FROM {SANDBOX_TABLE} WHERE ({sql}) ORDER BY customer_id"
            ).fetchall()
        ]
    except (duckdb.Error, ArithmeticError) as e:
        return SegmentResult(definition.name, "error", runtime_error_text(definition.name, e), sql)
    return SegmentResult(definition.name, "ok", None, sql, ids)


def evaluate_definition(
    con: duckdb.DuckDBPyConnection, definition: SegmentDefinition, columns: dict[str, str] | None = None
) -> SegmentResult:
    """One segment's members, or its error; never raises for a bad definition."""
    guarded = _guard(definition, columns or sandbox_columns(con))
    if isinstance(guarded, SegmentResult):
        return guarded
    return _run(con, definition, guarded[0])


def evaluate_segments(customers: pa.Table, definitions: Iterable[SegmentDefinition]) -> list[SegmentResult]:
    """Every definition evaluated over ``customers`` (an Arrow copy of golden.customers)."""
    return evaluate_segments_loading(customers.schema, customers.select, definitions)


def evaluate_segments_loading(
    schema: pa.Schema, load: Callable[[list[str]], pa.Table], definitions: Iterable[SegmentDefinition]
) -> list[SegmentResult]:
    """Every definition evaluated over golden.customers, of which ``schema`` is the Arrow schema
    and ``load(columns)`` returns those columns of every row (in customer_id order)."""
    definitions = list(definitions)
    con = _new_sandbox(schema)
    try:
        columns = sandbox_columns(con)
        guarded = [_guard(d, columns) for d in definitions]
        helpers = _helpers(schema)
        needed = {"customer_id", *(n for needs, _ in helpers.values() for n in needs)}
        needed |= set().union(*(g[1] for g in guarded if not isinstance(g, SegmentResult))) - set(helpers)
        if any(not isinstance(g, SegmentResult) for g in guarded):
            _load_rows(con, load([n for n in schema.names if n.lower() in needed]), set(helpers))
        _lock(con)
        return [g if isinstance(g, SegmentResult) else _run(con, d, g[0]) for d, g in zip(definitions, guarded)]
    finally:
        con.close()
