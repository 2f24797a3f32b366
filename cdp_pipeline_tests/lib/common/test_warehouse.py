"""Publishing: a complete copy, atomically swapped, readable by the DuckDB 1.x CLI."""

import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cdp_pipeline.lib.common.warehouse import connect_build, publish_warehouse, transaction


def _build(path: Path, rows: int) -> None:
    con = connect_build(path)
    con.execute(
        "CREATE OR REPLACE TABLE golden.customers AS SELECT 'C' || range AS customer_id FROM range($n)", {"n": rows}
    )
    con.execute("COMMENT ON TABLE golden.customers IS 'one row per customer'")
    con.close()


def _cli() -> str:
    cli = Path(sys.executable).with_name("duckdb")
    assert cli.exists(), "duckdb-cli (the 1.x CLI analysts use) is a dev dependency"
    return str(cli)


def test_publish_copies_every_table_with_comments(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "w" / "cdp.duckdb"
    _build(build, 25)
    result = publish_warehouse(build, pub)
    assert result.rows == 25 and result.tables == 1
    con = duckdb.connect(str(pub), read_only=True)
    assert con.execute("SELECT count(*) FROM golden.customers").fetchall() == [(25,)]
    assert con.execute("SELECT comment FROM duckdb_tables() WHERE table_name='customers'").fetchall() == [
        ("one row per customer",)
    ]
    con.close()


def test_published_file_is_private_to_its_owner(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 1)
    publish_warehouse(build, pub)
    assert stat.S_IMODE(pub.stat().st_mode) == 0o600


def test_duckdb_1x_cli_reads_the_published_file(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 7)
    publish_warehouse(build, pub)
    version = subprocess.run([_cli(), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1."), version
    out = subprocess.run(
        [_cli(), "-readonly", "-csv", str(pub), "-c", "SELECT count(*) AS n FROM golden.customers"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["n", "7"]


def test_reader_of_old_file_keeps_complete_old_warehouse(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 3)
    publish_warehouse(build, pub)
    reader = duckdb.connect(str(pub), read_only=True)
    _build(build, 9)
    publish_warehouse(build, pub)  # must not be blocked by the open reader
    assert reader.execute("SELECT count(*) FROM golden.customers").fetchall() == [(3,)]
    reader.close()
    fresh = duckdb.connect(str(pub), read_only=True)
    assert fresh.execute("SELECT count(*) FROM golden.customers").fetchall() == [(9,)]
    fresh.close()


def test_failed_publish_leaves_previous_file(tmp_path, monkeypatch):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 4)
    publish_warehouse(build, pub)
    before = pub.read_bytes()
    with pytest.raises(duckdb.Error):
        publish_warehouse(tmp_path / "missing" / "nope.duckdb", pub)
    assert pub.read_bytes() == before
    assert not list(tmp_path.glob(".cdp.duckdb.*.tmp"))


def test_previous_warehouse_is_kept_and_can_be_restored(tmp_path):
    from cdp_pipeline.lib.common.warehouse import discard_previous, previous_path, restore_previous

    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    assert restore_previous(pub) is False
    _build(build, 2)
    publish_warehouse(build, pub)
    assert not previous_path(pub).exists()
    _build(build, 5)
    publish_warehouse(build, pub)
    assert previous_path(pub).name == "cdp.previous.duckdb"

    def customers(path):
        con = duckdb.connect(str(path), read_only=True)
        try:
            return con.execute("SELECT count(*) FROM golden.customers").fetchall()[0][0]
        finally:
            con.close()

    assert (customers(pub), customers(previous_path(pub))) == (5, 2)
    assert restore_previous(pub) is True
    assert customers(pub) == 2 and not previous_path(pub).exists()
    _build(build, 7)
    publish_warehouse(build, pub)
    assert discard_previous(pub) is True and not previous_path(pub).exists()


def _build_with_deleted_secret(path: Path) -> bytes:
    """A build file whose free blocks still hold a deleted row's value (DuckDB does not clear them)."""
    secret = b"erased.person@example.org"
    con = connect_build(path)
    con.execute(
        "CREATE TABLE golden.customers AS SELECT 'C' || range AS customer_id, "
        "'someone' || range || '@example.org' AS email FROM range(5000)"
    )
    con.execute("INSERT INTO golden.customers VALUES ('C-x', ?)", [secret.decode()])
    con.execute("ALTER TABLE golden.customers ALTER COLUMN email SET DEFAULT 'none'")
    con.close()
    con = connect_build(path)
    con.execute("DELETE FROM golden.customers WHERE customer_id = 'C-x'")
    con.close()
    assert secret in path.read_bytes(), "fixture: DuckDB keeps the deleted value in the file"
    return secret


def test_build_in_published_format_is_published_as_a_byte_copy(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 11)  # connect_build creates the file in the published storage format
    assert publish_warehouse(build, pub).copy == "bytes"
    assert pub.read_bytes() == build.read_bytes()


def test_publish_live_rows_only_leaves_the_build_files_free_blocks_behind(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    secret = _build_with_deleted_secret(build)
    # a byte copy carries the deleted row along: why an unrewritten build file needs live_rows_only
    assert publish_warehouse(build, pub).copy == "bytes" and secret in pub.read_bytes()
    result = publish_warehouse(build, pub, live_rows_only=True)
    assert result.rows == 5000 and result.copy == "logical"
    assert secret not in pub.read_bytes()


def test_rewrite_database_drops_deleted_rows_bytes_and_keeps_the_rest(tmp_path):
    from cdp_pipeline.lib.common.warehouse import PUBLISHED_STORAGE_VERSION, rewrite_database

    build = tmp_path / "b.duckdb"
    secret = _build_with_deleted_secret(build)
    rewrite_database(build)
    assert secret not in build.read_bytes()
    con = connect_build(build)
    assert con.execute("SELECT count(*) FROM golden.customers").fetchall() == [(5000,)]
    # constraints and defaults travel with the tables; the file stays in the 1.x-readable format
    con.execute("INSERT INTO golden.customers (customer_id) VALUES ('C-new')")
    assert con.execute("SELECT email FROM golden.customers WHERE customer_id = 'C-new'").fetchall() == [("none",)]
    tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    assert str(tags[0][0]["storage_version"]).startswith(PUBLISHED_STORAGE_VERSION)
    con.close()


def test_publish_verify_refusal_leaves_the_published_file(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    _build(build, 3)
    publish_warehouse(build, pub)
    before = pub.read_bytes()
    _build(build, 8)

    def refuse(path: Path) -> None:
        assert path.exists() and path != pub
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        publish_warehouse(build, pub, verify=refuse)
    assert pub.read_bytes() == before
    assert not list(tmp_path.glob(".cdp.duckdb.*.tmp*"))


def test_build_in_newer_format_is_rewritten_for_1x_readers(tmp_path):
    build, pub = tmp_path / "b.duckdb", tmp_path / "cdp.duckdb"
    con = duckdb.connect(str(build))  # DuckDB 2.x default storage: 1.x tools cannot read it
    con.execute("CREATE SCHEMA golden")
    con.execute("CREATE TABLE golden.customers AS SELECT 'C' || range AS customer_id FROM range(6)")
    con.close()
    result = publish_warehouse(build, pub)
    assert result.rows == 6 and pub.read_bytes() != build.read_bytes()
    out = subprocess.run(
        [_cli(), "-readonly", "-csv", str(pub), "-c", "SELECT count(*) AS n FROM golden.customers"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and out.stdout.split() == ["n", "6"], out.stderr


def test_transaction_commits_the_block_and_rolls_it_back_when_it_raises():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x INTEGER)")
    with transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
    for interruption in (ValueError("bad row"), KeyboardInterrupt()):
        with pytest.raises(type(interruption)):
            with transaction(con):
                con.execute("INSERT INTO t VALUES (2)")
                raise interruption
    assert con.execute("SELECT list(x) FROM t").fetchall()[0][0] == [1]
    with transaction(con):  # no transaction was left open by the failures
        con.execute("INSERT INTO t VALUES (3)")
    assert con.execute("SELECT list(x ORDER BY x) FROM t").fetchall()[0][0] == [1, 3]


def test_no_transaction_is_written_by_hand_outside_the_helper():
    package = Path(__file__).resolve().parents[3] / "cdp_pipeline"
    by_hand = [
        f"{path.relative_to(package)}:{n}"
        for path in package.rglob("*.py")
        if path.name != "warehouse.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if 'execute("BEGIN' in line or 'execute("ROLLBACK' in line or "execute('BEGIN" in line
    ]
    assert by_hand == []
