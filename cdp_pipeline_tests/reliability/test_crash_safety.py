"""Issue 7, point 3: a run killed with SIGKILL at any point leaves the published warehouse
exactly as it was, and the next run completes with the same result as an uninterrupted run.

The story: night 1 has run (session fixture). Night 2 (a third landing day arrives) is
played from identical copies of night 1's folder:

* the reference: one uninterrupted `cdp run`;
* two crashed nights, side by side: `cdp run` is killed (SIGKILL to its whole process
  group) again and again — one copy during raw loading, inside identity (Splink) and at a
  seeded random moment; the other during staging, golden and as publish starts — then
  stale temporary files of a publish killed mid-copy (another, dead process id) are left
  beside the warehouse, and finally one clean `cdp run` recovers each copy.

After every kill the published file is byte-identical to night 1's. After the recovery
the published warehouse has the reference's content hash in every table, the same
customer IDs and export files, and no temporary file is left.

What "the same result" means, given that the build database persists (identity reads
the previous night's IDs from it): every table's content, volatile columns aside (see
harness.VOLATILE_COLUMNS), except ``identity.runs``, the log of identity attempts. A
killed attempt that got through identity has really run identity, and is logged; so the
crashed night may hold more rows there, and the counts of the recovery's row are
relative to the attempt before it. The test checks exactly that: the crashed night's
``identity.runs`` holds night 1's row, the reference's night-2 row (from the first
attempt that reached the identity write), and rows that found nothing changed.
"""

import os
import subprocess

import duckdb
import pytest

from cdp_pipeline_tests.reliability.conftest import landing_days, lay_landing
from cdp_pipeline_tests.reliability.harness import (
    customer_ids,
    diff_hashes,
    export_files,
    file_sha256,
    finish,
    lock_is_free,
    run_and_kill,
    seeded_delay,
    start_run,
    warehouse_hashes,
)

pytestmark = pytest.mark.slow

# Every kill waits for something the run did (harness.run_and_kill), never for a time since
# the process started: (stage, occurrence of a line of that stage — a step's start or a phase
# in it —, seconds after that line) — or a seeded random moment after the run's first step started — or the publish copy.
# Two crashed copies play their kills side by side (to keep the test's wall time down), each
# then recovers with one clean run.
KILL_CHAINS = [
    [
        # the raw step's second line (its start, then "· raw: crm: …" once the first source is
        # written): mid-way through loading the sources
        ("raw", 2, 0.2),
        ("identity", 1, 1.0),  # inside identity resolution (Splink training)
        ("random", None, None),
    ],  # a seeded random moment of the run, before publish
    [
        ("staging", 1, 0.1),
        ("golden", 1, 0.2),
        ("publish", 1, None),
    ],  # as the copy to the published file starts: its temporary file exists
]
RANDOM_SEED = 20261003
RANDOM_WINDOW = (1.0, 10.0)  # seconds after the run's first step started; capped by the start of publish
# publish_warehouse's temporary copy, named by the publishing process (the `cdp run` process:
# the nightly job runs its steps in process).
PUBLISH_COPY = ".cdp.duckdb.{pid}.tmp"
IDENTITY_LOG = "identity.runs"


def _play_chain(crashed, points) -> dict:
    kills = []
    for stage, occurrence, delay in points:
        if stage == "random":
            # A seeded moment counted from the run's first step (so the run is recorded in the
            # instance whatever the machine's load), but never later than publish's start: on a
            # fast machine a later kill could land after the run had published (a legitimate change).
            outcome = run_and_kill(crashed, stage="publish", after_start=seeded_delay(RANDOM_SEED, *RANDOM_WINDOW))
        elif stage == "publish":
            outcome = run_and_kill(crashed, stage=stage, occurrence=occurrence, file_present=PUBLISH_COPY)
        else:
            outcome = run_and_kill(crashed, stage=stage, occurrence=occurrence, delay=delay)
        # The killed run must hold nothing the next `cdp run` would wait for (no operator repair
        # between kills): its process's build database lock went with it.
        kills.append(
            {
                "point": stage,
                "outcome": outcome,
                "published_sha256": file_sha256(crashed.warehouse),
                "lock_free": lock_is_free(crashed),
            }
        )

    # A publish killed mid-copy by an earlier process leaves its temporary files behind.
    dead = subprocess.Popen(["true"])
    dead.wait()
    w = crashed.warehouse
    stale = [
        w.with_name(f".{w.name}.{dead.pid}.tmp"),
        w.with_name(f".{w.name}.{dead.pid}.tmp.wal"),
        w.with_name(f".{w.stem}.previous{w.suffix}.{dead.pid}.tmp"),
    ]
    for p in stale:
        p.write_bytes(os.urandom(4096))
    recovery = finish(start_run(crashed))
    return {"crashed": crashed, "kills": kills, "recovery": recovery, "stale": stale, "points": points}


@pytest.fixture(scope="module")
def crash_story(night1_pair, sample_landing, tmp_path_factory):
    from concurrent.futures import ThreadPoolExecutor

    night1, _ = night1_pair
    last_day = landing_days(sample_landing)[-1:]
    base = tmp_path_factory.mktemp("crash")
    reference = night1.copy_to(base / "reference")
    crashed = [night1.copy_to(base / f"crashed_{i}") for i in range(len(KILL_CHAINS))]
    for night in (reference, *crashed):
        lay_landing(sample_landing, night.landing, last_day)

    published_before = file_sha256(night1.warehouse)
    ref_proc = start_run(reference)  # the uninterrupted night 2, alongside the crashes
    try:
        with ThreadPoolExecutor(len(KILL_CHAINS)) as pool:
            chains = list(pool.map(_play_chain, crashed, KILL_CHAINS))
    finally:
        ref_outcome = finish(ref_proc)
    assert ref_outcome.returncode == 0, ref_outcome.stderr[-3000:]
    return {
        "night1": night1,
        "reference": reference,
        "chains": chains,
        "published_before": published_before,
        "reference_outcome": ref_outcome,
    }


def _kills(story):
    return [k for chain in story["chains"] for k in chain["kills"]]


def test_every_kill_really_interrupted_a_run(crash_story):
    for k in _kills(crash_story):
        assert k["outcome"].killed, f"kill point {k['point']}: the run ended before the cue"
        assert k["outcome"].returncode == -9


def test_published_warehouse_is_byte_identical_after_every_kill(crash_story):
    for k in _kills(crash_story):
        assert k["published_sha256"] == crash_story["published_before"], (
            f"kill at {k['point']} ({k['outcome'].killed_at}) changed the published warehouse"
        )


def test_the_next_run_completes(crash_story):
    for chain in crash_story["chains"]:
        rec = chain["recovery"]
        assert rec.returncode == 0, rec.stderr[-3000:]
        assert any("publish/warehouse" in line and "✓" in line for line in rec.stdout)


def test_recovered_night_has_the_reference_content_in_every_table(crash_story):
    ref = warehouse_hashes(crash_story["reference"].warehouse)
    for chain in crash_story["chains"]:
        diff = diff_hashes(ref, warehouse_hashes(chain["crashed"].warehouse))
        diff.pop(IDENTITY_LOG, None)  # checked below
        assert diff == {}, [p for p, *_ in chain["points"]]


def test_recovered_night_has_the_reference_customer_ids(crash_story):
    ref = customer_ids(crash_story["reference"].warehouse)
    assert ref
    for chain in crash_story["chains"]:
        assert customer_ids(chain["crashed"].warehouse) == ref
    night1 = dict(((s, r), c) for s, r, c in customer_ids(crash_story["night1"].warehouse))
    # and night 2 kept night 1's IDs (the persistent IDs came from the build database)
    assert all(night1.get((s, r), c) == c for s, r, c in ref)


def test_identity_log_shows_the_same_night_plus_interrupted_attempts(crash_story):
    def rows(path):
        con = duckdb.connect(str(path), read_only=True)
        try:
            return con.execute(f'SELECT * EXCLUDE (run_id, "at") FROM {IDENTITY_LOG} ORDER BY "at"').fetchall()
        finally:
            con.close()

    ref = rows(crash_story["reference"].warehouse)
    assert len(ref) == 2
    night1_row, night2_row = ref
    for chain in crash_story["chains"]:
        got = rows(chain["crashed"].warehouse)
        assert got[0] == night1_row
        # the first attempt that reached the identity write logged what the reference logged...
        assert got[1] == night2_row
        # ...and any later attempt (the recovery included) found the same customers and nothing to change
        for row in got[2:]:
            records, customers, previous, present, changed, share, created, merged, split, retired = row[:10]
            assert (records, customers) == night2_row[:2]
            assert (previous, present, changed, created, merged, split, retired) == (records, records, 0, 0, 0, 0, 0)


def test_recovered_night_wrote_the_reference_export_files(crash_story):
    ref = export_files(crash_story["reference"].exports)
    for chain in crash_story["chains"]:
        assert export_files(chain["crashed"].exports) == ref


def test_stale_publish_temporary_files_are_removed(crash_story):
    for chain in crash_story["chains"]:
        folder = chain["crashed"].warehouse.parent
        assert not [p.name for p in chain["stale"] if p.exists()]
        assert [p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".tmp.wal"))] == []


def test_the_next_run_releases_what_killed_runs_held(crash_story):
    import dagster as dg

    # Every kill left the build database's lock free ...
    assert all(k["lock_free"] for k in _kills(crash_story))
    for chain in crash_story["chains"]:
        # ... and after the recovery run every killed run is closed.
        assert lock_is_free(chain["crashed"])
        with dg.DagsterInstance.from_config(str(chain["crashed"].home)) as instance:
            runs = instance.get_runs()
        statuses = [r.status for r in reversed(runs)]  # oldest first
        assert statuses[0] == dg.DagsterRunStatus.SUCCESS  # night 1
        assert statuses[-1] == dg.DagsterRunStatus.SUCCESS  # the recovery
        interrupted = statuses[1:-1]
        assert len(interrupted) == len(chain["points"])
        assert all(s == dg.DagsterRunStatus.FAILURE for s in interrupted), statuses


def test_publish_removes_temporary_files_of_dead_publishers_only(tmp_path):
    """Fast, without the pipeline: a stale temporary copy named by a dead process id goes; one
    named by a living process (another publisher, mid-copy) stays."""
    from cdp_pipeline.lib.publish.warehouse_copy import publish_warehouse

    build = tmp_path / "build.duckdb"
    con = duckdb.connect(str(build))
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.close()
    published = tmp_path / "cdp.duckdb"
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [
        tmp_path / f".cdp.duckdb.{dead.pid}.tmp",
        tmp_path / f".cdp.duckdb.{dead.pid}.tmp.wal",
        tmp_path / f".cdp.previous.duckdb.{dead.pid}.tmp",
    ]
    alive = tmp_path / f".cdp.duckdb.{os.getppid()}.tmp"
    unrelated = tmp_path / ".other.duckdb.1.tmp"
    for p in (*stale, alive, unrelated):
        p.write_bytes(b"x")
    publish_warehouse(build, published)
    assert [p.exists() for p in stale] == [False, False, False]
    assert alive.exists() and unrelated.exists()
    con = duckdb.connect(str(published), read_only=True)
    assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
    con.close()


def test_a_publish_killed_after_its_copy_leaves_the_old_warehouse_and_the_next_cleans_up(tmp_path):
    """Deterministic version of the publish kill, without the pipeline: a child process publishes,
    is held just before the rename (the copy is complete on disk), and is SIGKILLed there."""
    import signal
    import sys
    import textwrap
    import time

    from cdp_pipeline.lib.publish.warehouse_copy import publish_warehouse

    build = tmp_path / "build.duckdb"
    published = tmp_path / "cdp.duckdb"
    con = duckdb.connect(str(build))
    con.execute("CREATE TABLE t AS SELECT 1 AS night")
    con.close()
    publish_warehouse(build, published)
    before = file_sha256(published)
    con = duckdb.connect(str(build))
    con.execute("UPDATE t SET night = 2")
    con.close()

    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import os, sys, time
        from cdp_pipeline.lib.publish import warehouse_copy
        real_fsync = warehouse_copy.fsync_path
        def held_fsync(path):
            real_fsync(path)
            if str(path).endswith(".tmp"):
                print("copied", flush=True)
                time.sleep(60)
        warehouse_copy.fsync_path = held_fsync
        warehouse_copy.publish_warehouse({str(build)!r}, {str(published)!r})
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout.readline().strip() == "copied"
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [f".cdp.duckdb.{child.pid}.tmp"]
    assert file_sha256(published) == before
    time.sleep(0.1)
    publish_warehouse(build, published)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    con = duckdb.connect(str(published), read_only=True)
    assert con.execute("SELECT night FROM t").fetchall() == [(2,)]
    con.close()
