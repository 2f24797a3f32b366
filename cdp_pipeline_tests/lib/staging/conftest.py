import duckdb
import pytest

from cdp_pipeline.lib.raw.ledger import ensure_ingest_tables


@pytest.fixture
def con(tmp_path):
    """A build database with the raw layer's empty tables, for tests that insert raw rows by hand
    (a test module with a ``con`` of its own uses that one)."""
    c = duckdb.connect(str(tmp_path / "b.duckdb"))
    ensure_ingest_tables(c)
    yield c
    c.close()
