"""A run started outside the UI (`cdp run`), created as a launch from the UI creates it.

A Dagster run records where its job came from: the code location of workspace.yaml
(``remote_job_origin``; the UI lists a job's runs, draws the Overview timeline and
re-executes by it) and the Python pointer that rebuilds the job (``job_code_origin``).
``execute_in_process`` records neither, so its runs showed under Runs but not under
Jobs › nightly, nor on the timeline. Here the definitions are loaded the way the code
server of workspace.yaml loads them, the run is created with both origins, and it is
executed synchronously in this process, so `cdp run` keeps its progress lines.

Dagster has no public call for "create a run as the UI would, execute it here": this
module uses internals of the pinned dagster version (see pyproject.toml), in one place.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

DEFINITIONS_MODULE = "cdp_pipeline.definitions"
DEFAULT_LOCATION_NAME = "cdp_pipeline"


def code_location_origin(workspace_file: Path | None = None):
    """The origin the UI gives the pipeline's code location.

    Read from workspace.yaml (the file `make ui` and the daemon start from; ./workspace.yaml
    by default), so a renamed location follows; without the file, the location it declares.
    """
    from dagster._core.workspace.load import location_origin_from_module_name, location_origins_from_yaml_paths

    workspace_file = Path(workspace_file or Path.cwd() / "workspace.yaml")
    if workspace_file.exists():
        for origin in location_origins_from_yaml_paths([str(workspace_file)]):
            target = getattr(origin, "loadable_target_origin", None)
            if target is not None and target.module_name == DEFINITIONS_MODULE:
                return origin
    return location_origin_from_module_name(DEFINITIONS_MODULE, None, str(Path.cwd()), DEFAULT_LOCATION_NAME)


@dataclass(frozen=True)
class LoadedJob:
    """A job loaded as the code server loads it, with what a run of it must record."""

    recon_job: Any  # ReconstructableJob: rebuilds the job in any process
    job_def: Any  # JobDefinition
    repository_def: Any  # RepositoryDefinition: the whole code location (asset graph, ...)
    remote_job_origin: Any  # RemoteJobOrigin: location + repository + job, as in the UI
    definitions: Any = None  # Definitions the job was loaded from (execute_job_run runs these)


def load_job(job_name: str, workspace_file: Path | None = None) -> LoadedJob:
    from dagster._core.origin import get_python_environment_entry_point
    from dagster._core.remote_origin import RemoteRepositoryOrigin
    from dagster._grpc.server import LoadedRepositories

    from cdp_pipeline.definitions import built_once

    origin = code_location_origin(workspace_file)
    target = origin.loadable_target_origin
    # Dagster loads the definitions once to find the target and again to make the repository:
    # built once here (when the location is this package's definitions module).
    with built_once() as built:
        repositories = LoadedRepositories(
            target,
            container_image=None,
            entry_point=get_python_environment_entry_point(target.executable_path or sys.executable),
            container_context=None,
            code_location_name=origin.location_name,
        )
    ((repo_name, recon_repo),) = repositories.reconstructables_by_name.items()
    repository_def = repositories.definitions_by_name[repo_name]
    return LoadedJob(
        recon_job=recon_repo.get_reconstructable_job(job_name),
        job_def=repository_def.get_job(job_name),
        repository_def=repository_def,
        remote_job_origin=RemoteRepositoryOrigin(origin, repo_name).get_job_origin(job_name),
        definitions=built[0] if built else None,
    )


def execute_job_run(loaded: LoadedJob, instance, *, tags: Mapping[str, str], run_config: Mapping[str, Any]):
    """Create the run with both origins and execute it here, synchronously; the result says
    whether it succeeded and gives its run id."""
    from dagster._core.definitions.reconstruct import ReconstructableJob
    from dagster._core.execution.api import execute_run

    # ReconstructableJob keeps the last definition it built (lru_cache per process, keyed by the
    # pointer, which is the same for every `cdp run`). A second run in one process (cli.main
    # called twice: tests, scripts) would otherwise execute the first run's definitions, whose
    # build database resource is the first warehouse's; cleared here, the run executes the
    # definitions ``loaded`` was built from (the settings in force then, as loaded.job_def's).
    from dagster._core.utils import make_new_run_id

    from cdp_pipeline.definitions import built_once

    ReconstructableJob.get_definition.cache_clear()
    ReconstructableJob.get_repository_definition.cache_clear()
    run_id = make_new_run_id()
    # Dagster rebuilds them from the code pointer when the run starts: given, not built a third time.
    with built_once(loaded.definitions), sqlite_event_log_kept_open(instance, run_id):
        run = instance.create_run_for_job(
            job_def=loaded.job_def,
            run_id=run_id,
            run_config=run_config,
            tags=tags,
            job_code_origin=loaded.recon_job.get_python_origin(),
            remote_job_origin=loaded.remote_job_origin,
        )
        return execute_run(loaded.recon_job, run, instance, raise_on_error=False)


@contextmanager
def sqlite_event_log_kept_open(instance, run_id: str) -> Iterator[list[Path]]:
    """While the run executes, write its events to a SQLite instance (DAGSTER_HOME's default
    storage) without two fsyncs and a WAL checkpoint per event; yields the files kept open.

    Dagster's SQLite storages open a connection per event (``NullPool``) in WAL mode with
    ``synchronous=FULL``: each commit fsyncs the WAL, and each close, being the last connection
    to the file, checkpoints the WAL into the database (more fsyncs) and deletes it. A night
    writes some 400 events plus their copies in the index shard: at 20,000 customers that was
    40 % of the wall time of a night without new files (the event rate on a busy disk, 25 ms
    each). Here one idle connection per file (the run's shard, the index shard, the run
    storage) stays open, so a closing connection is not the last and checkpoints nothing (SQLite
    still checkpoints every 1,000 WAL pages), and the run's connections commit with
    ``synchronous=NORMAL``: in WAL mode the database stays consistent after a crash, and a
    power loss can lose only the last events. The run's shard is a new file: it is put in WAL mode
    before Dagster makes its tables (``_commit_without_fsync``).
    Other instances (Postgres, a test's in-memory storage) are left as they are."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
    from sqlalchemy import event
    from sqlalchemy.engine import Engine, make_url

    events = instance.event_log_storage
    if not isinstance(events, SqliteEventLogStorage):
        yield []
        return
    shard = Path(events.path_for_shard(run_id))
    files = [shard, Path(events.path_for_shard(INDEX_SHARD_NAME))]
    if isinstance(instance.run_storage, SqliteRunStorage):
        files.append(Path(make_url(instance.run_storage._conn_string).database))
    try:
        with ExitStack() as stack:
            event.listen(Engine, "connect", _commit_without_fsync)
            stack.callback(event.remove, Engine, "connect", _commit_without_fsync)
            # The run's shard is created (tables, WAL mode) as its first event would create it.
            with events.run_connection(run_id):
                pass
            with events.index_connection():
                pass
            for path in files:
                if path.exists():
                    # It writes nothing; closed last, it checkpoints the WAL as Dagster's would.
                    held = sqlite3.connect(path)
                    stack.callback(held.close)
                    # Reading once maps the WAL index: the connection now counts as open to the file.
                    held.execute("SELECT count(*) FROM sqlite_master").fetchall()
            # Registered last, so undone first: the engines' connections close before the held ones.
            stack.enter_context(_engine_per_shard(events))
            yield files
    finally:
        if not instance.has_run(run_id):  # the run was never created: no shard without its run
            for leftover in (shard, *(Path(f"{shard}{suffix}") for suffix in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)


@contextmanager
def _engine_per_shard(events) -> Iterator[None]:
    """Until exit, ``events`` (a SqliteEventLogStorage) connects to each shard through one engine
    holding one connection, instead of a new engine and connection per event or read, and
    looks a table up once.

    Dagster's ``_connect`` builds an engine per call (``NullPool``): each of a night's ~950
    events and per-step asset-record reads paid for an engine, a SQLite connection and its SQL
    compiled afresh (the compiled-statement cache is per engine). Storing a 1M night's events
    took 3.7–4.0 CPU s that way, 1.3 this way (benchmarks/event_log_writes.py). Every call still
    runs under the storage's lock (a ``threading.Lock``: calls never nest and never overlap, so
    one connection per shard serves every thread) and in its own transaction, committed when the
    call ends, as Dagster's does; only the engine and the connection are kept."""
    from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    engines: dict[str, Any] = {}

    @contextmanager
    def connect(shard: str):
        with events._db_lock:
            engine = engines.get(shard)
            if engine is None:
                engine = create_engine(
                    events.conn_string_for_shard(shard),
                    poolclass=StaticPool,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
                )
                if shard not in events._initialized_dbs:
                    events._initdb(engine)
                    events._initialized_dbs.add(shard)
                engines[shard] = engine
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    # Asked before storing each materialisation's tags, with an engine and a connection of its
    # own; a table present stays present for the run (only a migration drops one).
    present: set[str] = set()
    has_table = events.has_table

    def has_table_once(table_name: str) -> bool:
        if table_name not in present and has_table(table_name):
            present.add(table_name)
        return table_name in present

    # The instance's attributes shadow the class's methods.
    events._connect, events.has_table = connect, has_table_once
    try:
        yield
    finally:
        del events._connect, events.has_table
        for engine in engines.values():
            engine.dispose()


@contextmanager
def open_instance() -> Iterator[Any]:
    """``DagsterInstance.get()``, its SQLite files opened and, in a new DAGSTER_HOME, created with
    ``_commit_without_fsync``: a new home's run, event-index and schedule files took some 300
    fdatasyncs to make (1-2 s of wall time on a busy disk), every `cdp run` in a
    fresh home paying them (the benchmark's nights); an existing home's files are only opened."""
    import dagster as dg
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "connect", _commit_without_fsync)
    try:
        instance = dg.DagsterInstance.get()
    finally:
        event.remove(Engine, "connect", _commit_without_fsync)
    with instance:
        yield instance


def _commit_without_fsync(dbapi_connection, _record) -> None:
    """SQLite commits without fsync (``synchronous=NORMAL``), and a new, empty database in WAL mode
    from the start. Dagster makes its SQLite files in the default rollback-journal mode and switches
    them to WAL once their tables exist: each table and index was its own commit, each writing and
    syncing a journal (a run's shard some 60 fdatasyncs, 0.2-0.5 s of a night on a busy disk). In
    WAL mode the same statements go to the WAL, which NORMAL does not sync; the files end as Dagster
    makes them (in WAL mode)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        if dbapi_connection.execute("PRAGMA page_count").fetchone()[0] == 0:
            try:
                dbapi_connection.execute("PRAGMA journal_mode=WAL")
            except sqlite3.DatabaseError:
                pass  # e.g. opened read-only: Dagster makes it as it would have
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
