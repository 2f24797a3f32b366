"""The UI's workspace loads: start the real webserver from workspace.yaml and read the graph.

This catches a broken workspace.yaml or an import error in the code location before a
user opens the UI. The server binds to 127.0.0.1 on a free port and is always stopped.
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
{
  assetNodes { assetKey { path } groupName }
  workspaceOrError { __typename ... on Workspace { locationEntries { name
      locationOrLoadError { __typename ... on PythonError { message } } } } }
}
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


def test_webserver_serves_asset_graph_from_workspace(cdp_env, tmp_path):
    port = _free_port()
    webserver = Path(sys.executable).with_name("dagster-webserver")
    log = open(tmp_path / "webserver.log", "w")
    proc = subprocess.Popen(
        [str(webserver), "--host", "127.0.0.1", "--port", str(port), "--workspace", "workspace.yaml"],
        cwd=REPO_ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "webserver.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "webserver did not start in 120 s"
                time.sleep(0.5)
        data = _graphql(port, QUERY)["data"]
        entries = data["workspaceOrError"]["locationEntries"]
        assert [e["locationOrLoadError"]["__typename"] for e in entries] == ["RepositoryLocation"], entries
        keys = {"/".join(n["assetKey"]["path"]): n["groupName"] for n in data["assetNodes"]}
        assert keys.get("publish/warehouse") == "publish"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
