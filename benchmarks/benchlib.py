"""Pure parts of the benchmark harness: measuring a child process tree, turning a run's
event log into per-stage wall times, and rendering the results.

No Dagster or Splink imports here, so the test suite can exercise all of it on tiny
fake inputs (cdp_pipeline_tests/test_benchmark_harness.py).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CHECKS_STAGE = "asset checks"
FAILED_STAGE = "failed step"
PAGE_KB = 1024


# --------------------------------------------------------------------------- memory
def _read_status_kb(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM of one process in kB ({} when it is gone)."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
        return {}
    return out


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, plus that of its children it has waited for."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0.0
    rest = stat[stat.rfind(")") + 2 :].split()
    try:
        return sum(int(v) for v in rest[11:15]) / CLOCK_TICKS  # utime, stime, cutime, cstime
    except (ValueError, IndexError):
        return 0.0


def _children_map() -> dict[int, list[int]]:
    """ppid -> pids for every process visible in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        # the command name is in parentheses and may hold spaces: split after the last ')'
        rest = stat[stat.rfind(")") + 2 :].split()
        if len(rest) > 1:
            children.setdefault(int(rest[1]), []).append(int(entry))
    return children


def process_tree(root: int) -> list[int]:
    """``root`` and all its live descendants."""
    children = _children_map()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


@dataclass
class TreeSample:
    rss_kb: int  # sum of VmRSS over the tree at one moment
    processes: int


@dataclass
class MeasuredRun:
    """One child process run to completion, with its wall time and memory."""

    cmd: list[str]
    returncode: int
    wall_seconds: float
    peak_tree_rss_bytes: int  # highest sampled sum of VmRSS over the process tree
    peak_process_hwm_bytes: int  # highest VmHWM (kernel high-water mark) of any one process in the tree
    rusage_maxrss_bytes: int  # wait4() ru_maxrss of the child (its largest waited-for process)
    samples: int
    max_processes: int
    cpu_seconds: float = 0.0  # user + system CPU time of the child and its waited-for descendants
    log_file: str | None = None
    cpu_series: list = field(default_factory=list, repr=False)

    @property
    def peak_rss_bytes(self) -> int:
        """The figure we report: the tree's sampled peak, never below a single process's high-water mark."""
        return max(self.peak_tree_rss_bytes, self.peak_process_hwm_bytes, self.rusage_maxrss_bytes)

    def as_dict(self) -> dict:
        return {
            "cmd": self.cmd,
            "returncode": self.returncode,
            "wall_seconds": round(self.wall_seconds, 3),
            "peak_rss_bytes": self.peak_rss_bytes,
            "peak_tree_rss_bytes": self.peak_tree_rss_bytes,
            "peak_process_hwm_bytes": self.peak_process_hwm_bytes,
            "rusage_maxrss_bytes": self.rusage_maxrss_bytes,
            "rss_samples": self.samples,
            "max_processes": self.max_processes,
            "cpu_seconds": round(self.cpu_seconds, 3),
            "log_file": self.log_file,
        }


class TreeSampler(threading.Thread):
    """Samples the RSS of a process tree every ``interval`` seconds until stopped."""

    def __init__(self, root: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_tree_kb = 0
        self.peak_hwm_kb = 0
        self.samples = 0
        self.max_processes = 0
        # (unix time, CPU seconds of the live tree): lets stage CPU time be read off by timestamps
        self.cpu_series: list[tuple[float, float]] = []
        self._halt = threading.Event()

    def sample_once(self) -> TreeSample:
        total, n, cpu = 0, 0, 0.0
        now = time.time()
        for pid in process_tree(self.root):
            status = _read_status_kb(pid)
            if not status:
                continue
            n += 1
            cpu += _cpu_seconds(pid)
            total += status.get("VmRSS", 0)
            self.peak_hwm_kb = max(self.peak_hwm_kb, status.get("VmHWM", 0))
        self.peak_tree_kb = max(self.peak_tree_kb, total)
        self.max_processes = max(self.max_processes, n)
        if n:
            self.cpu_series.append((now, max(cpu, self.cpu_series[-1][1] if self.cpu_series else 0.0)))
        self.samples += 1
        return TreeSample(total, n)

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample_once()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def run_measured(
    cmd: list[str],
    *,
    env: dict | None = None,
    cwd: str | Path | None = None,
    log_file: str | Path | None = None,
    interval: float = 0.2,
) -> MeasuredRun:
    """Run ``cmd`` to completion; measure wall time and peak RSS of its whole process tree.

    stdout and stderr go to ``log_file`` (or are inherited). The child's own rusage is
    taken with ``os.wait4`` so earlier children of this process do not leak into it.
    """
    fh = open(log_file, "wb") if log_file else None  # noqa: SIM115 - closed below
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT if fh else None)
        sampler = TreeSampler(proc.pid, interval)
        sampler.sample_once()
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            sampler.stop()
            raise
        wall = time.monotonic() - t0
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if fh:
            fh.close()
    return MeasuredRun(
        cmd=[str(c) for c in cmd],
        returncode=proc.returncode,
        wall_seconds=wall,
        peak_tree_rss_bytes=sampler.peak_tree_kb * PAGE_KB,
        peak_process_hwm_bytes=sampler.peak_hwm_kb * PAGE_KB,
        rusage_maxrss_bytes=usage.ru_maxrss * PAGE_KB,  # kB on Linux
        samples=sampler.samples,
        max_processes=sampler.max_processes,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        cpu_series=sampler.cpu_series,
        log_file=str(log_file) if log_file else None,
    )


# --------------------------------------------------------------------------- event log
@dataclass
class Step:
    key: str
    start: float | None = None
    end: float | None = None
    status: str = "unknown"
    assets: list[str] = field(default_factory=list)
    checks: int = 0
    # asset -> the time of its last materialisation in the step
    materialized: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return (self.end - self.start) if self.start is not None and self.end is not None else 0.0

    @property
    def is_asset_step(self) -> bool:
        return bool(self.assets)

    @property
    def is_check_step(self) -> bool:
        # An asset step that failed materialised nothing; without this it would be summed
        # with the checks (the 10M night's out-of-memory step showed up as 385 s of "checks").
        return not self.assets and (self.checks > 0 or self.status != "failure")


def steps_from_events(events: list[dict]) -> list[Step]:
    """Steps in start order from plain event dicts ``{timestamp, event_type, step_key, asset_key}``.

    A step that materialised an asset is an asset step (labelled by its assets); a step
    that only evaluated checks is a check step.
    """
    steps: dict[str, Step] = {}
    for e in sorted(events, key=lambda e: e["timestamp"]):
        key = e.get("step_key")
        if not key:
            continue
        step = steps.setdefault(key, Step(key))
        kind = e["event_type"]
        if kind == "STEP_START":
            step.start = e["timestamp"] if step.start is None else step.start
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            step.end = e["timestamp"]
            step.status = {"STEP_SUCCESS": "success", "STEP_FAILURE": "failure"}.get(kind, "skipped")
        elif kind == "ASSET_MATERIALIZATION" and e.get("asset_key"):
            if e["asset_key"] not in step.assets:
                step.assets.append(e["asset_key"])
            step.materialized[e["asset_key"]] = e["timestamp"]
        elif kind == "ASSET_CHECK_EVALUATION":
            step.checks += 1
    return sorted(steps.values(), key=lambda s: (s.start is None, s.start or 0.0, s.key))


def step_label(step: Step) -> str:
    assets = sorted(step.assets)
    if not assets:
        return step.key
    if len(assets) <= 2:
        return ", ".join(assets)
    return f"{assets[0].split('/')[0]}: {step.key} ({len(assets)} tables)"


def step_parts(step: Step) -> list[tuple[str, float, float]]:
    """The raw step's sources (it loads them one after the other, materialising each source's
    tables once they are written; raw tables are named ``<source>_<what>``): ``(label, start,
    end)`` per source, from the previous source's last materialisation (the first from the step's
    start) to its own. None for a step of another layer, or of one source."""
    if layer_of(step) != "raw" or step.start is None:
        return []
    ends: dict[str, float] = {}
    members: dict[str, list[str]] = {}
    for asset, t in step.materialized.items():
        source = asset.partition("/")[2].split("_")[0]
        ends[source] = max(ends.get(source, t), t)
        members.setdefault(source, []).append(asset)
    if len(ends) < 2:
        return []
    parts, start = [], step.start
    for source in sorted(ends, key=ends.get):
        parts.append((", ".join(sorted(members[source])), start, ends[source]))
        start = ends[source]
    return parts


def layer_of(step: Step) -> str:
    if not step.assets:
        return CHECKS_STAGE if step.is_check_step else FAILED_STAGE
    layers = sorted({a.split("/")[0] for a in step.assets})
    return layers[0] if len(layers) == 1 else "+".join(layers)


def cpu_at(series: list[tuple[float, float]], t: float) -> float | None:
    """CPU seconds used by time ``t``, linearly interpolated between samples."""
    if not series or t < series[0][0] - 1.0 or t > series[-1][0] + 1.0:
        return None
    prev = series[0]
    for point in series:
        if point[0] >= t:
            if point[0] == prev[0]:
                return point[1]
            share = (t - prev[0]) / (point[0] - prev[0])
            return prev[1] + share * (point[1] - prev[1])
        prev = point
    return series[-1][1]


def cpu_between(series: list[tuple[float, float]], start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    a, b = cpu_at(series, start), cpu_at(series, end)
    return None if a is None or b is None else max(0.0, b - a)


def stage_times(
    steps: list[Step], run_seconds: float | None = None, cpu_series: list[tuple[float, float]] | None = None
) -> dict:
    """Per asset step (in start order), check steps summed, per layer, and the run's overhead
    (run wall time not spent inside any step: Dagster's bookkeeping between steps)."""

    def cpu(s: Step) -> float | None:
        value = cpu_between(cpu_series or [], s.start, s.end)
        return None if value is None else round(value, 3)

    stages = [
        {
            "step": s.key,
            "label": step_label(s),
            "layer": layer_of(s),
            "seconds": round(s.seconds, 3),
            "cpu_seconds": cpu(s),
            "status": s.status,
            **(
                {
                    "parts": [
                        {
                            "label": label,
                            "seconds": round(end - start, 3),
                            "cpu_seconds": cpu_between(cpu_series or [], start, end),
                        }
                        for label, start, end in step_parts(s)
                    ]
                }
                if step_parts(s)
                else {}
            ),
        }
        for s in steps
        if not s.is_check_step
    ]
    checks = [s for s in steps if s.is_check_step]
    checks_seconds = sum(s.seconds for s in checks)
    check_cpu = [cpu(s) for s in checks]
    by_layer: dict[str, float] = {}
    for s in steps:
        by_layer[layer_of(s)] = by_layer.get(layer_of(s), 0.0) + s.seconds
    in_steps = sum(s.seconds for s in steps)
    out = {
        "stages": stages,
        "checks": {
            "steps": len(checks),
            "seconds": round(checks_seconds, 3),
            "cpu_seconds": (round(sum(check_cpu), 3) if checks and None not in check_cpu else None),
        },
        "by_layer": {k: round(v, 3) for k, v in sorted(by_layer.items(), key=lambda kv: -kv[1])},
        "seconds_in_steps": round(in_steps, 3),
    }
    if run_seconds is not None:
        out["run_seconds"] = round(run_seconds, 3)
        out["between_steps_seconds"] = round(run_seconds - in_steps, 3)
    return out


def find_stage(stage_report: dict, asset_prefix: str) -> dict | None:
    """The asset stage whose label or layer starts with ``asset_prefix`` (e.g. 'identity')."""
    for stage in stage_report["stages"]:
        if stage["layer"] == asset_prefix or stage["label"].startswith(asset_prefix):
            return stage
    return None


# --------------------------------------------------------------------------- figures
def per_second(count: float | None, seconds: float | None) -> float | None:
    return (count / seconds) if count is not None and seconds else None


def ratio(a: float | None, b: float | None) -> float | None:
    return (a / b) if a is not None and b else None


def comparison(ours: dict, bare: dict) -> dict:
    """Our identity stage against the bare Splink script: time, memory and accuracy ratios (ours / bare)."""
    return {
        "time_ratio": ratio(ours.get("seconds"), bare.get("seconds")),
        "cpu_time_ratio": ratio(ours.get("cpu_seconds"), bare.get("cpu_seconds")),
        "rss_ratio": ratio(ours.get("peak_rss_bytes"), bare.get("peak_rss_bytes")),
        "precision_ratio": ratio(ours.get("precision"), bare.get("precision")),
        "recall_ratio": ratio(ours.get("recall"), bare.get("recall")),
        "f1_ratio": ratio(ours.get("f1"), bare.get("f1")),
    }


# The targets of the whole night against the linkage it exists for (issue 19), as ratios measured in
# one run on one machine: absolute seconds do not carry between these machines.
NIGHT_TARGETS = {
    "night_to_bare": 2.0,
    "raw_staging_to_bare": 1.0,
    "identity_to_bare": 1.0,
}


def night_ratios(result: dict) -> dict:
    """The whole night, raw + staging, and identity, each ÷ bare Splink's time (load → clusters)."""
    bare = (result.get("bare_splink") or {}).get("seconds")
    by_layer = (result.get("stages") or {}).get("by_layer") or {}
    raw_staging = None
    if "raw" in by_layer or "staging" in by_layer:
        raw_staging = by_layer.get("raw", 0.0) + by_layer.get("staging", 0.0)
    return {
        "bare_seconds": bare,
        "raw_staging_seconds": raw_staging,
        "night_to_bare": ratio((result.get("run") or {}).get("wall_seconds"), bare),
        "raw_staging_to_bare": ratio(raw_staging, bare),
        "identity_to_bare": ratio((result.get("identity") or {}).get("seconds"), bare),
    }


# --------------------------------------------------------------------------- rendering
def fmt_seconds(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.1f} s"


def fmt_bytes(x: int | float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x / 2**30:.2f} GiB" if x >= 2**30 else f"{x / 2**20:,.0f} MiB"


def fmt_num(x: float | int | None, digits: int = 0) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def fmt_load(x) -> str:
    return "n/a" if not x else " / ".join(f"{v:.1f}" for v in x)


def fmt_ratio(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}×"


def fmt_prf(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def render_markdown(result: dict) -> str:
    """The results as markdown: one table of figures, one of stages."""
    p = result.get("params", {})
    run = result.get("run", {})
    ident = result.get("identity", {})
    acc = ident.get("accuracy", {})
    bare = result.get("bare_splink") or {}
    cmp_ = result.get("comparison") or {}
    counts = result.get("counts", {})
    stages = result.get("stages", {})
    machine = result.get("machine", {})
    code = result.get("code", {})

    context = f"{machine.get('summary', '')} — {result.get('started_at', '')}"
    if machine.get("load_average_at_start"):
        context += (
            f" — load average at start {fmt_load(machine.get('load_average_at_start'))}, "
            f"at end {fmt_load(machine.get('load_average_at_end'))}"
        )
    if code.get("commit"):
        context += f" — code {code['commit']}"
        if code.get("files_changed_since_commit"):
            context += f" + {len(code['files_changed_since_commit'])} uncommitted files"
    lines = [
        f"### cdp_pipeline benchmark: {fmt_num(p.get('customers'))} customers, {p.get('days')} days, "
        f"seed {p.get('seed')}",
        "",
        context,
        "",
        "| figure | value |",
        "| --- | --- |",
    ]

    def row(name: str, value: str) -> None:
        lines.append(f"| {name} | {value} |")

    if result.get("error"):
        row("**benchmark failed**", result["error"])
    if run.get("failed"):
        row("**`cdp run` exit status**", f"{run.get('returncode')} (the run failed; figures are partial)")

    row("source rows (read from landing files)", fmt_num(counts.get("source_rows")))
    row("identity records (staging.identity_records)", fmt_num(counts.get("identity_records")))
    row("customers resolved", fmt_num(counts.get("customers")))
    row("sample generation (not part of the night)", fmt_seconds(result.get("sample", {}).get("wall_seconds")))
    row("**nightly job, total wall time (`cdp run` process)**", fmt_seconds(run.get("wall_seconds")))
    row("  of which the Dagster run (start → end)", fmt_seconds(stages.get("run_seconds")))
    row("  of which process start-up, loading definitions, summary", fmt_seconds(run.get("outside_run_seconds")))
    row("  CPU time (user + system) of the `cdp run` process", fmt_seconds(run.get("cpu_seconds")))
    row("**peak RSS, `cdp run` process tree**", fmt_bytes(run.get("peak_rss_bytes")))
    row("source rows / s (whole night)", fmt_num(run.get("source_rows_per_second")))
    row("identity stage wall time", fmt_seconds(ident.get("seconds")))
    row("identity stage CPU time", fmt_seconds(ident.get("cpu_seconds")))
    row("identity records / s (identity stage)", fmt_num(ident.get("records_per_second")))
    row("identity records in the Splink model", fmt_num(ident.get("records_in_model")))
    cp = ident.get("candidate_pairs") or {}
    row(
        "candidate pairs compared (identity)",
        fmt_num(cp.get("value")) + (f" ({cp.get('how')})" if cp.get("how") else ""),
    )
    row(
        "pairwise precision / recall / F1 (identity)",
        f"{fmt_prf(acc.get('precision'))} / {fmt_prf(acc.get('recall'))} / {fmt_prf(acc.get('f1'))}",
    )
    if bare and not bare.get("skipped"):
        bacc = bare.get("accuracy", {})
        row("bare Splink: wall time (whole script process)", fmt_seconds(bare.get("wall_seconds")))
        row("bare Splink: time in Splink (load → clusters)", fmt_seconds(bare.get("seconds")))
        row("bare Splink: CPU time (user + system)", fmt_seconds(bare.get("cpu_seconds")))
        row("bare Splink: peak RSS", fmt_bytes(bare.get("peak_rss_bytes")))
        row("bare Splink: candidate pairs compared", fmt_num(bare.get("candidate_pairs")))
        row(
            "bare Splink: precision / recall / F1",
            f"{fmt_prf(bacc.get('precision'))} / {fmt_prf(bacc.get('recall'))} / {fmt_prf(bacc.get('f1'))}",
        )
        row("**identity ÷ bare: time**", fmt_ratio(cmp_.get("time_ratio")))
        row("identity ÷ bare: CPU time", fmt_ratio(cmp_.get("cpu_time_ratio")))
        row("identity ÷ bare: peak RSS (whole night ÷ bare script)", fmt_ratio(cmp_.get("rss_ratio")))
        row(
            "**identity ÷ bare: precision / recall / F1**",
            " / ".join(fmt_ratio(cmp_.get(k), 3) for k in ("precision_ratio", "recall_ratio", "f1_ratio")),
        )
    elif bare.get("skipped"):
        row("bare Splink", f"skipped ({bare['skipped']})")

    if bare and not bare.get("skipped") and bare.get("seconds"):
        ratios = night_ratios(result)
        lines += [
            "",
            "| against bare Splink's time (load → clusters) | ratio | target |",
            "| --- | ---: | ---: |",
        ]
        for key, name in (
            ("night_to_bare", "whole night (`cdp run` wall time) ÷ bare"),
            ("raw_staging_to_bare", f"raw + staging ({fmt_seconds(ratios['raw_staging_seconds'])}) ÷ bare"),
            ("identity_to_bare", "identity stage ÷ bare"),
        ):
            value, target = ratios[key], NIGHT_TARGETS[key]
            met = "" if value is None else (" (met)" if value <= target else " (**not met**)")
            lines.append(f"| {name} | {fmt_ratio(value)} | ≤ {target:.1f}×{met} |")

    if stages.get("stages"):
        lines += ["", "| stage (asset step) | wall time | CPU time |", "| --- | ---: | ---: |"]
        for s in sorted(stages["stages"], key=lambda s: -s["seconds"]):
            lines.append(f"| {s['label']} | {fmt_seconds(s['seconds'])} | {fmt_seconds(s.get('cpu_seconds'))} |")
            for part in s.get("parts", []):
                cpu = part.get("cpu_seconds")
                lines.append(
                    f"|   · {part['label']} (in the step) | {fmt_seconds(part['seconds'])} "
                    f"| {fmt_seconds(None if cpu is None else round(cpu, 3))} |"
                )
        chk = stages.get("checks", {})
        lines.append(
            f"| {CHECKS_STAGE} ({chk.get('steps', 0)} steps, summed) | {fmt_seconds(chk.get('seconds'))} "
            f"| {fmt_seconds(chk.get('cpu_seconds'))} |"
        )
        between = stages.get("between_steps_seconds")
        if between is not None and between < 0:
            # the threaded executor (defs/executor.py) runs steps side by side: the steps' walls
            # sum to more than the run's, and each overlapped step's CPU includes its neighbour's
            lines.append(f"| steps side by side (sum of step walls less the run's) | {fmt_seconds(-between)} | |")
        elif between is not None:
            lines.append(f"| between steps (Dagster bookkeeping) | {fmt_seconds(between)} | |")
    ours_pairs = {r["sources"]: r for r in acc.get("by_source_pair") or []}
    bare_pairs = {r["sources"]: r for r in (bare.get("accuracy") or {}).get("by_source_pair") or []}
    if ours_pairs:
        lines += [
            "",
            "| source pair | true pairs | recall (identity) | precision (identity) "
            "| recall (bare) | precision (bare) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, r in ours_pairs.items():
            b = bare_pairs.get(name, {})
            lines.append(
                f"| {name} | {fmt_num(r.get('true_pairs'))} | {fmt_prf(r.get('recall'))} "
                f"| {fmt_prf(r.get('precision'))} | {fmt_prf(b.get('recall'))} | {fmt_prf(b.get('precision'))} |"
            )
    if bare.get("phases"):
        lines += ["", "| bare Splink phase | wall time |", "| --- | ---: |"]
        for name, secs in bare["phases"].items():
            lines.append(f"| {name} | {fmt_seconds(secs)} |")
    return "\n".join(lines) + "\n"
