"""Regenerate docs/tables.md.

    python -m cdp_pipeline.lib.publish.write_tables_md                      # golden sections only
    python -m cdp_pipeline.lib.publish.write_tables_md --warehouse FILE     # every documented table

With ``--warehouse`` (a published warehouse of a full run, e.g. after `make run`) the whole
file is rendered from that warehouse's COMMENTs; the end-to-end test checks the committed
file against a fresh night's warehouse.
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.golden.comments import GOLDEN_TABLE_DOCS
from cdp_pipeline.lib.publish.tables_md import (
    DOCUMENTED_SCHEMAS,
    TABLES_MD_HEADER,
    generate_tables_md,
    split_tables_md,
)


def write_golden_tables_md() -> None:
    """Regenerate the golden sections of docs/tables.md from a freshly built empty golden layer,
    keeping the other tables' sections that are already in the file."""
    import sys
    from datetime import date
    from pathlib import Path

    from cdp_pipeline.lib.golden.build import build_golden

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/tables.md")
    con = duckdb.connect()
    build_golden(con, date.today())
    sections = split_tables_md(path.read_text(encoding="utf-8")) if path.exists() else {}
    sections |= split_tables_md(generate_tables_md(con, [("golden", t) for t in GOLDEN_TABLE_DOCS]))
    order = {s: i for i, s in enumerate(("identity", "audit") + DOCUMENTED_SCHEMAS)}
    names = sorted(sections, key=lambda n: (order.get(n.split(".")[0], 99), n))
    path.write_text(TABLES_MD_HEADER + "".join("\n" + sections[n] for n in names), encoding="utf-8")
    print(f"wrote {path} ({len(names)} tables)")


def write_tables_md_from_warehouse(warehouse: str, path: str = "docs/tables.md") -> None:
    con = duckdb.connect(warehouse, read_only=True)
    try:
        text = generate_tables_md(con)
    finally:
        con.close()
    from pathlib import Path

    Path(path).write_text(text, encoding="utf-8")
    print(f"wrote {path} from {warehouse}")


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 2 and sys.argv[1] == "--warehouse":
        write_tables_md_from_warehouse(sys.argv[2], *sys.argv[3:4])
    else:
        write_golden_tables_md()
