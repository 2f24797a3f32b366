"""The raw layer: landing files in, nothing lost.

Public entry points: ``load_partition`` (one source, one landing day, idempotent),
``load_partitions`` (several days, written together), ``load_sources`` (several sources in
turn, one pool of parse workers for all),
``parse_file`` (bytes -> rows + quarantined rows, no database), ``discover_files``,
``ensure_ingest_tables``. See docs/sources.md for the input contract.
"""

from cdp_pipeline.lib.raw.file_kinds import FILE_KINDS, SOURCE_TABLES, TABLE_KINDS, FileKind
from cdp_pipeline.lib.raw.files import LandingFile, discover_files
from cdp_pipeline.lib.raw.parsed import FileRejected, ParsedFile, QuarantinedRow

# The load's names are imported when first asked for: the processes that parse files
# (parse_pool.py) import this package but never DuckDB.
_LOAD_NAMES = {
    "FileOutcome": "load",
    "PartitionOutcome": "load",
    "clear_partition": "load",
    "load_file": "load",
    "load_partition": "load",
    "load_partitions": "load",
    "load_sources": "load",
    "parse_file": "parse",
    "ensure_ingest_tables": "ledger",
    "raw_table_columns": "ledger",
}


def __getattr__(name: str):
    if name in _LOAD_NAMES:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LOAD_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FILE_KINDS",
    "SOURCE_TABLES",
    "TABLE_KINDS",
    "FileKind",
    "FileOutcome",
    "FileRejected",
    "LandingFile",
    "ParsedFile",
    "PartitionOutcome",
    "QuarantinedRow",
    "clear_partition",
    "discover_files",
    "ensure_ingest_tables",
    "load_file",
    "load_partition",
    "load_partitions",
    "load_sources",
    "parse_file",
    "raw_table_columns",
]
