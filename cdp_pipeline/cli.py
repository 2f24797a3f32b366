"""The `cdp` command: a thin shell over lib/ and the Dagster job.

`cdp run` launches the same `nightly` job the schedule launches, on the persistent
Dagster instance (DAGSTER_HOME), so its runs show in the UI afterwards.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from cdp_pipeline.settings import check_config_files, get_settings


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to ./.dagster_home configured by the repo's dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    config = home / "dagster.yaml"
    repo_config = Path.cwd() / "dagster.yaml"
    if not config.exists() and repo_config.exists() and repo_config.resolve() != config.resolve():
        config.symlink_to(repo_config.resolve())
    return home


def _apply_overrides(args: argparse.Namespace) -> None:
    for flag, var in (("landing", "CDP_LANDING_DIR"), ("warehouse", "CDP_WAREHOUSE")):
        value = getattr(args, flag, None)
        if value:
            os.environ[var] = str(Path(value).resolve())


# --------------------------------------------------------------------------- sample
def cmd_sample(args: argparse.Namespace) -> int:
    from cdp_pipeline.lib.sample_data import generate_sample

    s = get_settings()
    out = Path(args.out).resolve() if args.out else s.landing_dir
    truth = Path(args.truth).resolve() if args.truth else s.truth_file
    if args.if_empty and out.exists() and any(out.rglob("*.*")):
        print(f"sample: {out} already has files; leaving it as it is")
        return 0
    t0 = time.monotonic()
    try:
        summary = generate_sample(
            out, customers=args.customers, days=args.days, seed=args.seed, truth_file=truth, hard_cases=args.hard_cases
        )
    except OSError as exc:  # a folder that cannot be created or written: one line, not a traceback
        print(f"cdp sample: cannot write the sample: {exc}", file=sys.stderr)
        return 2
    print(f"sample: {args.customers:,} customers × {args.days} days → {out} ({time.monotonic() - t0:.1f} s)")
    for key, value in summary.items():
        if isinstance(value, (int, float, str)):
            print(f"  {key}: {value}")
    print(f"  truth: {truth}")
    return 0


def _at_least_one(text: str) -> int:
    """argparse type of --customers / --days: a whole number of at least 1 (else a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


# --------------------------------------------------------------------------- run
def cmd_run(args: argparse.Namespace) -> int:
    # Imported here: it loads pyarrow and DuckDB, which cdp sample does not need.
    from cdp_pipeline.lib.raw.landing import landing_days

    _apply_overrides(args)
    ensure_dagster_home()
    settings = get_settings()
    check_config_files(settings.config_dir)  # a broken YAML file: refused before the night starts
    settings.ensure_dirs()
    all_days = landing_days(settings.landing_dir)
    if not all_days and not args.day:
        print(
            f"cdp run: no landing files under {settings.landing_dir} "
            f"(drop extracts in <landing>/<source>/<YYYY-MM-DD>/ or run `cdp sample`)",
            file=sys.stderr,
        )
        return 2
    if args.day and not _is_day(args.day):
        print(f"cdp run: --day must be a date written YYYY-MM-DD, not {args.day!r}", file=sys.stderr)
        return 2
    from cdp_pipeline.lib.common.run_lock import NightAlreadyRunning, exclusive_night

    # The build database's write lock first, before anything reads or writes the build state.
    try:
        with exclusive_night(settings.build_db, holder="cdp run"):
            return _run_night(args, settings, all_days)
    except NightAlreadyRunning as exc:
        print(f"cdp run: {exc}; not starting a second one", file=sys.stderr)
        return 3


def _run_night(args: argparse.Namespace, settings, all_days: list[str]) -> int:
    """`cdp run` once it holds the build database's write lock."""
    if args.day and args.day not in all_days and not _was_loaded(settings, args.day):
        # A typo (2027-01-01 for 2026-01-10) would otherwise run a night as of that day, age every
        # trait and export to every destination under that date, and stay a partition forever.
        landed = f"landed days: {all_days[0]} … {all_days[-1]}" if all_days else "no day has landed"
        print(
            f"cdp run: no landing files for {args.day} under {settings.landing_dir}, and none loaded from it "
            f"before: nothing to load or reload ({landed})",
            file=sys.stderr,
        )
        return 2
    days, why, nothing_new = _days_to_load(args, settings, all_days)

    from cdp_pipeline.defs.automation import partition_range_tags
    from cdp_pipeline.defs.partitions import LANDING_DAYS, add_landing_days
    from cdp_pipeline.defs.run_mode import FULL_REFRESH_TAG, NO_NEW_FILES_TAG
    from cdp_pipeline.launch import execute_job_run, load_job, open_instance
    from cdp_pipeline.lib.common.progress import (
        PHASE_LOGGER,
        PROGRESS_LOGGER,
        PhaseHandler,
        ProgressHandler,
        StageTimer,
    )
    from cdp_pipeline.lib.common.run_lock import release_dead_runs, run_tags
    from cdp_pipeline.lib.common.run_state import SharedRunState, claim_run_state

    # Loaded as the UI's code location loads it, so the run is recorded under the job there.
    nightly = load_job("nightly")
    timer = StageTimer(labels=_step_labels(nightly.repository_def.asset_graph))
    progress, phases = ProgressHandler(timer), PhaseHandler(timer)
    logging.getLogger(PROGRESS_LOGGER).addHandler(progress)
    logging.getLogger(PHASE_LOGGER).addHandler(phases)
    print(
        f"cdp run: landing days {days[0]} … {days[-1]} from {settings.landing_dir} ({why}); as of {max(all_days + days)}"
    )
    print(
        f"cdp run: build database {settings.build_db}, exports {settings.export_dir}, publishing {settings.warehouse}"
    )
    t0 = time.monotonic()
    try:
        with open_instance() as instance:
            claim_run_state(settings)
            for run_id in release_dead_runs(instance, settings.build_db):
                print(f"cdp run: run {run_id[:8]} was killed before it finished; marked failed")
            # Every landed day is a partition (as the sensor makes it), and so is a day run by
            # --day or one whose files were removed since they were loaded.
            add_landing_days(instance, [*all_days, *days])
            result = execute_job_run(
                nightly,
                instance,
                tags={
                    # Late files for an old day, or `--day` rerunning one, load that day only, but
                    # the night stays as of the latest landed day: the warehouse holds every day.
                    **partition_range_tags(
                        list(instance.get_dynamic_partitions(LANDING_DAYS)), days, max(all_days + days)
                    ),
                    **run_tags(settings.build_db),
                    **({FULL_REFRESH_TAG: "true"} if args.full_refresh else {}),
                    **({NO_NEW_FILES_TAG: "true"} if nothing_new else {}),
                },
                run_config={"loggers": {"progress": {}}},
            )
    except SharedRunState as exc:
        print(f"cdp run: refused: {exc}", file=sys.stderr)
        return 2
    finally:
        logging.getLogger(PHASE_LOGGER).removeHandler(phases)
        logging.getLogger(PROGRESS_LOGGER).removeHandler(progress)
    wall = time.monotonic() - t0
    print_summary(settings.warehouse, timer, wall, result.run_id, days=(days[0], days[-1]))
    if not result.success:
        print(f"cdp run: the run failed (run id {result.run_id}); see the Dagster UI for the logs", file=sys.stderr)
        return 1
    return 0


def _was_loaded(settings, day: str) -> bool:
    """Whether the build database loaded files of landing day ``day`` (its files may be gone since)."""
    from cdp_pipeline.lib.raw.ledger import ledger_entries

    return any(str(d)[:10] == day for _, d, _, _ in ledger_entries(settings.build_db))


def _is_day(text: str) -> bool:
    from datetime import date

    try:
        return len(text) == 10 and bool(date.fromisoformat(text))
    except ValueError:
        return False


def _days_to_load(args: argparse.Namespace, settings, all_days: list[str]) -> tuple[list[str], str, bool]:
    """The landing days tonight's run loads, why, and whether no file was new. By default only
    days with new or changed files (the raw layer of the other days is already loaded, and loads
    are idempotent); with none, the night runs as of the latest day, so it still refreshes
    everything downstream, and raw loads that day again only if its files changed since
    (``lib/raw/reload.py``: a file may land while the night starts)."""
    from cdp_pipeline.lib.raw.landing import changed_days
    from cdp_pipeline.lib.raw.ledger import ledger_entries

    if args.day:
        return [args.day], "--day", False
    if args.full_refresh:
        return all_days, "--full-refresh: every day", False
    changed = changed_days(settings.landing_dir, ledger_entries(settings.build_db))
    if changed:
        return changed, f"{len(changed)} day(s) with new or changed files", False
    return all_days[-1:], "no new files: the latest day, not loaded again", True


def _step_labels(asset_graph) -> dict[str, str]:
    labels: dict[str, str] = {}
    for assets_def in asset_graph.assets_defs:
        keys = sorted(k.to_user_string() for k in assets_def.keys)
        if keys:
            op = assets_def.node_def.name
            labels[op] = ", ".join(keys) if len(keys) <= 2 else f"{keys[0].split('/')[0]}: {op} ({len(keys)} tables)"
    return labels


def print_summary(
    warehouse: Path, timer, wall_seconds: float, run_id: str, days: tuple[str, str] | None = None
) -> None:
    import duckdb

    print()
    print(f"Summary (run {run_id[:8]}, {wall_seconds:.1f} s)")
    if not Path(warehouse).exists():
        print(f"  no published warehouse at {warehouse}")
        return
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        # e.g. held read-write by an analyst's session: say so instead of a traceback
        print(f"  the published warehouse could not be opened: {exc}")
    else:
        try:
            _print_warehouse_summary(con, days)
        finally:
            con.close()
    checks = timer.checks_passed + len(timer.checks_failed)
    if checks:
        print(
            f"  asset checks: {timer.checks_passed} of {checks} passed"
            + (f"; not passed: {', '.join(timer.checks_failed)}" if timer.checks_failed else "")
        )
    if timer.seconds:
        print("  time per stage:")
        for step, secs in timer.seconds.items():
            print(f"    {timer.label(step):<52} {secs:>7.1f} s")
    print(f"  warehouse: {warehouse}")


def _print_warehouse_summary(con, days: tuple[str, str] | None) -> None:
    from cdp_pipeline.lib.common.run_summary import layer_row_counts, night_warnings, scalar_or_none

    print("  rows per layer:")
    for schema, rows in layer_row_counts(con).items():
        print(f"    {schema:<11} {rows:>12,}")
    quarantined = scalar_or_none(con, "SELECT count(*) FROM audit.quarantine")
    customers = scalar_or_none(con, "SELECT count(DISTINCT customer_id) FROM identity.customer_map")
    print(f"  quarantined rows: {quarantined:,}" if quarantined is not None else "  quarantined rows: n/a")
    print(f"  customers: {customers:,}" if customers is not None else "  customers: n/a (identity not built)")
    warnings = night_warnings(con, *days) if days else []
    if warnings:
        print(f"  warnings ({len(warnings)}):")
        for line in warnings:
            print(f"    ! {line}")


# --------------------------------------------------------------------------- look-ups
def _open_published(args: argparse.Namespace):
    """The published warehouse, read-only: look-ups never touch the build database."""
    import duckdb

    _apply_overrides(args)
    warehouse = get_settings().warehouse
    if not warehouse.exists():
        print(f"cdp: no published warehouse at {warehouse} (run `make run` or `cdp run` first)", file=sys.stderr)
        return None
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        _cannot_open(warehouse, exc)
        return None


def _cannot_open(warehouse: Path, exc: Exception) -> None:
    """One line instead of a traceback when another process holds the warehouse open for writing
    (DuckDB then refuses every other process, even a read-only one)."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    print(
        f"cdp: cannot open the published warehouse {warehouse}: {reason} "
        "(a session that opened it without -readonly blocks every other reader: close it)",
        file=sys.stderr,
    )


def cmd_customer(args: argparse.Namespace) -> int:
    from cdp_pipeline.lib.golden import customer_profile, format_profile, profile_json

    con = _open_published(args)
    if con is None:
        return 2
    try:
        profile = customer_profile(
            con, args.identifier, default_region=get_settings().default_region, timeline_limit=args.timeline
        )
    finally:
        con.close()
    if profile is None:
        print(
            f"cdp customer: no customer known by {args.identifier!r} "
            "(tried customer id, email, phone, loyalty card, CRM id, web user id, source record id)",
            file=sys.stderr,
        )
        return 1
    print(profile_json(profile) if args.json else format_profile(profile))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    import json

    from cdp_pipeline.lib.golden.lookup import surviving_customer_id
    from cdp_pipeline.lib.identity.explain import explain_customer, format_explanation, group_links_by_pair

    if (args.customer_id is None) == (args.records is None):
        print("cdp explain: give a customer id (C-…) or --records A B, one of the two", file=sys.stderr)
        return 2
    if args.records:
        return _explain_records(args)
    con = _open_published(args)
    if con is None:
        return 2
    try:
        # An id merged away on a later night is explained as the customer it now lives on.
        customer_id = surviving_customer_id(con, args.customer_id) or args.customer_id
        explanation = explain_customer(con, customer_id)
    except KeyError:  # unknown id: explain_customer raises, with its history when it has one
        explanation = None
    finally:
        con.close()
    if not explanation or not explanation.get("records"):
        print(f"cdp explain: no customer {args.customer_id!r} (give a customer id, C-…)", file=sys.stderr)
        return 1
    if customer_id != args.customer_id:
        print(
            f"cdp explain: {args.customer_id} was merged into {customer_id}; explaining {customer_id}", file=sys.stderr
        )
    print(
        json.dumps(group_links_by_pair(explanation), indent=2, default=str, ensure_ascii=False)
        if args.json
        else format_explanation(explanation)
    )
    return 0


def _explain_records(args: argparse.Namespace) -> int:
    """`cdp explain --records A B`: the chain joining two records, or what keeps them apart."""
    import json

    from cdp_pipeline.lib.identity.explain import explain_records, format_record_explanation

    con = _open_published(args)
    if con is None:
        return 2
    try:
        explanation = explain_records(con, *args.records)
    except ValueError as exc:  # not source:record_id
        print(f"cdp explain: {exc}", file=sys.stderr)
        return 2
    except KeyError as exc:
        print(f"cdp explain: {exc.args[0]}", file=sys.stderr)
        return 1
    finally:
        con.close()
    print(
        json.dumps(explanation, indent=2, default=str, ensure_ascii=False)
        if args.json
        else format_record_explanation(explanation)
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from cdp_pipeline.lib.identity.evaluate import evaluate_against_truth, format_evaluation

    truth = Path(args.truth)
    if not truth.exists():
        print(f"cdp evaluate: no truth file at {truth}", file=sys.stderr)
        return 2
    con = _open_published(args)
    if con is None:
        return 2
    try:
        result = evaluate_against_truth(con, truth)
    finally:
        con.close()
    print(json.dumps(result, indent=2, default=str) if args.json else format_evaluation(result))
    return 0


def cmd_restore_previous(args: argparse.Namespace) -> int:
    from cdp_pipeline.lib.common.run_lock import NightAlreadyRunning, exclusive_night
    from cdp_pipeline.lib.common.warehouse import previous_path
    from cdp_pipeline.lib.publish.warehouse_copy import PublishedWarehouseInUse, restore_previous

    _apply_overrides(args)
    settings = get_settings()
    warehouse = settings.warehouse
    try:
        # a night publishing at the same time would swap the file under it
        with exclusive_night(settings.build_db, holder="cdp restore-previous"):
            restored = restore_previous(warehouse)
    except NightAlreadyRunning as exc:
        print(f"cdp restore-previous: {exc}; try again when it has finished", file=sys.stderr)
        return 3
    except PublishedWarehouseInUse as exc:
        print(f"cdp restore-previous: refused: {exc}", file=sys.stderr)
        return 3
    if not restored:
        print(
            f"cdp restore-previous: no previous warehouse at {previous_path(warehouse)} "
            "(none published yet, already restored, or deleted by an erasure)",
            file=sys.stderr,
        )
        return 1
    print(
        f"cdp restore-previous: {warehouse} is the previously published warehouse again; "
        "the next run publishes a new one from the build database"
    )
    return 0


# --------------------------------------------------------------------------- privacy
def cmd_forget(args: argparse.Namespace) -> int:
    from cdp_pipeline.lib.audit.cli_support import forget, forget_warnings

    settings = get_settings()
    settings.ensure_dirs()
    try:
        message = forget(args.identifier, settings, kind=args.kind, reference=args.reference)
    except ValueError as exc:
        print(f"cdp forget: refused: {exc}", file=sys.stderr)
        return 2
    for warning in forget_warnings(args.identifier, kind=args.kind, default_region=settings.default_region):
        print(f"cdp forget: warning: {warning}", file=sys.stderr)
    print(message)
    return 0


def cmd_access(args: argparse.Namespace) -> int:
    import duckdb

    from cdp_pipeline.lib.audit.cli_support import EXIT_NO_WAREHOUSE, EXIT_NOT_FOUND, access

    _apply_overrides(args)
    settings = get_settings()
    try:
        code = access(args.identifier, Path(args.out), settings, kind=args.kind)
    except duckdb.IOException as exc:
        _cannot_open(settings.warehouse, exc)
        return EXIT_NO_WAREHOUSE
    if code == EXIT_NO_WAREHOUSE:
        print(f"cdp access: no published warehouse at {settings.warehouse}", file=sys.stderr)
    elif code == EXIT_NOT_FOUND:
        print(
            f"cdp access: nothing is held about {args.identifier!r}; an empty report was written to {args.out}",
            file=sys.stderr,
        )
    else:
        print(f"cdp access: everything held about the person written to {args.out}")
    return code


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    s = get_settings()
    parser = argparse.ArgumentParser(prog="cdp", description="cdp_pipeline: a batch Customer Data Platform")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help="generate realistic sample landing files with known truth")
    p.add_argument("--customers", type=_at_least_one, default=s.sample_customers)
    p.add_argument("--days", type=_at_least_one, default=s.sample_days)
    p.add_argument("--seed", type=int, default=s.sample_seed)
    p.add_argument("--out", help=f"landing folder to write (default {s.landing_dir})")
    p.add_argument("--truth", help=f"truth CSV to write (default {s.truth_file})")
    p.add_argument("--if-empty", action="store_true", help="do nothing if the landing folder already has files")
    p.add_argument(
        "--hard-cases",
        action="store_true",
        help="also make identity hard cases (twins, same-name parent/child, family inboxes, nicknames, swapped, "
        "double and married names, e-mail typos, missing birth dates), labelled per person in "
        "<truth stem>_cases.csv for cdp evaluate's per-case report (off: no companion file)",
    )
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("run", help="run the nightly job now (same job as the 02:00 schedule)")
    p.add_argument("--landing", help="landing folder (default CDP_LANDING_DIR)")
    p.add_argument(
        "--warehouse",
        help="published warehouse file (default CDP_WAREHOUSE); another warehouse "
        "gets its own build database and exports beside it",
    )
    p.add_argument("--day", help="load only this landing day (YYYY-MM-DD) instead of the days with new files")
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="reload every landing day and recompute every layer from every record "
        "(customer IDs and the identity model are kept)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("restore-previous", help="put last night's published warehouse back in front of analysts")
    p.add_argument("--warehouse", help="published warehouse file (default CDP_WAREHOUSE)")
    p.set_defaults(func=cmd_restore_previous)

    p = sub.add_parser("customer", help="show one customer's golden record, provenance, consent and timeline")
    p.add_argument("identifier", help="email, phone (any format), customer id, loyalty card, CRM id, web user id")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--timeline", type=int, default=15, help="how many latest timeline entries to show")
    p.add_argument("--warehouse", help="published warehouse file (default CDP_WAREHOUSE)")
    p.set_defaults(func=cmd_customer)

    p = sub.add_parser("explain", help="why a customer's records were joined: the links and their evidence")
    p.add_argument("customer_id", nargs="?")
    p.add_argument(
        "--records",
        nargs=2,
        metavar=("A", "B"),
        help="two records (source:record_id, as in `cdp customer`): the chain of links that joins them, "
        "or the links cut between their two customers",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--warehouse", help="published warehouse file (default CDP_WAREHOUSE)")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser(
        "evaluate",
        help="pairwise precision/recall of identity.customer_map against a truth file",
        description="Score identity.customer_map against known truth: pairwise precision/recall/F1, "
        "cluster measures, recall per pair of sources; and, when <truth stem>_cases.csv "
        "(person_id, case_type, case_group) sits beside the "
        "truth, per hard-case type: persons, persons split, true pairs, recall, false "
        "merges (customers mixing a person of the case with another person) and pairs "
        "of one case's persons (twins, parent and child, household) merged.",
    )
    p.add_argument(
        "--truth",
        required=True,
        help="CSV with source, source_record_id, person_id (hard cases are read from <truth stem>_cases.csv beside it)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--warehouse", help="published warehouse file (default CDP_WAREHOUSE)")
    p.set_defaults(func=cmd_evaluate)

    kinds = ["email", "phone", "customer_id", "loyalty_card", "crm_id", "web_user_id"]
    p = sub.add_parser("forget", help="queue an erasure request; the next run removes the person everywhere")
    p.add_argument("identifier", help="email, phone, customer id, loyalty card or CRM id")
    p.add_argument("--kind", choices=kinds, help="what the identifier is (guessed when omitted)")
    p.add_argument("--reference", help="your case number, kept in the audit log")
    p.set_defaults(func=cmd_forget)

    p = sub.add_parser("access", help="right of access: everything held about a person, as JSON")
    p.add_argument("identifier", help="email, phone, customer id, loyalty card or CRM id")
    p.add_argument("--out", required=True, help="JSON file to write (created readable by its owner only)")
    p.add_argument("--kind", choices=kinds, help="what the identifier is (guessed when omitted)")
    p.add_argument("--warehouse", help="published warehouse file (default CDP_WAREHOUSE)")
    p.set_defaults(func=cmd_access)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The `cdp` command. Without ``argv`` it is the process's own command line (the console
    script, ``python -m cdp_pipeline.cli``), and the process exits when it returns."""
    code = _main(argv)
    if argv is None:
        skip_final_collections()
    return code


def _main(argv: list[str] | None) -> int:
    # Personal data: every file the platform creates (warehouse, build database, exports,
    # reports) is readable by its owner only.
    os.umask(0o077)
    from cdp_pipeline.lib.common.config_files import ConfigError
    from cdp_pipeline.settings import SettingsError

    try:
        args = build_parser().parse_args(argv)  # (the parser's defaults read settings)
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return code
    except (SettingsError, ConfigError) as exc:
        print(f"cdp: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _reader_went_away()


# 128 + SIGPIPE: what a shell reports for a command whose reader closed the pipe.
EXIT_BROKEN_PIPE = 141


def _reader_went_away() -> int:
    """`cdp … | head`: the reader closed the pipe. Stop quietly, as Unix tools do: no traceback,
    and no second error when Python flushes stdout at exit (it now points at /dev/null)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (e.g. captured in a test)
        pass
    return EXIT_BROKEN_PIPE


def skip_final_collections() -> None:
    """Keep the exiting interpreter's garbage collections off every object still alive.

    After a night some 290,000 objects are alive (Dagster, pandas, the definitions), and the
    interpreter walks them all in each of its final collections: about 1 CPU s at the end of
    every `cdp run` (py-spy, 100,000 customers). Frozen (``gc.freeze``) they are skipped; the
    process ends right after, so what they hold is freed by the operating system, except DuckDB
    connections still open, which are closed here as those collections would close them (a
    database file's closing checkpoint). Only for a process about to exit: objects frozen and
    later dropped in a reference cycle are never collected."""
    import gc

    duckdb = sys.modules.get("duckdb")  # not imported: no connection to close
    if duckdb is not None:
        for obj in gc.get_objects():
            if isinstance(obj, duckdb.DuckDBPyConnection):
                obj.close()
    gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
