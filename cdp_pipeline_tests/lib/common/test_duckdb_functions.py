"""Python functions registered on a DuckDB connection outlive it while another connection keeps
the database open (DuckDB 2.0.1), unless removed first: lib/common/duckdb_functions.py."""

import duckdb
import pytest

from cdp_pipeline.lib.common.duckdb_functions import create_function, remove_functions


def _plus(n):
    return lambda x: x + n


def test_a_closed_connections_function_blocks_the_name_unless_removed(tmp_path):
    path = str(tmp_path / "db.duckdb")
    keep = duckdb.connect(path)  # another step's connection: the database stays open
    try:
        a = duckdb.connect(path)
        a.create_function("f", _plus(1), ["BIGINT"], "BIGINT")
        a.close()
        b = duckdb.connect(path)
        # DuckDB's behaviour the module exists for: the name is still taken
        with pytest.raises(duckdb.CatalogException, match="already exists"):
            b.create_function("f", _plus(2), ["BIGINT"], "BIGINT")
        b.close()
    finally:
        keep.close()


def test_removed_functions_free_their_names_for_the_next_connection(tmp_path):
    path = str(tmp_path / "db.duckdb")
    keep = duckdb.connect(path)
    try:
        a = duckdb.connect(path)
        create_function(a, "f", _plus(1), ["BIGINT"], "BIGINT")
        create_function(a, "f", _plus(10), ["BIGINT"], "BIGINT")  # replaced on the same connection
        create_function(a, "g", _plus(2), ["BIGINT"], "BIGINT")
        assert a.execute("SELECT f(1), g(1)").fetchall() == [(11, 3)]
        assert remove_functions(a) == ["f", "g"]
        a.close()
        b = duckdb.connect(path)
        create_function(b, "f", _plus(100), ["BIGINT"], "BIGINT")
        assert b.execute("SELECT f(1)").fetchall() == [(101,)]
        assert remove_functions(b) == ["f"]
        assert remove_functions(b) == []
        b.close()
    finally:
        keep.close()


def test_functions_are_removed_after_an_unfinished_result(tmp_path):
    # A step whose last query was read with fetchone leaves a result DuckDB 2 calls unfinished,
    # and refuses remove_function until it is given up.
    path = str(tmp_path / "db.duckdb")
    keep = duckdb.connect(path)
    try:
        a = duckdb.connect(path)
        create_function(a, "f", _plus(1), ["BIGINT"], "BIGINT")
        assert a.execute("SELECT f(range) FROM range(3)").fetchone() == (1,)
        assert remove_functions(a) == ["f"]
        a.close()
        b = duckdb.connect(path)
        create_function(b, "f", _plus(2), ["BIGINT"], "BIGINT")
        assert b.execute("SELECT f(1)").fetchall() == [(3,)]
        remove_functions(b)
        b.close()
    finally:
        keep.close()


def test_a_collected_connection_leaves_no_names_for_the_next_one(tmp_path):
    """A connection closed without ``remove_functions`` and collected: its names are not handed to
    a later connection (keyed by ``id()``, one that reused the id inherited them)."""
    import gc
    import weakref

    from cdp_pipeline.lib.common import duckdb_functions

    path = str(tmp_path / "db.duckdb")
    a = duckdb.connect(path)
    create_function(a, "stale", _plus(1), ["BIGINT"], "BIGINT")
    gone = weakref.ref(a)
    a.close()
    del a
    gc.collect()
    assert gone() is None
    assert all(k is not None for k in duckdb_functions._by_connection.keys())
    assert "stale" not in {n for names in duckdb_functions._by_connection.values() for n in names}
    b = duckdb.connect(path)
    try:
        create_function(b, "f", _plus(2), ["BIGINT"], "BIGINT")
        assert remove_functions(b) == ["f"]
    finally:
        b.close()
