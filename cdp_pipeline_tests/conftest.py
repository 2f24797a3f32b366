"""Shared fixtures: every test gets its own data folder, build database and Dagster home."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def point_cdp_at(root: Path, monkeypatch: pytest.MonkeyPatch):
    """Point every CDP_* path and DAGSTER_HOME into ``root``; returns the Settings in force."""
    from cdp_pipeline.settings import get_settings

    monkeypatch.setenv("CDP_DATA_DIR", str(root / "data"))
    for var in (
        "CDP_LANDING_DIR",
        "CDP_WAREHOUSE",
        "CDP_BUILD_DB",
        "CDP_EXPORT_DIR",
        "CDP_INBOX_DIR",
        "CDP_REPORTS_DIR",
        "CDP_ENGINE",
    ):
        monkeypatch.delenv(var, raising=False)
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").symlink_to(REPO_ROOT / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    settings = get_settings()
    settings.ensure_dirs()
    return settings


@pytest.fixture
def cdp_env(tmp_path, monkeypatch):
    """Every CDP_* path in tmp_path; returns the Settings in force."""
    return point_cdp_at(tmp_path, monkeypatch)


# Property tests explore new examples locally; in CI they are derandomised so that a
# green build stays green (a failure found locally is fixed and pinned as an example).
try:
    import os

    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
    _hypothesis_settings.register_profile("dev", deadline=None)
    _hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")
except ImportError:  # hypothesis is a dev dependency; a user running a single test may lack it
    pass
