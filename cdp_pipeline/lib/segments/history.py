"""How segments change between runs: sizes, change since the previous run, a size-over-time picture.

Membership history itself lives in ``segments.history`` (one row per stay of a customer in a
segment: ``entered_at`` .. ``exited_at``, NULL while still in) and is maintained by SQL beside
the assets. The rules it follows:

- a run date is golden's ``as_of_date`` (the day the traits describe);
- rerunning a date first rewinds history to just before it (stays that started on or after it
  are deleted, stays that ended on or after it are reopened), then applies the run; so a rerun
  gives the same table, and a rerun of an older date rewinds later runs;
- a segment whose definition fails keeps its previous members (a typo does not make everyone
  "exit"); a segment removed from the YAML has its open stays closed.

This module holds the pure parts: size tables and the chart, testable without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from html import escape

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")


def size_change_markdown(
    current: Mapping[str, int], previous: Mapping[str, int] | None, status: Mapping[str, str] | None = None
) -> str:
    """A markdown table: segment, members, change since the previous run, status."""
    status = status or {}
    lines = ["| segment | members | change | status |", "| --- | ---: | ---: | --- |"]
    for seg in sorted(set(current) | set(status)):
        n = current.get(seg, 0)
        if previous is None or seg not in previous:
            change = "new"
        else:
            d = n - previous[seg]
            change = f"{d:+,}"
        lines.append(f"| {seg} | {n:,} | {change} | {status.get(seg, 'ok')} |")
    return "\n".join(lines)


def size_over_time_markdown(series: Iterable[tuple[date, str, int]], last_runs: int = 10) -> str:
    """Segments as rows, the last ``last_runs`` run dates as columns."""
    by_seg: dict[str, dict[date, int]] = {}
    dates: set[date] = set()
    for d, seg, n in series:
        by_seg.setdefault(seg, {})[d] = n
        dates.add(d)
    cols = sorted(dates)[-last_runs:]
    head = "| segment | " + " | ".join(d.isoformat() for d in cols) + " |"
    sep = "| --- | " + " | ".join("---:" for _ in cols) + " |"
    rows = [
        f"| {seg} | " + " | ".join(f"{by_seg[seg][d]:,}" if d in by_seg[seg] else "" for d in cols) + " |"
        for seg in sorted(by_seg)
    ]
    return "\n".join([head, sep, *rows])


def render_size_chart_svg(series: Iterable[tuple[date, str, int]], width: int = 720, height: int = 320) -> str:
    """A self-contained SVG line chart of segment size per run date (no network, no matplotlib)."""
    by_seg: dict[str, dict[date, int]] = {}
    dates: set[date] = set()
    for d, seg, n in series:
        by_seg.setdefault(seg, {})[d] = int(n)
        dates.add(d)
    xs = sorted(dates)
    left, right, top, bottom = 60, 190, 20, 40
    pw, ph = width - left - right, height - top - bottom
    ymax = max([n for s in by_seg.values() for n in s.values()] + [1])

    def x(d: date) -> float:
        return left + (pw * xs.index(d) / (len(xs) - 1) if len(xs) > 1 else pw / 2)

    def y(n: int) -> float:
        return top + ph - ph * n / ymax

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        "<title>Segment size per run</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#333"/>',
    ]
    for frac in (0, 0.5, 1):
        v = round(ymax * frac)
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:,}</text>')
    if xs:
        for d in {xs[0], xs[-1]}:
            out.append(f'<text x="{x(d):.1f}" y="{top + ph + 16}" text-anchor="middle">{d.isoformat()}</text>')
    for i, seg in enumerate(sorted(by_seg)):
        colour = PALETTE[i % len(PALETTE)]
        pts = " ".join(f"{x(d):.1f},{y(n):.1f}" for d, n in sorted(by_seg[seg].items()))
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
        for d, n in sorted(by_seg[seg].items()):
            out.append(
                f'<circle cx="{x(d):.1f}" cy="{y(n):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(seg)} {d.isoformat()}: {n:,}</title></circle>"
            )
        ly = top + 12 + 14 * i
        out.append(f'<rect x="{left + pw + 12}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{left + pw + 26}" y="{ly + 1}">{escape(seg)}</text>')
    out.append("</svg>")
    return "\n".join(out)
