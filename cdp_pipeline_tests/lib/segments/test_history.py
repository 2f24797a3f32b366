"""Size tables and the size-over-time chart."""

import xml.etree.ElementTree as ET
from datetime import date

from cdp_pipeline.lib.segments.history import render_size_chart_svg, size_change_markdown, size_over_time_markdown

SERIES = [
    (date(2025, 6, 1), "a", 10),
    (date(2025, 6, 1), "b", 3),
    (date(2025, 6, 2), "a", 12),
    (date(2025, 6, 2), "b", 1),
]


def test_change_since_previous_run():
    md = size_change_markdown({"a": 12, "b": 1, "c": 4}, {"a": 10, "b": 3}, {"c": "ok"})
    assert "| a | 12 | +2 | ok |" in md
    assert "| b | 1 | -2 | ok |" in md
    assert "| c | 4 | new | ok |" in md


def test_size_over_time_table_and_svg():
    md = size_over_time_markdown(SERIES)
    assert "| a | 10 | 12 |" in md
    svg = render_size_chart_svg(SERIES)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert svg.count("<polyline") == 2
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    ET.fromstring(render_size_chart_svg([]))  # an empty first run still draws
