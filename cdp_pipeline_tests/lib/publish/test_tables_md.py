"""docs/tables.md rendered from the COMMENTs every layer writes."""

import duckdb
import pytest

from cdp_pipeline.lib.common.table_comments import apply_comments
from cdp_pipeline.lib.publish.tables_md import documented_tables, generate_tables_md


def test_apply_comments_for_other_layers_and_rendering():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA segments; CREATE TABLE segments.membership (segment VARCHAR, customer_id VARCHAR)")
    left = apply_comments(
        con, "segments", "membership", "Who is in which segment. It's current.", {"segment": "segment name | key"}
    )
    assert left == ["customer_id"]
    md = generate_tables_md(con)
    assert documented_tables(con) == [("segments", "membership")]
    assert "## segments.membership\n\nWho is in which segment. It's current.\n" in md
    assert "| `segment` | VARCHAR | segment name \\| key |" in md
    assert "| `customer_id` | VARCHAR |  |" in md
    with pytest.raises(ValueError, match="no column"):
        apply_comments(con, "segments", "membership", "x", {"nope": "y"})
    with pytest.raises(ValueError, match="does not exist"):
        apply_comments(con, "segments", "missing", "x", {})
