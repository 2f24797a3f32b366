"""Checks on segments: each definition builds (one check per segment), history agrees with membership."""

from collections.abc import Iterable

import dagster as dg
from dagster_duckdb import DuckDBResource

from cdp_pipeline.defs.segments.assets import DEFINITIONS_KEY, HISTORY_KEY
from cdp_pipeline.lib.segments import store
from cdp_pipeline.lib.segments.definitions import load_segment_definitions
from cdp_pipeline.settings import get_settings

ALL_DEFINITIONS_CHECK = "all_segment_definitions_valid"


def segment_check_name(segment: str) -> str:
    return f"segment_{segment}_valid"


def build_segment_definition_checks(segment_names: Iterable[str]) -> dg.AssetChecksDefinition:
    """One check per configured segment (fails when that segment's definition is refused or does not
    evaluate), plus one over all stored definitions for segments added since the code was loaded."""
    names = sorted(set(segment_names))
    specs = [
        dg.AssetCheckSpec(
            name=segment_check_name(n),
            asset=DEFINITIONS_KEY,
            description=f"Segment {n!r} passes the predicate guard and evaluates.",
        )
        for n in names
    ]
    specs.append(
        dg.AssetCheckSpec(
            name=ALL_DEFINITIONS_CHECK,
            asset=DEFINITIONS_KEY,
            description="Every stored segment definition has status ok.",
        )
    )

    @dg.multi_asset_check(specs=specs, name="segment_definition_checks")
    def _checks(duckdb: DuckDBResource):
        with duckdb.get_connection() as con:
            store.ensure_segment_tables(con)
            stored = {row[0]: row for row in store.stored_definitions(con)}
        for n in names:
            row = stored.get(n)
            if row is None:
                yield dg.AssetCheckResult(
                    check_name=segment_check_name(n), passed=True, metadata={"note": "no longer defined"}
                )
                continue
            _, _, predicate, _, _, status, error, members, _ = row
            yield dg.AssetCheckResult(
                check_name=segment_check_name(n),
                passed=status == "ok",
                severity=dg.AssetCheckSeverity.ERROR,
                description=error if status != "ok" else None,
                metadata={
                    "status": status,
                    "members": members if members is not None else -1,
                    "error": dg.MetadataValue.text(error or ""),
                    "predicate": dg.MetadataValue.text(predicate or ""),
                },
            )
        failed = {s: r[6] for s, r in stored.items() if r[5] != "ok"}
        yield dg.AssetCheckResult(
            check_name=ALL_DEFINITIONS_CHECK,
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "failed": dg.MetadataValue.md("\n".join(f"- {e}" for e in failed.values()) or "none"),
                "definitions": len(stored),
            },
        )

    return _checks


@dg.asset_check(
    asset=HISTORY_KEY,
    name="history_agrees_with_membership",
    description="Every current member has exactly one open stay, every open stay is a current member, "
    "and no stay ends before it begins.",
)
def history_agrees_with_membership(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as con:
        store.ensure_segment_tables(con)
        problems = store.history_mismatches(con)
    preview = "\n".join(f"- {p}: {s} / {c}" for p, s, c in problems[:20]) or "none"
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"problems": len(problems), "examples": dg.MetadataValue.md(preview)},
    )


@dg.definitions
def segment_checks() -> dg.Definitions:
    # Called when the code location loads, not when this module is imported: the per-segment
    # checks follow the segments.yaml of the settings in force then.
    try:
        names = [d.name for d in load_segment_definitions(get_settings().config_dir)]
    except Exception:  # a broken YAML fails the asset itself; keep the code location loadable
        names = []
    return dg.Definitions(asset_checks=[build_segment_definition_checks(names), history_agrees_with_membership])
