"""Resources shared by every layer: the build database connection."""

import datetime as dt
from contextlib import contextmanager

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from cdp_pipeline.defs.run_mode import RunMode
from cdp_pipeline.lib.common.compaction import compaction_due, no_compaction, record_compaction
from cdp_pipeline.lib.common.warehouse import BUILD_DB_CONFIG
from cdp_pipeline.settings import get_settings

# Every asset that writes the build database takes this pool (limit 1 in dagster.yaml):
# DuckDB allows one read-write process per file.
DUCKDB_POOL = "duckdb"


class BuildDatabase(DuckDBResource):
    """The build database. A run decides once, when it starts, whether DuckDB may compact the
    file at its checkpoints (lib/common/compaction.py: a full refresh, or every ``compact_days``
    days); the other runs' connections merge no row groups."""

    compact_days: int = 7
    _compact: bool = PrivateAttr(default=True)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        today = dt.datetime.now(dt.timezone.utc).date()
        with super().get_connection() as con:
            self._compact = compaction_due(
                con, today, every_days=self.compact_days, full_refresh=RunMode.of_run(context.run).full_refresh
            )
            if self._compact:
                record_compaction(con, today)  # the checkpoint closing this connection compacts

    @contextmanager
    def get_connection(self):
        with super().get_connection() as con:
            if not self._compact:
                no_compaction(con)
            yield con


def build_database_resource() -> BuildDatabase:
    """The pipeline's private read-write database (never the published file)."""
    s = get_settings()
    s.build_db.parent.mkdir(parents=True, exist_ok=True)
    return BuildDatabase(
        database=str(s.build_db),
        connection_config={**s.duckdb_config(), **BUILD_DB_CONFIG},
        compact_days=s.compact_days,
    )


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"duckdb": build_database_resource()})
