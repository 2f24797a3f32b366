"""Resources shared by every layer: the build database connection."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.lib.warehouse import BUILD_DB_CONFIG
from cdp_pipeline.settings import get_settings

# Every asset that writes the build database takes this pool (limit 1 in dagster.yaml):
# DuckDB allows one read-write process per file.
DUCKDB_POOL = "duckdb"


def build_database_resource() -> DuckDBResource:
    """The pipeline's private read-write database (never the published file)."""
    s = get_settings()
    s.build_db.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBResource(database=str(s.build_db), connection_config={**s.duckdb_config(), **BUILD_DB_CONFIG})


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"duckdb": build_database_resource()})
