"""Time the asset checks' work and activation's two steps alone, on a copy of a night's build
database (the copy made first, so the night's own file is never written).

    CDP_DATA_DIR=<night>/data python benchmarks/check_queries.py BUILD.duckdb COPY.duckdb checks [NAME ...]
    CDP_DATA_DIR=<night>/data python benchmarks/check_queries.py BUILD.duckdb COPY.duckdb activation EXPORTS [--first-export]

``checks``: every staging, identity and golden check and the consent check over the export files
(the files named in the copy's activation.export_log are read where they are, never written), one
process and one connection, as the check steps run them without Dagster's bookkeeping or the
connection each step opens; NAME picks the checks whose name contains it. Prints each check's CPU
seconds (this process, DuckDB's threads included), wall seconds and verdict.

``activation``: activation/export_members then activation/export_log's work for the copy's run date
(a rerun of that date: its files are written again under EXPORTS, which is replaced by a copy of
the night's export folder first). Prints each destination's CPU seconds. ``--first-export``: the run
date's rows of activation.export_members and export_log are deleted first, so the two steps find
the tables as a night exporting a new date does (it inserts every row; a rerun of a date that
changes nothing keeps them). Compare the files' bytes
(``sha256sum``) and the copy's tables (``benchmarks/table_hashes.py``) between two trees.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import duckdb

from cdp_pipeline.settings import get_settings


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _checks(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    from cdp_pipeline.defs.golden import checks as golden
    from cdp_pipeline.defs.identity import checks as identity
    from cdp_pipeline.defs.staging import checks as staging
    from cdp_pipeline.lib.activation.consent_check import consent_violations
    from cdp_pipeline.lib.activation.destinations import load_destinations
    from cdp_pipeline.lib.activation.store import ensure_activation_tables

    settings = get_settings()

    def consent(con):
        ensure_activation_tables(con)
        return consent_violations(con, load_destinations(settings.config_dir), settings.timezone)

    golden_outcomes: dict = {}
    jobs = {
        **{f"staging.{t}.{n}": (lambda c, f=f: f(c)) for (t, n), (_, _, f) in staging.STAGING_CHECKS.items()},
        **{f"identity.{n}": (lambda c, f=f: f(c, settings)) for n, (_, f) in identity.IDENTITY_CHECKS.items()},
        # in order, sharing their outcomes as the golden_checks step does
        **{
            f"golden.{n}": (lambda c, n=n: golden.golden_check_result(c, n, settings, golden_outcomes))
            for n in golden.CHECKS
        },
        "activation.exported_rows_have_consent": consent,
    }
    total = 0.0
    for name, job in jobs.items():
        if names and not any(n in name for n in names):
            continue
        cpu, wall = _cpu(), time.perf_counter()
        result = job(con)
        cpu, wall = _cpu() - cpu, time.perf_counter() - wall
        total += cpu
        passed = not result if isinstance(result, list) else result.passed
        print(f"{name:55s} cpu {cpu:6.2f}  wall {wall:6.2f}  passed={passed}")
    print(f"{'total':55s} cpu {total:6.2f}")


def _activation(con: duckdb.DuckDBPyConnection, night_exports: Path, exports: Path, first_export: bool) -> None:
    from cdp_pipeline.lib.activation import exporter, store
    from cdp_pipeline.lib.activation.consent_gate import ConsentedIdentifiers, destination_identifier_kinds
    from cdp_pipeline.lib.activation.destinations import load_destinations
    from cdp_pipeline.lib.activation.export_staging import clear_staging, staging_root
    from cdp_pipeline.lib.segments.store import run_date

    settings = get_settings()
    shutil.rmtree(exports, ignore_errors=True)
    shutil.copytree(night_exports, exports)
    destinations = load_destinations(settings.config_dir)
    store.ensure_activation_tables(con)
    day = run_date(con, settings.timezone)
    if first_export:
        for table in ("export_members", "export_log"):
            con.execute(f"DELETE FROM activation.{table} WHERE run_date = ?", [day])
        con.execute("CHECKPOINT")
    start = _cpu()
    audience = exporter.ExportAudience(con, destinations) if hasattr(exporter, "ExportAudience") else None
    print(f"  export_members audience (shared)               cpu {_cpu() - start:6.2f}")
    for dest in destinations:
        cpu = _cpu()
        store.replace_export_members(con, dest, day, *([audience] if audience else []))
        print(f"  export_members {dest.name:30s} cpu {_cpu() - cpu:6.2f}")
    if audience:
        audience.close()
    print(f"export_members cpu {_cpu() - start:6.2f}")
    start = _cpu()
    staging = staging_root(exports, "check_queries")
    with ConsentedIdentifiers(con, destination_identifier_kinds(destinations)) as allowed:
        for dest in destinations:
            cpu = _cpu()
            outcome = store.export_destination(con, dest, day, exports, staging, allowed)
            print(f"  export_log {dest.name:30s} cpu {_cpu() - cpu:6.2f}  problems={len(outcome.problems)}")
    clear_staging(exports)
    print(f"export_log cpu {_cpu() - start:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build", type=Path)
    parser.add_argument("copy", type=Path)
    parser.add_argument("what", choices=("checks", "activation"))
    parser.add_argument("rest", nargs="*", help="checks: names to pick; activation: the export folder to write")
    parser.add_argument("--first-export", action="store_true", help="activation: as a night exporting a new date")
    args = parser.parse_args()
    if args.what == "activation" and len(args.rest) != 1:
        parser.error("activation needs the export folder to write (replaced by a copy of the night's)")
    shutil.copyfile(args.build, args.copy)
    with duckdb.connect(str(args.copy)) as con:
        if args.what == "checks":
            _checks(con, args.rest)
        else:
            _activation(con, get_settings().export_dir, Path(args.rest[0]), args.first_export)


if __name__ == "__main__":
    main()
