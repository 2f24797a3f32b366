"""The identity stage of a quiet night alone: an incremental ``resolve_identities`` on a copy.

    python benchmarks/identity_quiet.py BASE.duckdb QUIET.duckdb WORKDIR [--phases] [--repeat N]

``BASE.duckdb``: the build database after a night (``data/warehouse/build/cdp_build.duckdb``,
copied after ``cdp run``); ``QUIET.duckdb``: the same after the next night's ``cdp run``.
The copy in ``WORKDIR`` is the base night's database with the quiet night's
``staging.identity_records``, ``staging.web_events`` and ``audit.files`` (what identity reads):
the state the quiet night's identity step started from. The kept graph and model are marked as
built by this checkout's code (``graph_meta.config_hash``, ``identity.model.config_hash``), so a
change to ``lib/identity`` is measured on the incremental path rather than re-clustering or
retraining everything, as the first night after a deployment would; a base state without kept
record numbers is given those this checkout's base night would have kept (``number_as_this_code``). The run's wall and CPU
seconds are printed (user + system of this process, DuckDB's threads included), then those of
closing the database; ``--phases`` also times the library's parts (``identity_alone.py``).
The identity tables are left in ``WORKDIR/run<N>`` for ``table_hashes.py --schema identity``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from identity_alone import MODEL_PARTS, RESOLVE_PARTS, _timed, cpu_seconds  # noqa: E402

# what the identity step reads of the quiet night besides the identity schema
QUIET_TABLES = ("staging.identity_records", "staging.web_events", "audit.files")


def prepare(base: Path, quiet: Path, out: Path) -> None:
    """``base`` with ``quiet``'s ``QUIET_TABLES``, written to ``out``."""
    import duckdb

    shutil.copy(base, out)
    con = duckdb.connect(str(out))
    try:
        con.execute(f"ATTACH '{quiet}' AS quiet (READ_ONLY)")
        for table in QUIET_TABLES:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM quiet.{table}")
        con.execute("DETACH quiet")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def mark_current_code(con) -> None:
    """The kept graph and model as if built by this checkout (see the module's doc)."""
    from cdp_pipeline.lib.identity import load_identity_config
    from cdp_pipeline.lib.identity.affected import graph_config_hash
    from cdp_pipeline.lib.identity.model_store import config_hash

    config = load_identity_config()
    con.execute("UPDATE identity.graph_meta SET config_hash = ?", [graph_config_hash(config)])
    con.execute("UPDATE identity.model SET config_hash = ?", [config_hash(config)])


def number_as_this_code(con) -> None:
    """A base state written by code that kept no record numbers (``record_numbers.py``) given the
    numbers this checkout's base night would have kept: a night that trains numbers its records
    afresh with room between (``resolve._numbering``), and the kept scores carry those numbers.
    Nothing when the checkout keeps none or the state has them."""
    try:
        from cdp_pipeline.lib.identity.record_numbers import RECORD_NUMBERS, fresh_gap
    except ImportError:
        return
    from cdp_pipeline.lib.common.warehouse import table_exists
    from cdp_pipeline.lib.identity.model_store import ensure_state_tables
    from cdp_pipeline.lib.identity.storage import replace_table

    if table_exists(con, "identity", "record_numbers"):
        return
    gap = fresh_gap(con.execute("SELECT count(*) FROM identity.graph_records").fetchall()[0][0])
    replace_table(
        con,
        RECORD_NUMBERS,
        f"""SELECT source, source_record_id, row_number() OVER (ORDER BY source, source_record_id) * {gap} AS rid
            FROM identity.graph_records""",
        "rid",
    )
    ensure_state_tables(con)
    con.execute(f"""UPDATE identity.scored_records s SET rid = n.rid FROM {RECORD_NUMBERS} n
                    WHERE n.source = s.source AND n.source_record_id = s.source_record_id""")
    con.execute(f"""UPDATE identity.scored_pairs p SET rid_l = l.rid, rid_r = r.rid
                    FROM {RECORD_NUMBERS} l, {RECORD_NUMBERS} r
                    WHERE l.source = p.source_l AND l.source_record_id = p.record_l
                      AND r.source = p.source_r AND r.source_record_id = p.record_r""")


class TimedConnection:
    """``con`` with each ``execute`` timed (wall, CPU of the process) and logged with its caller;
    Splink gets the bare connection (``--statements``)."""

    def __init__(self, con, log: list) -> None:
        self._con, self._log = con, log

    def execute(self, sql, *args, **kwargs):
        frame = sys._getframe(1)
        where = f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} {frame.f_code.co_name}"
        wall, cpu = time.monotonic(), cpu_seconds()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            text = " ".join(str(sql).split())[:90]
            self._log.append((where, text, time.monotonic() - wall, cpu_seconds() - cpu))

    def __getattr__(self, name):
        return getattr(self._con, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="build database after the base night (read only: copied)")
    parser.add_argument("quiet", help="build database after the quiet night (read only)")
    parser.add_argument("workdir", help="folder for the copies")
    parser.add_argument("--phases", action="store_true", help="also time the library's parts")
    parser.add_argument("--statements", type=int, default=0, help="print the N statements that took most CPU")
    parser.add_argument("--repeat", type=int, default=1, help="runs, each on a fresh copy")
    args = parser.parse_args(argv)

    from cdp_pipeline.lib.common.warehouse import connect_build
    from cdp_pipeline.lib.identity import load_identity_config, splink_model
    from cdp_pipeline.lib.identity import resolve as resolve_module
    from cdp_pipeline.lib.identity.name_variants import load_name_variants
    from cdp_pipeline.lib.staging.build import data_as_of

    laps: list[tuple[str, float, float]] = []
    statements: list[tuple[str, str, float, float]] = []
    if args.statements:
        bare_api = splink_model._temp_tables_api
        splink_model._temp_tables_api = lambda con: bare_api(getattr(con, "_con", con))
        from cdp_pipeline.lib.identity import model_store

        for module in (model_store, splink_model):
            bare = module.erasures_executed
            module.erasures_executed = lambda db, bare=bare: bare(getattr(db, "_con", db))
    if args.phases:
        for name in RESOLVE_PARTS:
            _timed(resolve_module, name, name, laps)
        for name in MODEL_PARTS:
            _timed(splink_model, name, f"  {name}", laps)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    start = work / "start.duckdb"
    if not start.exists():
        prepare(Path(args.base), Path(args.quiet), start)
    import splink  # noqa: F401  (imported before the clock starts, as the night has by then)

    for n in range(args.repeat):
        laps.clear()
        statements.clear()
        run_dir = work / f"run{n}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir()
        db = run_dir / "cdp_build.duckdb"
        shutil.copy(start, db)
        con = connect_build(db)
        mark_current_code(con)
        number_as_this_code(con)
        con.execute("CHECKPOINT")
        wall, cpu = time.monotonic(), cpu_seconds()
        result = resolve_module.resolve_identities(
            TimedConnection(con, statements) if args.statements else con,
            run_id="identity_quiet",
            config=load_identity_config(),
            reports_dir=run_dir / "reports",
            as_of=data_as_of(con),
            name_variants=load_name_variants(),
            run_at=dt.datetime(2026, 1, 1),  # fixed: the tables of two runs hash equal
        )
        print(f"resolve_identities: wall {time.monotonic() - wall:.2f} s, CPU {cpu_seconds() - cpu:.2f} s")
        wall, cpu = time.monotonic(), cpu_seconds()
        con.close()
        print(
            f"closing the database (checkpoint): wall {time.monotonic() - wall:.2f} s, CPU {cpu_seconds() - cpu:.2f} s"
        )
        print(
            f"{result.records:,} records, {result.customers:,} customers, rescored "
            f"{result.model.records_rescored if result.model else 0:,}, graph {result.graph}"
        )
        for label, w, c in laps:
            print(f"{label:32s} wall {w:7.2f}  CPU {c:7.2f}")
        if statements:
            print(
                f"{len(statements)} statements: CPU {sum(s[3] for s in statements):.2f} s (Splink's own are not among them)"
            )
        for where, text, w, c in sorted(statements, key=lambda s: -s[3])[: args.statements]:
            print(f"CPU {c:6.2f} wall {w:6.2f}  {where:45s} {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
