"""What ``cdp explain`` and ``cdp evaluate`` call: open the right file read-only, return text or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from cdp_pipeline.lib.identity.evaluate import evaluate_against_truth, format_evaluation
from cdp_pipeline.lib.identity.explain import explain_customer, format_explanation


def _open(database: Path | str | None) -> duckdb.DuckDBPyConnection:
    from cdp_pipeline.settings import get_settings

    path = Path(database) if database else get_settings().warehouse
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path} (run the pipeline first, or pass --warehouse)")
    return duckdb.connect(str(path), read_only=True)


def explain_command(customer_id: str, *, database: Path | str | None = None, as_json: bool = False) -> str:
    """Text (or JSON) explaining ``customer_id``; raises KeyError for an unknown ID."""
    with _open(database) as con:
        explanation = explain_customer(con, customer_id)
    return json.dumps(explanation, indent=2, default=str) if as_json else format_explanation(explanation)


def evaluate_command(truth: Path | str, *, database: Path | str | None = None, as_json: bool = False) -> str:
    """Text (or JSON) scoring the warehouse's ``identity.customer_map`` against a truth CSV."""
    with _open(database) as con:
        result = evaluate_against_truth(con, truth)
    return json.dumps(result, indent=2, default=str) if as_json else format_evaluation(result)
