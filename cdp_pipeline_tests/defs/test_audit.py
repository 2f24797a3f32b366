"""The erasure asset runs after the layers and before publish; its blocking check guards publish."""

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from cdp_pipeline.definitions import defs
from cdp_pipeline.defs.audit.assets import ERASURE_DEPS, ERASURE_LOG_KEY, erasure_log
from cdp_pipeline.defs.audit.checks import no_erased_identifiers_remain
from cdp_pipeline.defs.publish.assets import published_warehouse
from cdp_pipeline.defs.resources import settings_resource
from cdp_pipeline.lib.audit import queue_erasure, scan_export_dir, scan_for_identifiers
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.audit.fixture_warehouse import ANNA, BO, build, identifiers_of


def _run(settings):
    return dg.materialize(
        [erasure_log, no_erased_identifiers_remain],
        resources={"duckdb": DuckDBResource(database=str(settings.build_db)), "settings": settings_resource(settings)},
        raise_on_error=False,
    )


def _check(result) -> dg.AssetCheckEvaluation:
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_erasure_runs_after_every_other_step_of_the_night():
    """Steps run side by side (defs/executor.py): a step that is not upstream of the erasure could
    write an erased person's rows after it. Every asset but publish is the erasure's ancestor or
    is built in the same step as one (a multi-asset's other tables)."""
    graph = defs().resolve_asset_graph()
    ancestors, frontier = set(), [ERASURE_LOG_KEY]
    while frontier:
        for parent in graph.get(frontier.pop()).parent_keys:
            if parent not in ancestors:
                ancestors.add(parent)
                frontier.append(parent)
    steps_before = {id(graph.assets_def_for_key(k)) for k in ancestors}
    later = {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if k not in (ERASURE_LOG_KEY, dg.AssetKey(["publish", "warehouse"]))
        and not graph.get(k).is_external
        and id(graph.assets_def_for_key(k)) not in steps_before
    }
    assert later == set()


def test_erasure_runs_after_the_layers_and_before_publish():
    deps = {d.asset_key for d in erasure_log.specs_by_key[ERASURE_LOG_KEY].deps}
    assert deps == set(ERASURE_DEPS)
    assert dg.AssetKey(["activation", "export_log"]) in deps and dg.AssetKey(["golden", "customers"]) in deps
    # a step of its own, upstream of no other layer: erasure names it
    assert dg.AssetKey(["identity", "anonymous_visitors"]) in deps
    publish_deps = {d.asset_key for d in published_warehouse.specs_by_key[dg.AssetKey(["publish", "warehouse"])].deps}
    assert ERASURE_LOG_KEY in publish_deps
    (spec,) = no_erased_identifiers_remain.check_specs
    assert spec.blocking and spec.name == "no_erased_identifiers_remain"


def test_erasure_asset_and_blocking_check(cdp_env):
    con = duckdb.connect(str(cdp_env.build_db))
    build(con, cdp_env.export_dir)
    con.close()
    queue_erasure(ANNA["email"], cdp_env.inbox_dir)

    result = _run(cdp_env)
    assert result.success and _check(result).passed
    (mat,) = result.asset_materializations_for_node("audit__erasure_log")
    assert mat.metadata["requests_executed"].value == 1 and mat.metadata["rows_removed"].value > 0
    con = duckdb.connect(str(cdp_env.build_db))
    assert scan_for_identifiers(con, identifiers_of(ANNA)) == []
    assert scan_for_identifiers(con, identifiers_of(BO))
    assert scan_export_dir(cdp_env.export_dir, identifiers_of(ANNA)) == []
    # something brings her back (a bug upstream): the check fails and says where, not who
    con.execute("UPDATE golden.customers SET emails = list_append(emails, ?)", [ANNA["email"]])
    con.close()

    result = _run(cdp_env)
    evaluation = _check(result)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    where = evaluation.metadata["where"].value
    assert "golden.customers.emails" in where and ANNA["email"] not in where
    assert not result.success  # a failed blocking check fails the run: publish would not start


def test_a_run_that_erases_compacts_the_build_database(cdp_env):
    """Runs between compactions let DuckDB keep deleted rows' space; one that erases someone
    compacts after the erasure (lib/common/compaction.py)."""
    import datetime as dt

    from cdp_pipeline.defs.resources import BuildDatabase
    from cdp_pipeline.lib.common.compaction import COMPACTIONS, record_compaction

    today = dt.datetime.now(dt.timezone.utc).date()
    con = duckdb.connect(str(cdp_env.build_db))
    build(con, cdp_env.export_dir)
    record_compaction(con, today - dt.timedelta(days=1))  # not due for six more days
    con.close()

    def run_and_last_compaction():
        assert dg.materialize(
            [erasure_log],
            resources={
                "duckdb": BuildDatabase(database=str(cdp_env.build_db)),
                "settings": settings_resource(get_settings()),
            },
        ).success
        with duckdb.connect(str(cdp_env.build_db), read_only=True) as c:
            return c.execute(f"SELECT compacted_on FROM {COMPACTIONS}").fetchall()

    assert run_and_last_compaction() == [(today - dt.timedelta(days=1),)]  # nothing to erase
    queue_erasure(ANNA["email"], cdp_env.inbox_dir)
    [(compacted_on,)] = run_and_last_compaction()
    assert compacted_on in {today, dt.datetime.now(dt.timezone.utc).date()}  # today, or tomorrow if midnight passed


def _bytes_hold(path, values) -> list[str]:
    data = path.read_bytes().lower() if path.exists() else b""
    return [v for v in values if v.lower().encode() in data]


def test_erased_person_is_in_no_byte_of_the_build_published_or_previous_file(cdp_env):
    """Deleted rows stay in a DuckDB file's free blocks: the erasure rewrites the build file and
    publish copies live rows only, so `grep -a` finds the person in none of the files."""
    from cdp_pipeline.lib.activation.hashing import google_hashed_phone, hashed_email, meta_hashed_phone
    from cdp_pipeline.lib.common.warehouse import previous_path
    from cdp_pipeline.lib.publish.warehouse_copy import publish_warehouse

    con = duckdb.connect(str(cdp_env.build_db))
    build(con, cdp_env.export_dir)
    con.close()
    publish_warehouse(cdp_env.build_db, cdp_env.warehouse)  # last night's warehouse, Anna in it
    publish_warehouse(cdp_env.build_db, cdp_env.warehouse)  # ... and its previous copy
    anna = [
        ANNA["email"],
        ANNA["phone"],
        ANNA["phone"][1:],
        hashed_email(ANNA["email"]),
        meta_hashed_phone(ANNA["phone"]),
        google_hashed_phone(ANNA["phone"]),
        ANNA["card"],
    ]
    assert _bytes_hold(cdp_env.build_db, anna) and _bytes_hold(previous_path(cdp_env.warehouse), anna)
    queue_erasure(ANNA["email"], cdp_env.inbox_dir)

    result = _run(cdp_env)
    assert result.success and _check(result).passed  # last night's files do not record the erasure yet
    assert _check(result).metadata["files_scanned_as_bytes"].value >= 4
    assert _bytes_hold(cdp_env.build_db, anna) == []
    assert _bytes_hold(cdp_env.build_db, [BO["email"], BO["phone"]]) == [BO["email"], BO["phone"]]

    resources = {
        "duckdb": DuckDBResource(database=str(cdp_env.build_db)),
        "settings": settings_resource(get_settings()),
    }
    assert dg.materialize([published_warehouse], resources=resources).success
    assert _bytes_hold(cdp_env.warehouse, anna) == []
    assert not previous_path(cdp_env.warehouse).exists()  # it held Anna: dropped, not kept
    for f in cdp_env.export_dir.rglob("*"):
        assert not f.is_file() or _bytes_hold(f, anna) == []
    result = _run(cdp_env)  # the next night's check also scans the new published file: clean
    assert _check(result).passed


def test_check_finds_an_erased_persons_phone_in_the_bytes_of_a_report(cdp_env):
    """Anna asked by email; her phone is found in a report's bytes through the suppression list
    (salted hashes), and the check says which file, never the phone."""
    con = duckdb.connect(str(cdp_env.build_db))
    build(con, cdp_env.export_dir)
    con.close()
    queue_erasure(ANNA["email"], cdp_env.inbox_dir)
    assert _check(_run(cdp_env)).passed
    report = cdp_env.reports_dir / "identity" / "notes.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text('{"seen":"x' + ANNA["phone"] + '9"}')  # glued to its neighbours, as in a DuckDB block

    evaluation = _check(_run(cdp_env))
    assert not evaluation.passed
    where = evaluation.metadata["where"].value
    assert "notes.json" in where and ANNA["phone"] not in where and ANNA["phone"][1:] not in where


def test_suppression_list_holds_salted_hashes_of_the_ad_platform_forms(cdp_env):
    from cdp_pipeline.lib.activation.hashing import hashed_email
    from cdp_pipeline.lib.audit.suppression import identifier_hash, salt_for

    con = duckdb.connect(str(cdp_env.build_db))
    build(con, cdp_env.export_dir)
    con.close()
    queue_erasure(ANNA["email"], cdp_env.inbox_dir)
    assert _run(cdp_env).success
    with duckdb.connect(str(cdp_env.build_db), read_only=True) as c:
        rows = c.execute("SELECT identifier_hash, kind FROM audit.suppression").fetchall()
    salt = salt_for(cdp_env)
    assert (identifier_hash(hashed_email(ANNA["email"]), salt), "hashed") in rows
    values = {h for h, _ in rows}
    assert ANNA["email"] not in values and hashed_email(ANNA["email"]) not in values


def test_a_build_file_not_rewritten_after_an_erasure_is_rewritten_next_run_and_published_live_rows_only(cdp_env):
    """A run killed between the erasure's commit and the rewrite leaves the person in the build
    file's free blocks. The log says which erasures await a rewrite: the next run rewrites the
    file, and publish copies bytes only once nothing awaits one."""
    from cdp_pipeline.lib.audit.erase import erasures_awaiting_rewrite, run_pending_erasures
    from cdp_pipeline.lib.publish.warehouse_copy import publish_warehouse

    con = duckdb.connect(str(cdp_env.build_db))
    build(con, cdp_env.export_dir)
    con.close()
    queue_erasure(ANNA["email"], cdp_env.inbox_dir)
    con = duckdb.connect(str(cdp_env.build_db))
    assert len(run_pending_erasures(con, cdp_env)) == 1  # ... and killed before the rewrite
    assert erasures_awaiting_rewrite(con) == 1
    con.close()
    assert _bytes_hold(cdp_env.build_db, [ANNA["email"]])

    publish = dg.materialize(
        [published_warehouse],
        resources={
            "duckdb": DuckDBResource(database=str(cdp_env.build_db)),
            "settings": settings_resource(get_settings()),
        },
    )
    (mat,) = publish.asset_materializations_for_node("publish__warehouse")
    assert mat.metadata["copy"].value == "logical" and _bytes_hold(cdp_env.warehouse, [ANNA["email"]]) == []

    result = _run(cdp_env)  # no pending request tonight; the rewrite still happens
    assert _check(result).passed
    (mat,) = result.asset_materializations_for_node("audit__erasure_log")
    assert mat.metadata["requests_executed"].value == 0 and mat.metadata["build_database_rewritten"].value
    assert _bytes_hold(cdp_env.build_db, [ANNA["email"], ANNA["phone"]]) == []
    with duckdb.connect(str(cdp_env.build_db), read_only=True) as c:
        assert erasures_awaiting_rewrite(c) == 0
    assert publish_warehouse(cdp_env.build_db, cdp_env.warehouse).copy == "bytes"
