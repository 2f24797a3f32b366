"""Safe defaults: the UI is local-only, personal-data files are private, no secrets in the repo."""

import os
import re
import stat
import subprocess
import sys

from cdp_pipeline_tests.conftest import REPO_ROOT


def test_make_ui_binds_to_localhost_only():
    recipe = re.search(r"^ui:.*\n((?:\t.*\n)+)", (REPO_ROOT / "Makefile").read_text(), re.M).group(1)
    assert "--host 127.0.0.1" in recipe and "0.0.0.0" not in recipe


def test_no_data_or_secrets_are_tracked():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert [f for f in tracked if f.startswith("data/")] == ["data/README.md"]
    assert not [
        f
        for f in tracked
        if re.search(r"(secret|salt|\.duckdb$|\.env$)", f)
        and not f.startswith(("cdp_pipeline/", "cdp_pipeline_tests/", "docs/"))
    ]


def test_cdp_makes_every_file_and_folder_it_creates_private(tmp_path):
    # `cdp` sets the process umask before anything else; `forget` creates the data folders
    # (with no chmod of their own) and a request file.
    env = {**os.environ, "CDP_DATA_DIR": str(tmp_path / "data")}
    subprocess.run(
        [sys.executable, "-m", "cdp_pipeline.cli", "forget", "someone@example.org"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    created = list((tmp_path / "data").rglob("*"))
    assert any(p.is_file() for p in created) and any(p.is_dir() for p in created)
    for p in created:
        assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, (p, oct(p.stat().st_mode))
