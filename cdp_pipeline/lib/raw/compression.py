"""Compressed deliveries: vendors ship day files gzipped (Twilio's Bulk Export day files,
GA4 BigQuery exports written to Cloud Storage as ``events_YYYYMMDD-000000000000.json.gz``).

A gzip file is recognised by its magic bytes, not its name, and read as the file it holds
(named without ``.gz``). A ``.zip`` is not unpacked (see docs/sources.md).
"""

from __future__ import annotations

import gzip
import io
import zlib

from cdp_pipeline.lib.raw.parsed import FileRejected

GZIP_MAGIC = b"\x1f\x8b"
# A compressed file may expand enormously (a "gzip bomb"): reading stops past this size, as
# the whole text is held in memory afterwards. Real day files are far below it.
MAX_DECOMPRESSED_BYTES = 4 << 30
_CHUNK = 1 << 20


def inner_name(file_name: str) -> str:
    """``events_20261001-000000000000.json.gz`` -> ``events_20261001-000000000000.json``."""
    return file_name[:-3] if file_name.lower().endswith(".gz") else file_name


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def gunzip(data: bytes, *, limit: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """The bytes a gzip file holds (every member of a multi-member file). Raises ``FileRejected``
    for a truncated or corrupt file (a half-uploaded file must not load as half a day)."""
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            while block := f.read(_CHUNK):
                out.write(block)
                if out.tell() > limit:
                    raise FileRejected(f"gzip file expands beyond {limit:,} bytes; not read")
    except (EOFError, OSError, zlib.error) as exc:
        raise FileRejected(
            f"not a readable gzip file ({type(exc).__name__}: {exc})",
            raw_record=data[:200].decode("latin-1").encode("unicode_escape").decode("ascii"),
        ) from exc
    return out.getvalue()
