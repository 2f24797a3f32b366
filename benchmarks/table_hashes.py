"""Print one line per table of a DuckDB file: row count and an order-independent content hash.

    python benchmarks/table_hashes.py WAREHOUSE.duckdb [--schema raw --schema staging] [--ignore COL]

Two warehouses built from the same landing folder by two versions of the code hold the same
data when their outputs are equal (``diff`` them). Columns that record when or by which run a
row was written (``RUN_TIME_COLUMNS``) are left out, and so are tables that record how long a
run took (``RUN_TIME_TABLES``); everything else counts, including row multiplicity (the hash is
a sum over rows, not a set). One expected difference remains: the ``sha256`` of each export
manifest in ``activation.export_log``, since a manifest records the time it was written.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

# Written with the clock or the run's id, so they differ between two runs of the same input.
RUN_TIME_COLUMNS = {
    "_loaded_at",
    "loaded_at",
    "quarantined_at",
    "added_at",
    "executed_at",
    "exported_at",
    "resolved_at",
    "customer_created_at",
    "trained_at",
    "evaluated_at",
    "run_id",
    "code_version",
    "identity.clusters.created_at",
    "identity.id_history.at",
    "activation.export_log.path",  # where this run's data folder is
}
# Durations and per-run bookkeeping: one row per run, never equal between runs.
RUN_TIME_TABLES = {"identity.runs", "identity.model", "audit.runs", "audit.step_timings"}


def table_hashes(path: str, schemas: list[str] | None = None, ignore: set[str] = frozenset()) -> list[tuple]:
    """``(schema.table, rows, hash, columns hashed)`` for every base table, sorted by name."""
    con = duckdb.connect(path, read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY 1, 2"
        ).fetchall()
        out = []
        for schema, table in tables:
            name = f"{schema}.{table}"
            if (schemas and schema not in schemas) or name in RUN_TIME_TABLES or name in ignore:
                continue
            columns = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, table],
                ).fetchall()
                if not ({c, f"{name}.{c}"} & (RUN_TIME_COLUMNS | ignore))
            ]
            quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
            hashed = f"sum(hash({quoted})::HUGEINT)" if columns else "0"
            rows, digest = con.execute(f'SELECT count(*), {hashed} FROM "{schema}"."{table}"').fetchone()
            out.append((name, rows, digest or 0, len(columns)))
        return out
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database")
    parser.add_argument("--schema", action="append", help="only these schemas (repeatable)")
    parser.add_argument("--ignore", action="append", default=[], help="column, schema.table.column or schema.table")
    args = parser.parse_args(argv)
    for name, rows, digest, ncols in table_hashes(args.database, args.schema, set(args.ignore)):
        print(f"{name}\t{rows}\t{digest:x}\t{ncols} columns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
