import pytest

from cdp_pipeline.lib.golden.build import build_golden
from cdp_pipeline_tests.lib.golden.world import AS_OF, world_db


def _built():
    con = world_db()
    build_golden(con, AS_OF, tz="UTC")
    return con


@pytest.fixture(scope="session")
def world():
    """The hand-made world, golden layer built as of 2025-01-10 (UTC). Read-only: shared."""
    con = _built()
    yield con
    con.close()


@pytest.fixture
def fresh_world():
    """Like ``world``, for a test that changes tables."""
    con = _built()
    yield con
    con.close()


def golden_row(con, customer_id: str) -> dict:
    cur = con.execute("SELECT * FROM golden.customers WHERE customer_id = ?", [customer_id])
    return dict(zip([d[0] for d in cur.description], cur.fetchone()))
