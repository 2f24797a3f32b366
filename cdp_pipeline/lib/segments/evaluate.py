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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from cdp_pipeline.lib.segments.definitions import SegmentDefinition
from cdp_pipeline.lib.segments.predicate_guard import UnsafePredicateError, guard_predicate

SANDBOX_TABLE = "customers"

# name -> (columns it needs, SQL expression over the input table, meaning)
HELPER_COLUMNS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "spend_percentile": (
        ("total_spend",),
        "CASE WHEN total_spend > 0 THEN percent_rank() OVER (PARTITION BY total_spend > 0 "
        "ORDER BY total_spend) END",
        "rank of total_spend among buyers (total_spend > 0), 0 = lowest, 1 = highest; NULL for "
        "non-buyers. Top 10% by spend: spend_percentile >= 0.9",
    ),
    "orders_percentile": (
        ("orders_count",),
        "CASE WHEN orders_count > 0 THEN percent_rank() OVER (PARTITION BY orders_count > 0 "
        "ORDER BY orders_count) END",
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
    con = duckdb.connect(":memory:", config={"threads": threads, "memory_limit": memory_limit})
    try:
        present = {c.lower() for c in customers.column_names}
        helpers = [f"{sql} AS {name}" for name, (needs, sql, _) in HELPER_COLUMNS.items()
                   if set(needs) <= present and name not in present]
        con.register("golden_input", customers)
        con.execute(f"CREATE TABLE {SANDBOX_TABLE} AS SELECT g.*{''.join(', ' + h for h in helpers)} "
                    "FROM golden_input AS g")
        con.unregister("golden_input")
        for setting in ("SET enable_external_access = false",
                        "SET autoinstall_known_extensions = false",
                        "SET autoload_known_extensions = false",
                        "SET allow_community_extensions = false",
                        "SET lock_configuration = true"):
            con.execute(setting)
    except BaseException:
        con.close()
        raise
    return con


def sandbox_columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = $t AND schema_name = 'main'",
        {"t": SANDBOX_TABLE},
    ).fetchall()
    return {name.lower(): dtype for name, dtype in rows}


def evaluate_definition(con: duckdb.DuckDBPyConnection, definition: SegmentDefinition,
                        columns: dict[str, str] | None = None) -> SegmentResult:
    """One segment's members, or its error; never raises for a bad definition."""
    if definition.load_error:
        return SegmentResult(definition.name, "error", definition.load_error)
    columns = columns or sandbox_columns(con)
    try:
        sql = guard_predicate(definition.name, definition.predicate, columns)
    except UnsafePredicateError as e:
        return SegmentResult(definition.name, "error", str(e))
    try:
        described = con.execute(f"DESCRIBE SELECT ({sql}) AS matches FROM {SANDBOX_TABLE}").fetchall()
        result_type = described[0][1]
        if result_type.upper() != "BOOLEAN":
            raise UnsafePredicateError(definition.name, f"not a boolean expression (it gives {result_type})")
        ids = [r[0] for r in con.execute(
            f"SELECT customer_id FROM {SANDBOX_TABLE} WHERE ({sql}) ORDER BY customer_id").fetchall()]
    except UnsafePredicateError as e:
        return SegmentResult(definition.name, "error", str(e), sql)
    except duckdb.Error as e:
        first = str(e).splitlines()[0]
        return SegmentResult(definition.name, "error", f"segment {definition.name!r}: {first}", sql)
    return SegmentResult(definition.name, "ok", None, sql, ids)


def evaluate_segments(customers: pa.Table, definitions: Iterable[SegmentDefinition]) -> list[SegmentResult]:
    """Every definition evaluated over ``customers`` (an Arrow copy of golden.customers)."""
    con = open_sandbox(customers)
    try:
        columns = sandbox_columns(con)
        return [evaluate_definition(con, d, columns) for d in definitions]
    finally:
        con.close()
