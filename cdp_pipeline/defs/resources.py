"""Resources shared by every layer: the build database connection and the settings."""

import datetime as dt
from contextlib import ExitStack, contextmanager

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from cdp_pipeline.defs.run_mode import RunMode
from cdp_pipeline.lib.common.compaction import compaction_due, no_compaction, record_compaction
from cdp_pipeline.lib.common.duckdb_functions import remove_functions
from cdp_pipeline.lib.common.run_lock import exclusive_night
from cdp_pipeline.lib.common.warehouse import BUILD_DB_CONFIG
from cdp_pipeline.settings import Settings, check_config_files, get_settings

# What an asset or check declares to be handed the settings: ``settings: CdpSettings``.
CdpSettings = dg.ResourceParam[Settings]


class BuildDatabase(DuckDBResource):
    """The build database. A run holds its write lock (lib/common/run_lock.py) from when its
    resources are set up to when they are torn down, waiting while another night holds it: the
    one mechanism that keeps one writer, whatever launched the run. The run also decides once,
    when it starts, whether DuckDB may compact the file at its checkpoints
    (lib/common/compaction.py: a full refresh, or every ``compact_days`` days); the other runs'
    connections merge no row groups."""

    compact_days: int = 7
    _compact: bool = PrivateAttr(default=True)
    _night: ExitStack = PrivateAttr(default_factory=ExitStack)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run_id = context.run.run_id[:8] if context.run else "outside a run"
        self._night = ExitStack()
        self._night.enter_context(
            exclusive_night(
                self.database,
                holder=f"Dagster run {run_id}",
                wait=True,
                on_wait=context.log.info if context.log else None,
            )
        )
        try:
            today = dt.datetime.now(dt.timezone.utc).date()
            with super().get_connection() as con:
                self._compact = compaction_due(
                    con, today, every_days=self.compact_days, full_refresh=RunMode.of_run(context.run).full_refresh
                )
                if self._compact:
                    record_compaction(con, today)  # the checkpoint closing this connection compacts
        except BaseException:
            self._night.close()
            raise

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._night.close()

    @contextmanager
    def get_connection(self):
        with super().get_connection() as con:
            try:
                if not self._compact:
                    no_compaction(con)
                yield con
            finally:
                # The step's Python functions are the database instance's until removed: another
                # step's connection keeps the instance open past this one when steps run at the
                # same time (lib/common/duckdb_functions.py).
                remove_functions(con)
                # dagster_duckdb closes the connection only when the step succeeds. A failed step's
                # connection, kept alive by its traceback, would keep the database open in this
                # process with the step's Python functions registered: every later step that
                # registers them ("already exists") would fail too, and the night with it.
                con.close()


def build_database_resource(s: Settings) -> BuildDatabase:
    """The pipeline's private read-write database (never the published file)."""
    s.build_db.parent.mkdir(parents=True, exist_ok=True)
    return BuildDatabase(
        database=str(s.build_db),
        connection_config={**s.duckdb_config(), **BUILD_DB_CONFIG},
        compact_days=s.compact_days,
    )


def settings_resource(s: Settings) -> dg.ResourceDefinition:
    """The ``settings`` resource: the CDP_* settings read when the code location loaded."""
    # The description is part of every job's snapshot: it names no setting's value, so a run
    # launched with other CDP_* values (cdp run, a test) is the same job version as the UI's.
    return dg.ResourceDefinition.hardcoded_resource(
        s,
        description="The CDP_* settings read when the code location loaded (each variable and its default: "
        "cdp_pipeline/settings.py): folders, time zone, DuckDB limits, identity engine.",
    )


@dg.definitions
def resources() -> dg.Definitions:
    # Called when the code location loads (and in each run's process as it loads the job): the
    # settings in force then are what every asset and check of the location is handed.
    s = get_settings()
    # a configuration file the night cannot use fails here, before any step writes
    check_config_files(s.config_dir)
    return dg.Definitions(resources={"duckdb": build_database_resource(s), "settings": settings_resource(s)})
