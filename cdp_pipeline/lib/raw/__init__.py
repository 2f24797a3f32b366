"""The raw layer: landing files in, nothing lost.

Public entry points: ``load_partition`` (one source, one landing day, idempotent),
``load_partitions`` (several days, written together),
``parse_file`` (bytes -> rows + quarantined rows, no database), ``discover_files``,
``ensure_ingest_tables``. See docs/sources.md for the input contract.
"""

from cdp_pipeline.lib.raw.file_kinds import FILE_KINDS, SOURCE_TABLES, TABLE_KINDS, FileKind
from cdp_pipeline.lib.raw.files import LandingFile, discover_files
from cdp_pipeline.lib.raw.ledger import ensure_ingest_tables, raw_table_columns
from cdp_pipeline.lib.raw.load import (
    FileOutcome,
    PartitionOutcome,
    clear_partition,
    load_file,
    load_partition,
    load_partitions,
    parse_file,
)
from cdp_pipeline.lib.raw.parsed import FileRejected, ParsedFile, QuarantinedRow

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
    "parse_file",
    "raw_table_columns",
]
