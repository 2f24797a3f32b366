"""The build database every layer shares: its format, the live-rows rewrite, the transaction helper."""

from pathlib import Path

import duckdb
import pytest

from cdp_pipeline.lib.common.warehouse import connect_build, transaction


def build_with_deleted_secret(path: Path) -> bytes:
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


def test_rewrite_database_drops_deleted_rows_bytes_and_keeps_the_rest(tmp_path):
    from cdp_pipeline.lib.common.warehouse import PUBLISHED_STORAGE_VERSION, rewrite_database

    build = tmp_path / "b.duckdb"
    secret = build_with_deleted_secret(build)
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
