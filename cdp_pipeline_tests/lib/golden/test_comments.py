"""The golden tables' column comments, their docs/tables.md sections (drift test), and the analyst queries in docs."""

import re
from pathlib import Path

import pytest

from cdp_pipeline.lib.golden.comments import GOLDEN_TABLE_DOCS
from cdp_pipeline.lib.publish.tables_md import documented_tables, generate_tables_md, split_tables_md

REPO = Path(__file__).resolve().parents[3]
TABLES_MD = REPO / "docs" / "tables.md"
ANALYST_QUERIES = REPO / "docs" / "analyst_queries.md"


def test_every_golden_table_and_column_has_a_comment(world):
    tables = world.execute("""SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'golden'
                              ORDER BY table_name""").fetchall()
    # and the build's internal state (a leading underscore: not in docs/tables.md)
    assert [t for t, _ in tables] == [
        "_build_state",
        "_identifier_state",
        "_record_state",
        "customer_timeline",
        "customers",
        "identifier_consent",
    ]
    assert all(c for _, c in tables)
    uncommented = world.execute("""SELECT table_name, column_name FROM duckdb_columns()
                                   WHERE schema_name = 'golden' AND coalesce(comment, '') = ''""").fetchall()
    assert uncommented == []


def test_docs_tables_md_matches_the_comments(world):
    """Regenerate with: python -m cdp_pipeline.lib.publish.write_tables_md"""
    assert TABLES_MD.exists(), "docs/tables.md is missing"
    documented = split_tables_md(TABLES_MD.read_text(encoding="utf-8"))
    generated = split_tables_md(generate_tables_md(world, [("golden", t) for t in GOLDEN_TABLE_DOCS]))
    for name, section in generated.items():
        assert documented.get(name) == section, f"docs/tables.md section {name} drifted from the DuckDB comments"


def test_contract_tables_of_other_layers_are_rendered_when_present(world):
    names = [f"{s}.{t}" for s, t in documented_tables(world)]
    assert names == [
        "identity.customer_map",
        "golden.customer_timeline",
        "golden.customers",
        "golden.identifier_consent",
    ]


def analyst_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", ANALYST_QUERIES.read_text(encoding="utf-8"), flags=re.S)


def test_docs_hold_a_handful_of_analyst_queries():
    text = ANALYST_QUERIES.read_text(encoding="utf-8").lower()
    assert len(analyst_queries()) >= 5
    for topic in ("top customers", "channel overlap", "consent coverage"):
        assert topic in text


@pytest.mark.parametrize("index", range(len(analyst_queries())))
def test_analyst_query_runs_on_the_fixture_world(world, index):
    world.execute(analyst_queries()[index]).fetchall()
