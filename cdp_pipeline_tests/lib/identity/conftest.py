import duckdb
import pytest

from cdp_pipeline.lib.identity.config import PACKAGED_CONFIG_PATH, load_identity_config


@pytest.fixture
def con():
    c = duckdb.connect(":memory:")
    yield c
    c.close()


@pytest.fixture
def config():
    """The shipped defaults with small training budgets (tests run on a few hundred records)."""
    return load_identity_config(PACKAGED_CONFIG_PATH, match_threshold=0.99).with_splink(
        u_max_pairs=5e4, em_max_pairs=None
    )
