"""`cdp run` records its runs with the code location the UI loads from workspace.yaml."""

from pathlib import Path

from cdp_pipeline.launch import code_location_origin
from cdp_pipeline_tests.conftest import REPO_ROOT


def test_the_location_is_the_one_workspace_yaml_declares(tmp_path):
    assert code_location_origin(REPO_ROOT / "workspace.yaml").location_name == "cdp_pipeline"
    renamed = tmp_path / "workspace.yaml"
    renamed.write_text(
        "load_from:\n  - python_module:\n      module_name: cdp_pipeline.definitions\n      location_name: cdp_nights\n"
    )
    origin = code_location_origin(renamed)
    assert origin.location_name == "cdp_nights"
    assert origin.loadable_target_origin.module_name == "cdp_pipeline.definitions"


def test_without_workspace_yaml_the_location_keeps_its_usual_name(tmp_path):
    origin = code_location_origin(tmp_path / "workspace.yaml")
    assert origin.location_name == "cdp_pipeline"
    assert origin.loadable_target_origin.module_name == "cdp_pipeline.definitions"


def test_a_second_run_in_one_process_executes_the_definitions_of_its_own_settings(cdp_env, monkeypatch, tmp_path):
    """cli.main run twice in one process, for two warehouses: the second run must not execute
    the job (and build database resource) that Dagster kept from the first."""
    import dagster as dg

    from cdp_pipeline.launch import execute_job_run, load_job

    executed = []

    def record(recon_job, run, instance, raise_on_error):
        resource = recon_job.get_definition().resource_defs["duckdb"]
        executed.append(resource.config_schema.default_value["database"])

    monkeypatch.setattr("dagster._core.execution.api.execute_run", record)
    with dg.instance_for_test() as instance:
        for name in ("a", "b"):
            monkeypatch.setenv("CDP_WAREHOUSE", str(tmp_path / name / "cdp.duckdb"))
            execute_job_run(load_job("nightly"), instance, tags={}, run_config={})
    assert executed == [str(tmp_path / name / "build" / "cdp_build.duckdb") for name in ("a", "b")]


def test_a_run_executes_the_definitions_its_job_was_loaded_from_built_once(cdp_env, monkeypatch):
    """Dagster loads the definitions to find the location's target, again to make its repository
    and again when the run starts: `cdp run` builds them once and the run executes those."""
    import dagster as dg

    from cdp_pipeline.launch import execute_job_run, load_job

    builds = []
    build = dg.load_from_defs_folder

    def counted(**kwargs):
        builds.append(kwargs)
        return build(**kwargs)

    executed = []

    def record(recon_job, run, instance, raise_on_error):
        executed.append(recon_job.get_definition())

    monkeypatch.setattr(dg, "load_from_defs_folder", counted)
    monkeypatch.setattr("dagster._core.execution.api.execute_run", record)
    with dg.instance_for_test() as instance:
        loaded = load_job("nightly")
        execute_job_run(loaded, instance, tags={}, run_config={})
        assert len(builds) == 1
        assert executed == [loaded.job_def]
        # Outside a `cdp run`'s load and run, a load builds them afresh.
        load_job("nightly")
    assert len(builds) == 2


def _store_log_event(instance, run_id: str, message: str) -> None:
    import time

    from dagster._core.events.log import EventLogEntry

    instance.event_log_storage.store_event(
        EventLogEntry(error_info=None, level=20, user_message=message, run_id=run_id, timestamp=time.time())
    )


def test_run_events_are_written_without_a_checkpoint_or_fsync_per_event(tmp_path):
    """A night's events go to DAGSTER_HOME's SQLite files: while the run executes, a closing
    connection must not checkpoint its WAL (it is not the last), nor commit with fsync; after
    the run the instance is as before and every event is there."""
    import sqlite3

    import dagster as dg
    from sqlalchemy import create_engine, text

    from cdp_pipeline.launch import sqlite_event_log_kept_open

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        # Without: each event's connection is the file's last, and checkpoints the WAL away on close.
        _store_log_event(instance, "run-before", "before")
        before = tmp_path / "history" / "runs" / "run-before.db"
        assert before.exists() and not (tmp_path / "history" / "runs" / "run-before.db-wal").exists()

        def synchronous() -> int:
            engine = create_engine(f"sqlite:///{tmp_path / 'probe.db'}")
            with engine.connect() as con:
                value = con.execute(text("PRAGMA synchronous")).scalar()
            engine.dispose()
            return value

        assert synchronous() == 2  # FULL: SQLite's default
        run_id = "5e1f0c5e-0000-4000-8000-000000000001"
        with sqlite_event_log_kept_open(instance, run_id) as files:
            assert {f.name for f in files} == {f"{run_id}.db", "index.db", "runs.db"}
            instance.create_run_for_job(_tiny_job(), run_id=run_id)
            for i in range(3):
                _store_log_event(instance, run_id, f"event {i}")
            wal = Path(str(files[0]) + "-wal")
            assert wal.exists() and wal.stat().st_size > 0  # not checkpointed on every close
            assert synchronous() == 1  # NORMAL: no fsync per commit
        assert synchronous() == 2
        assert not wal.exists()  # the last connection closed: checkpointed as usual
        assert [e.user_message for e in instance.all_logs(run_id) if not e.is_dagster_event] == [
            "event 0",
            "event 1",
            "event 2",
        ]
        assert sqlite3.connect(files[0]).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_run_events_reuse_one_connection_per_file_and_dagster_s_own_connect_comes_back(tmp_path):
    """While the run executes, each event and read of the run's file and of the index reuses one
    SQLite connection per file (Dagster opens an engine and a connection per event); after it,
    the storage connects as Dagster does, and every event is there."""
    import dagster as dg
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from cdp_pipeline.launch import sqlite_event_log_kept_open

    opened: list[object] = []

    def count(dbapi_connection, _record) -> None:
        opened.append(dbapi_connection)

    run_id = "5e1f0c5e-0000-4000-8000-000000000004"
    event.listen(Engine, "connect", count)
    try:
        with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
            storage = instance.event_log_storage
            with sqlite_event_log_kept_open(instance, run_id):
                instance.create_run_for_job(_tiny_job(), run_id=run_id)
                _store_log_event(instance, run_id, "first")
                instance.get_asset_records()  # the index file
                before = len(opened)
                for i in range(5):
                    _store_log_event(instance, run_id, f"event {i}")
                    instance.get_asset_records()
                assert len(opened) == before
            assert "_connect" not in vars(storage) and "has_table" not in vars(storage)
            _store_log_event(instance, run_id, "after the run")
            assert len(opened) > before
            messages = [e.user_message for e in instance.all_logs(run_id) if not e.is_dagster_event]
            assert messages == ["first", *(f"event {i}" for i in range(5)), "after the run"]
    finally:
        event.remove(Engine, "connect", count)


def _tiny_job():
    import dagster as dg

    @dg.op
    def nothing() -> None:
        pass

    @dg.job
    def tiny():
        nothing()

    return tiny


def test_a_run_that_could_not_be_created_leaves_no_event_file(tmp_path):
    import dagster as dg
    import pytest

    from cdp_pipeline.launch import sqlite_event_log_kept_open

    run_id = "5e1f0c5e-0000-4000-8000-000000000003"
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        with pytest.raises(RuntimeError):
            with sqlite_event_log_kept_open(instance, run_id) as files:
                assert files[0].exists()
                raise RuntimeError("the run could not be created")
        assert not list((tmp_path / "history" / "runs").glob(f"{run_id}*"))


def test_a_run_of_another_storage_is_left_as_it_is():
    import dagster as dg

    from cdp_pipeline.launch import sqlite_event_log_kept_open

    with dg.DagsterInstance.ephemeral() as instance:
        with sqlite_event_log_kept_open(instance, "5e1f0c5e-0000-4000-8000-000000000002") as files:
            assert files == []


def _sqlite_modes(path: Path) -> tuple[str, int]:
    """(journal_mode, synchronous) of a connection SQLAlchemy opens to ``path``."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as con:
            return con.execute(text("PRAGMA journal_mode")).scalar(), con.execute(text("PRAGMA synchronous")).scalar()
    finally:
        engine.dispose()


def test_while_a_run_executes_a_new_sqlite_file_starts_in_wal_mode_and_an_old_one_keeps_its_mode(tmp_path):
    """Dagster makes a run's event file in rollback-journal mode and switches it to WAL after its
    tables: during the run a new, empty file is in WAL mode from its first connection (its tables
    commit without a synced journal each); a database with content keeps its journal mode."""
    import sqlite3

    import dagster as dg

    from cdp_pipeline.launch import sqlite_event_log_kept_open

    old = tmp_path / "old.db"
    with sqlite3.connect(old) as con:
        con.execute("CREATE TABLE t (x)")
    run_id = "5e1f0c5e-0000-4000-8000-000000000005"
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        with sqlite_event_log_kept_open(instance, run_id) as files:
            assert sqlite3.connect(files[0]).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert _sqlite_modes(tmp_path / "new.db") == ("wal", 1)
            assert _sqlite_modes(old) == ("delete", 1)
            instance.create_run_for_job(_tiny_job(), run_id=run_id)
            _store_log_event(instance, run_id, "stored")
    assert _sqlite_modes(tmp_path / "after.db") == ("delete", 2)  # outside a run: SQLite's defaults
    assert [e.user_message for e in instance.all_logs(run_id) if not e.is_dagster_event] == ["stored"]


def test_a_new_dagster_home_is_made_in_wal_mode_and_then_used_as_dagster_makes_it(tmp_path, monkeypatch):
    """open_instance in an empty DAGSTER_HOME: Dagster's run, event-index and schedule files are
    made (WAL mode, their tables, the alembic stamp) and a run's events stored as usual; after it,
    new SQLite connections have SQLite's defaults again."""
    import sqlite3

    from cdp_pipeline.launch import open_instance, sqlite_event_log_kept_open
    from cdp_pipeline_tests.conftest import REPO_ROOT

    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    run_id = "5e1f0c5e-0000-4000-8000-000000000006"
    with open_instance() as instance:
        assert _sqlite_modes(tmp_path / "new.db") == ("delete", 2)
        with sqlite_event_log_kept_open(instance, run_id):
            instance.create_run_for_job(_tiny_job(), run_id=run_id)
            _store_log_event(instance, run_id, "stored")
        assert [e.user_message for e in instance.all_logs(run_id) if not e.is_dagster_event] == ["stored"]
        assert instance.get_run_by_id(run_id).job_name == "tiny"
    for name in ("history/runs.db", "history/runs/index.db", "schedules/schedules.db", f"history/runs/{run_id}.db"):
        con = sqlite3.connect(home / name)
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal", name
        assert con.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1, name
        con.close()
