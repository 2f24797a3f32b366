"""Dagster's standard metadata of a table asset, shared by every defs/*/assets.py.

With ``dagster/row_count`` the UI shows a row-count badge, with ``dagster/column_schema`` a
Columns section (descriptions from the DuckDB COMMENTs the layers put on their tables), and
``dagster/table_name`` names the table. An asset key is ``[schema, table]`` and names the
table it writes (docs/DESIGN), so the key is all a caller passes.
"""

import dagster as dg
import duckdb

from cdp_pipeline.lib.common.previews import describe_table


def table_metadata(con: duckdb.DuckDBPyConnection, key) -> dict:
    """``dagster/table_name``, ``dagster/row_count`` and ``dagster/column_schema`` of the table
    the asset key names (row count of the whole table); ``{}`` if the table does not exist."""
    schema, table = dg.AssetKey.from_coercible(key).path
    info = describe_table(con, schema, table)
    if info is None:
        return {}
    columns = [
        dg.TableColumn(name=name, type=str(dtype), description=comment or None)
        for name, dtype, comment in info["columns"]
    ]
    return {
        "dagster/table_name": dg.MetadataValue.text(f"{schema}.{table}"),
        "dagster/row_count": dg.MetadataValue.int(info["rows"]),
        "dagster/column_schema": dg.MetadataValue.table_schema(dg.TableSchema(columns=columns)),
    }


def rounded(value: float, digits: int = 4) -> dg.MetadataValue:
    """A float for the UI: shares and probabilities to 4 significant decimals, not 17."""
    return dg.MetadataValue.float(round(float(value or 0.0), digits))
