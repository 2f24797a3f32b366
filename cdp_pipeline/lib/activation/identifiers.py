"""The one normal form of an identifier on its way out: what is exported, what the consent gate
compares with the consent ledger, and what the consent check compares export files with.

golden.customers may hold an address, a number or a loyalty card with whitespace around it (a CRM
that wrote ``"\\t4242"``). Were the export to trim it and the check not, the check would report a
consented card as "not a consented identifier" and block the night; were the gate not to trim it,
a blocked address written with a space would slip past the ledger. So every side uses these
functions: in Python, ``normalise_email`` / ``normalise_identifier``; in DuckDB, the macros
``export_email`` / ``export_strip`` (``register_identifier_functions``), which hand the rare value
they cannot treat exactly as Python does to the Python function itself.

- email: ``str.strip()`` then ``str.lower()``; no ``@``, no address (``hashing.normalise_email``);
- phone and loyalty card: ``str.strip()`` (Unicode-wide whitespace, tabs included).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cdp_pipeline.lib.activation.hashing import normalise_email
from cdp_pipeline.lib.common.duckdb_functions import create_function
from cdp_pipeline.lib.common.sql_files import run_sql

SQL_DIR = Path(__file__).parent / "sql"

__all__ = ["normalise_email", "normalise_identifier", "register_identifier_functions"]


def normalise_identifier(value: str | None) -> str | None:
    """A phone or loyalty card as exported and compared: without surrounding whitespace."""
    return None if value is None else value.strip()


_PYTHON_FALLBACKS = {
    "export_py_normalise_email": normalise_email,
    "export_py_strip": normalise_identifier,
}


def register_python_function(con: duckdb.DuckDBPyConnection, name: str, fn) -> None:
    """``fn`` (VARCHAR -> VARCHAR, NULL passed through to it) as ``name`` on ``con``, replacing an
    earlier registration (idempotent)."""
    create_function(con, name, fn, ["VARCHAR"], "VARCHAR", null_handling="special", side_effects=False)


def register_identifier_functions(con: duckdb.DuckDBPyConnection) -> None:
    """The macros ``export_email`` and ``export_strip`` and their Python fallbacks, on ``con``."""
    for name, fn in _PYTHON_FALLBACKS.items():
        register_python_function(con, name, fn)
    for macro in ("export_email", "export_strip"):
        run_sql(con, SQL_DIR, f"create_macro_{macro}")
