"""Two project rules no other test held: Dagster definition modules never postpone annotations, and
every measurement in benchmarks/results/ is linked from the docs (and every such link finds its file)."""

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFS = REPO / "cdp_pipeline" / "defs"
RESULTS = REPO / "benchmarks" / "results"
RESULT_LINK = re.compile(r"\]\((?:\.\./)?benchmarks/results/([^)#\s]+)")


def postpones_annotations(source: str) -> bool:
    """Whether a module opens with ``from __future__ import annotations`` (Dagster then reads its
    context annotations as strings and refuses the asset, check or sensor)."""
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in ast.parse(source).body
    )


def linked_results(markdown: str) -> set[str]:
    """The benchmarks/results/ files a markdown text links to (from docs/ or from the README)."""
    return set(RESULT_LINK.findall(markdown))


def test_no_dagster_definition_module_postpones_annotations():
    modules = sorted(DEFS.rglob("*.py"))
    assert len(modules) > 20  # the defs folder, not an empty one
    assert [str(p.relative_to(REPO)) for p in modules if postpones_annotations(p.read_text(encoding="utf-8"))] == []


def test_the_annotations_check_finds_the_import():
    assert postpones_annotations('"""Doc."""\n\nfrom __future__ import annotations\n\nimport dagster\n')
    assert postpones_annotations("from __future__ import division, annotations\n")
    assert not postpones_annotations("from __future__ import division\n# from __future__ import annotations\n")


def test_every_result_file_is_linked_from_the_docs_and_every_link_finds_its_file():
    texts = [p.read_text(encoding="utf-8") for p in [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]]
    linked = set().union(*(linked_results(t) for t in texts))
    files = {p.name for p in RESULTS.iterdir() if p.is_file()}
    assert len(files) > 100  # the results folder, not an empty one
    assert sorted(files - linked) == [] and sorted(linked - files) == []


def test_the_link_check_reads_links_from_docs_and_from_the_readme():
    text = (
        "[a](../benchmarks/results/2026-01-01-a.md) [b](benchmarks/results/b.md#numbers) "
        "benchmarks/results/not-a-link.md [c](../benchmarks/results/c.json)"
    )
    assert linked_results(text) == {"2026-01-01-a.md", "b.md", "c.json"}
