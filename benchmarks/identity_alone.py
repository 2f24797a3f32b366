"""The identity stage alone: a full night's ``resolve_identities`` on a copy of a build database.

    python benchmarks/identity_alone.py BUILD.duckdb WORKDIR [--phases]

Copies ``BUILD.duckdb`` (a kept night's ``data/warehouse/build/cdp_build.duckdb``) into
``WORKDIR``, drops its ``identity`` schema (so the model is trained and every pair scored, as
on a first night) and runs ``resolve_identities`` as the Dagster step does, printing its wall
and CPU seconds (user + system of this process, DuckDB's threads included), then those of closing the
database (its checkpoint, which the step's connection also makes). ``--phases`` also
times the library's parts (each call's own wall and CPU; nested parts are indented). The
identity tables are left in ``WORKDIR`` for ``table_hashes.py --schema identity``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import time
from pathlib import Path

RESOLVE_PARTS = (
    "build_records",
    "record_hashes",
    "write_first_name_table",
    "build_identifiers",
    "find_excluded_identifiers",
    "build_deterministic_edges",
    "train_and_predict",
    "_household_cannot_links",
    "keyed_edges",
    "connected_components",
    "build_account_cannot_links",
    "split_components",
    "assign_customer_ids",
    "_write_tables",
    "write_graph_state",
    "write_state",
)
MODEL_PARTS = ("build_splink_input", "_input_hashes", "train_model", "_estimate_u", "write_probabilistic_edges")


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _timed(module, name: str, label: str, laps: list) -> None:
    fn = getattr(module, name)

    def wrapper(*args, **kwargs):
        wall, cpu = time.monotonic(), cpu_seconds()
        try:
            return fn(*args, **kwargs)
        finally:
            laps.append((label, time.monotonic() - wall, cpu_seconds() - cpu))

    setattr(module, name, wrapper)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", help="a build database (read only: copied first)")
    parser.add_argument("workdir", help="folder for the copy (emptied first)")
    parser.add_argument("--phases", action="store_true", help="also time the library's parts")
    args = parser.parse_args(argv)

    from cdp_pipeline.lib.common.warehouse import connect_build
    from cdp_pipeline.lib.identity import load_identity_config, splink_model
    from cdp_pipeline.lib.identity import resolve as resolve_module
    from cdp_pipeline.lib.identity.name_variants import load_name_variants
    from cdp_pipeline.lib.staging.build import data_as_of

    laps: list[tuple[str, float, float]] = []
    if args.phases:
        for name in RESOLVE_PARTS:
            _timed(resolve_module, name, name, laps)
        for name in MODEL_PARTS:
            _timed(splink_model, name, f"  {name}", laps)
    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "cdp_build.duckdb"
    shutil.copy(args.build, db)
    con = connect_build(db)
    con.execute("DROP SCHEMA IF EXISTS identity CASCADE")
    con.execute("CHECKPOINT")
    import splink  # noqa: F401  (imported before the clock starts, as the night has by then)

    wall, cpu = time.monotonic(), cpu_seconds()
    result = resolve_module.resolve_identities(
        con,
        run_id="identity_alone",
        config=load_identity_config(),
        reports_dir=work / "reports",
        as_of=data_as_of(con),
        name_variants=load_name_variants(),
        run_at=dt.datetime(2026, 1, 1),  # fixed: the tables of two runs hash equal
    )
    print(f"resolve_identities: wall {time.monotonic() - wall:.2f} s, CPU {cpu_seconds() - cpu:.2f} s")
    wall, cpu = time.monotonic(), cpu_seconds()
    con.close()  # the checkpoint the step's connection makes when it closes
    print(f"closing the database (checkpoint): wall {time.monotonic() - wall:.2f} s, CPU {cpu_seconds() - cpu:.2f} s")
    print(f"{result.records:,} records, {result.customers:,} customers, links {result.links_by_type}")
    for label, w, c in laps:
        print(f"{label:32s} wall {w:7.2f}  CPU {c:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
