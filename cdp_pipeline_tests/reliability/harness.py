"""Helpers for the reliability tests: nights run as real `cdp run` subprocesses in a
private folder, killed on cue, and warehouses compared by a content hash per table.

A *night folder* holds ``data/`` (CDP_DATA_DIR: landing, build database, published
warehouse, exports) and ``dagster_home/``. Copying the folder copies the whole state a
night leaves behind (the build database persists between nights), so several futures
can be played from the same past.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[2]

# Columns whose values legitimately differ between two runs over the same input: wall-clock
# times and Dagster run ids. Everything else must be identical. Keyed by table; ``raw.*``
# applies to every raw table. Note that names are per table: ``created_at`` is data in
# raw.crm_customers but a wall-clock time in identity.clusters.
VOLATILE_COLUMNS: dict[str, tuple[str, ...]] = {
    "raw.*": ("_loaded_at",),
    "audit.files": ("loaded_at",),
    "audit.quarantine": ("quarantined_at",),
    "audit.suppression": ("added_at",),
    "audit.erasure_log": ("requested_at", "executed_at", "build_rewritten_at"),
    "audit.export_holds": ("held_at",),
    "identity.customer_map": ("run_id", "resolved_at", "customer_created_at"),
    "identity.clusters": ("created_at",),
    "identity.id_history": ("run_id", "at"),
    "identity.runs": ("run_id", "at"),
    "identity.model": ("trained_at",),
    "segments.definitions": ("evaluated_at",),
    "activation.export_log": ("exported_at",),
}

# Columns whose value depends on where the data folder is, not on the data: compared
# after rewriting. The manifest records when it was written, so its checksum is volatile.
REWRITTEN_COLUMNS: dict[str, dict[str, str]] = {
    "activation.export_log": {
        "path": r"regexp_replace(path, '^.*/exports/', 'exports/')",
        "sha256": "CASE WHEN file_kind = 'manifest' THEN NULL ELSE sha256 END",
    },
}

STAGES = ("raw", "staging", "identity", "golden", "segments", "activation", "publish")


def volatile_columns(table: str) -> tuple[str, ...]:
    schema = table.split(".")[0]
    return VOLATILE_COLUMNS.get(table, ()) + (VOLATILE_COLUMNS["raw.*"] if schema == "raw" else ())


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def list_tables(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> list[str]:
    catalog = catalog or con.execute("SELECT current_database()").fetchone()[0]
    return [
        f"{s}.{t}"
        for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? AND NOT temporary "
            "ORDER BY 1, 2",
            [catalog],
        ).fetchall()
    ]


def comparable_select(
    con: duckdb.DuckDBPyConnection, table: str, catalog: str | None = None, exclude: tuple[str, ...] = ()
) -> str:
    """SELECT of a table's comparable content: volatile columns dropped, folder-dependent ones rewritten."""
    catalog = catalog or con.execute("SELECT current_database()").fetchone()[0]
    schema, name = table.split(".", 1)
    cols = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? AND table_name = ? "
            "ORDER BY column_index",
            [catalog, schema, name],
        ).fetchall()
    ]
    drop = set(volatile_columns(table)) | set(exclude)
    rewrite = REWRITTEN_COLUMNS.get(table, {})
    exprs = [f"{rewrite[c]} AS {_q(c)}" if c in rewrite else _q(c) for c in cols if c not in drop]
    return f"SELECT {', '.join(exprs) or '1 AS nothing'} FROM {_q(catalog)}.{_q(schema)}.{_q(name)}"


def table_hash(
    con: duckdb.DuckDBPyConnection, table: str, catalog: str | None = None, exclude: tuple[str, ...] = ()
) -> tuple[int, str]:
    """(rows, md5 of the rows as text, in sorted order) of a table's comparable content."""
    select = comparable_select(con, table, catalog, exclude)
    rows, digest = con.execute(
        f"SELECT count(*), md5(coalesce(string_agg(r::VARCHAR, chr(10) ORDER BY r::VARCHAR), '')) FROM ({select}) r"
    ).fetchone()
    return rows, digest


def warehouse_hashes(path: Path, exclude: dict[str, tuple[str, ...]] | None = None) -> dict[str, tuple[int, str]]:
    """Content hash of every table of a DuckDB file (opened read-only)."""
    exclude = exclude or {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: table_hash(con, t, exclude=exclude.get(t, ())) for t in list_tables(con)}
    finally:
        con.close()


def diff_hashes(a: dict, b: dict) -> dict[str, tuple]:
    """Tables whose hash differs (or that exist in only one of the two)."""
    return {t: (a.get(t), b.get(t)) for t in sorted(set(a) | set(b)) if a.get(t) != b.get(t)}


def customer_ids(path: Path) -> list[tuple[str, str, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT source, source_record_id, customer_id FROM identity.customer_map ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def export_files(export_dir: Path) -> dict[str, str]:
    """Checksum of every export file, relative path -> sha256 (manifests: without their write time)."""
    out = {}
    for p in sorted(Path(export_dir).rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        if p.name == "manifest.json":
            data = re.sub(rb'"written_at":\s*"[^"]*"', b'"written_at": null', data)
        out[p.relative_to(export_dir).as_posix()] = hashlib.sha256(data).hexdigest()
    return out


# --------------------------------------------------------------------------- nights
@dataclass
class Night:
    """A private folder with its own data folder and Dagster instance."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def landing(self) -> Path:
        return self.data / "landing"

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse" / "cdp.duckdb"

    @property
    def build_db(self) -> Path:
        return self.data / "warehouse" / "build" / "cdp_build.duckdb"

    @property
    def exports(self) -> Path:
        return self.data / "exports"

    @classmethod
    def create(cls, root: Path) -> "Night":
        night = cls(Path(root))
        night.landing.mkdir(parents=True, exist_ok=True)
        night.home.mkdir(parents=True, exist_ok=True)
        link = night.home / "dagster.yaml"
        if not link.exists():
            link.symlink_to(REPO_ROOT / "dagster.yaml")
        return night

    def copy_to(self, root: Path) -> "Night":
        """The same state in another folder (absolute paths are only in logs and Dagster's own files)."""
        shutil.copytree(self.root, root, symlinks=True)
        return Night(Path(root))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")}
        env.update(
            {
                "CDP_DATA_DIR": str(self.data),
                "DAGSTER_HOME": str(self.home),
                "PYTHONUNBUFFERED": "1",
                "CDP_DUCKDB_THREADS": "2",
            }
        )
        return env


@dataclass
class RunOutcome:
    returncode: int | None
    killed: bool
    killed_at: str | None
    stdout: list[str] = field(default_factory=list)
    stderr: str = ""
    seconds: float = 0.0


def start_run(night: Night, *extra_args: str, pipe: bool = False) -> subprocess.Popen:
    """Start `cdp run` in its own session. Output goes to files in the night's folder (several
    runs can go on side by side without filling a pipe nobody reads), or to pipes."""
    if pipe:
        out = err = subprocess.PIPE
    else:
        n = len(list(night.root.glob("cdp-run-*.out")))
        out_path, err_path = night.root / f"cdp-run-{n}.out", night.root / f"cdp-run-{n}.err"
        out, err = open(out_path, "wb"), open(err_path, "wb")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cdp_pipeline.cli", "run", *extra_args],
            cwd=night.root,
            env=night.env(),
            stdout=out,
            stderr=err,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
    finally:
        if not pipe:
            out.close()
            err.close()
    if not pipe:
        proc.output_files = (out_path, err_path)  # type: ignore[attr-defined]
    return proc


def _stage_of(line: str) -> str | None:
    """The stage of a step's start line (``▶ raw/…``) or of a phase line inside a step
    (``· raw: crm: …``, the raw step's line per source loaded)."""
    m = re.match(r"\s*[▶·] ([a-z_]+)[/:]", line)
    return m.group(1) if m else None


def finish(proc: subprocess.Popen, timeout: float = 1800) -> RunOutcome:
    t0 = time.monotonic()
    out, err = proc.communicate(timeout=timeout)
    files = getattr(proc, "output_files", None)
    if files:
        out, err = (p.read_text(encoding="utf-8", errors="replace") for p in files)
    return RunOutcome(proc.returncode, False, None, out.splitlines(), err, time.monotonic() - t0)


def run_night(night: Night, timeout: float = 1800) -> RunOutcome:
    """A complete `cdp run`."""
    return finish(start_run(night), timeout)


def run_and_kill(
    night: Night,
    *,
    stage: str | None = None,
    occurrence: int = 1,
    delay: float = 0.0,
    after_start: float | None = None,
    file_present: str | None = None,
    timeout: float = 1800,
) -> RunOutcome:
    """Start `cdp run` and SIGKILL its whole process group when it reaches an observable state.

    The cue is always something the run did, never a time since the process started (on a
    busy machine the interpreter alone can take longer to start than any fixed time):

    * ``stage``: the ``occurrence``-th line of that stage on stdout, a step's start (``▶
      <stage>/…``) or a phase inside it (``· <stage>: …``), plus ``delay`` seconds (the kill
      lands inside that step, or later on a fast machine, never before it);
    * ``file_present``: additionally, a file named ``file_present`` (``{pid}`` replaced by the
      run's process id) exists in the night's warehouse folder, e.g. the temporary copy
      publish writes;
    * ``after_start``: that many seconds after the run's first step started, or at the start
      of ``stage``, whichever comes first. A step's start line is printed from its STEP_START
      event, which Dagster stores after the run itself: from then on the run is recorded in
      the instance, so the killed run is one the next run must close.

    Returns killed=False if the run ended before the cue. A run that never reaches its cue is
    killed after ``timeout`` seconds (``killed_at`` says so).
    """
    import threading

    t0 = time.monotonic()
    proc = start_run(night, pipe=True)
    lines: list[str] = []
    first_step = threading.Event()
    cue = threading.Event()
    cue_line: list[str] = []

    def reader():
        seen = 0
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            line_stage = _stage_of(line)
            if line_stage:
                first_step.set()
            if stage and line_stage == stage:
                seen += 1
                if seen == occurrence and not cue.is_set():
                    cue_line.append(line.strip())
                    cue.set()
        first_step.set()
        cue.set()

    err_chunks: list[str] = []
    t_out = threading.Thread(target=reader, daemon=True)
    t_err = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    t_out.start()
    t_err.start()
    if after_start is not None:
        first_step.wait(timeout=timeout)
        (cue.wait if stage else time.sleep)(after_start)
    else:
        cue.wait(timeout=timeout)
    if file_present is not None:
        target = night.warehouse.parent / file_present.format(pid=proc.pid)
        deadline = time.monotonic() + timeout
        while not target.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        cue_line[:] = [f"{cue_line[0] if cue_line else ''} + {target.name} present"]
    if delay:
        time.sleep(delay)
    killed = proc.poll() is None
    where = (
        cue_line[0]
        if cue_line
        else (f"{after_start:.2f} s after the first step started" if after_start is not None else None)
    )
    if killed:
        # Last progress line before the kill, for the failure message.
        if lines and not cue_line:
            where = f"{where} (last output: {lines[-1].strip()})"
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    t_out.join(timeout=10)
    t_err.join(timeout=10)
    _wait_group_gone(proc.pid)
    return RunOutcome(proc.returncode, killed, where, lines, "".join(err_chunks), time.monotonic() - t0)


def _wait_group_gone(pgid: int, timeout: float = 10.0) -> None:
    """Wait until no process of the killed group is left (none holds the build database)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            return
        time.sleep(0.05)


def seeded_delay(seed: int, low: float, high: float) -> float:
    return random.Random(seed).uniform(low, high)


# --------------------------------------------------------------------------- the build database's lock
def lock_is_free(night: Night) -> bool:
    """Whether a night could start on ``night``'s build database now (lib/common/run_lock.py).
    Between runs it must be: a lock left held by a killed run would refuse every later night."""
    from cdp_pipeline.lib.common.run_lock import NightAlreadyRunning, exclusive_night

    try:
        with exclusive_night(night.build_db):
            return True
    except NightAlreadyRunning:
        return False
