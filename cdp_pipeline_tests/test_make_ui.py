"""`make ui`: the UI and the daemon on the project's Dagster home, without `dagster dev`'s warnings.

Started for real (the Makefile's recipe, with this interpreter's virtualenv as its `.venv/bin`
and a private DAGSTER_HOME), asked through GraphQL which instance it serves, whether the daemon
is up and whether the code location loads its asset graph (a broken workspace.yaml or an import
error in the code location shows here before a user opens the UI), then stopped. It binds to
127.0.0.1 on a free port. About half a minute on two cores.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cdp_pipeline_tests.conftest import REPO_ROOT

QUERY = """
{ instance { info daemonHealth { allDaemonStatuses { daemonType healthy } } }
  assetNodes { assetKey { path } groupName }
  workspaceOrError { ... on Workspace { locationEntries { name
      locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def test_make_ui_serves_the_project_instance_with_its_daemon_and_no_warnings(cdp_env, tmp_path):
    home = Path(os.environ["DAGSTER_HOME"])
    (home / "dagster.yaml").unlink()  # `make ui` links it itself, as on a fresh clone
    stamp = tmp_path / "installed"
    stamp.touch()  # the virtualenv is the one running this test
    port = _free_port()
    log_path = tmp_path / "make-ui.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "ui",
                f"BIN={Path(sys.executable).parent}",
                f"STAMP={stamp}",
                f"DAGSTER_HOME={home}",
                f"UI_PORT={port}",
            ],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        healthy = []
        while True:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "make ui: no healthy UI and daemon in 180 s\n" + log_path.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                    pass
                data = _graphql(port, QUERY)["data"]
                healthy = [d for d in data["instance"]["daemonHealth"]["allDaemonStatuses"] if d["healthy"]]
                if healthy:
                    break
            except OSError:
                pass
            time.sleep(1)
        assert (home / "dagster.yaml").resolve() == (REPO_ROOT / "dagster.yaml").resolve()
        # the instance is the project's: storage under DAGSTER_HOME, configured by its dagster.yaml
        assert str(home) in data["instance"]["info"]
        assert "max_concurrent_runs: 1" in data["instance"]["info"]
        entries = data["workspaceOrError"]["locationEntries"]
        assert [e["name"] for e in entries] == ["cdp_pipeline"]
        assert [e["locationOrLoadError"]["__typename"] for e in entries] == ["RepositoryLocation"], entries
        keys = {"/".join(n["assetKey"]["path"]): n["groupName"] for n in data["assetNodes"]}
        assert keys.get("publish/warehouse") == "publish"
        assert {d["daemonType"] for d in healthy} >= {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR"}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = log_path.read_text()
    assert "superseded" not in output and "dg dev" not in output
    assert "will not be used" not in output
