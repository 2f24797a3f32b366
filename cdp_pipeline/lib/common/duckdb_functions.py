"""Python functions registered on a DuckDB connection, removed again before it closes.

DuckDB (2.0.1) keeps a Python function registered by ``create_function`` in the database
instance's catalog, not the connection's: while another connection keeps the instance open, it
outlives the connection that registered it (another connection registering the name fails
"already exists"; calling it after its connection closed crashed the process in a test). One
step at a time, a step's connection was the instance's last and took them with it; with steps
running at the same time (defs/executor.py) the identity step's connection keeps the instance
open across the staging steps. So every function is registered through ``create_function`` here,
and the build database resource removes the connection's functions before closing it
(``remove_functions``, defs/resources.py).
"""

from __future__ import annotations

import threading
import weakref

import duckdb

_lock = threading.Lock()
# connection -> names it registered; weak, so a connection closed without remove_functions and
# collected leaves nothing behind (keyed by id(), a later connection given the same id inherited
# the names: seen in the test suite)
_by_connection: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def create_function(con: duckdb.DuckDBPyConnection, name: str, fn, *args, **kwargs) -> None:
    """``con.create_function(name, fn, ...)``, replacing the connection's earlier registration of
    ``name``, and noted for ``remove_functions``."""
    try:
        con.remove_function(name)
    except duckdb.Error:
        pass  # not registered on this connection yet
    con.create_function(name, fn, *args, **kwargs)
    with _lock:
        _by_connection.setdefault(con, set()).add(name)


def remove_functions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Remove every function registered on ``con`` through ``create_function``; returns their names."""
    with _lock:
        names = sorted(_by_connection.pop(con, ()))
    if names:
        try:
            # DuckDB 2 refuses any other call while a result of execute() is unfinished (a step's
            # last query read with fetchone): given up here, the connection is closing.
            con.abort()
        except duckdb.Error:
            pass  # the connection is closed
    for name in names:
        try:
            con.remove_function(name)
        except duckdb.Error:
            pass  # the connection is closed: the next registration says "already exists"
    return names
