"""The whole run, Splink included, on the synthetic population with known truth."""

import logging
import math
import re

import duckdb

from cdp_pipeline import cli
from cdp_pipeline.lib.common.progress import PHASE_LOGGER
from cdp_pipeline.lib.identity import evaluate_against_truth, resolve_identities
from cdp_pipeline.lib.identity.splink_model import blocking_rule_name
from cdp_pipeline_tests.lib.identity.synthetic import build_synthetic, write_truth


class _PhaseRecorder(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.INFO)
        self.seen: list[str] = []

    def emit(self, record):
        stage, phase = record.__dict__["cdp_phase"]
        assert stage == "identity"
        self.seen.append(phase)


def test_synthetic_accuracy_stability_and_cli(config, tmp_path, monkeypatch, capsys):
    db = tmp_path / "build.duckdb"
    truth = tmp_path / "truth.csv"
    con = duckdb.connect(str(db))
    records = build_synthetic(con, n_people=200, seed=11)
    write_truth(records, truth)
    phases = _PhaseRecorder()
    logging.getLogger(PHASE_LOGGER).addHandler(phases)
    try:
        result = resolve_identities(con, run_id="r1", config=config, reports_dir=tmp_path / "reports")
    finally:
        logging.getLogger(PHASE_LOGGER).removeHandler(phases)
    # `cdp run` prints these under the identity step's line
    em = [f"training: EM on {blocking_rule_name(rule)}" for rule in config.splink.em_rules]
    assert phases.seen[: 2 + len(em)] == ["training: prior", "training: u by random sampling", *em]
    assert re.fullmatch(r"scoring every pair of [\d,]+ records", phases.seen[2 + len(em)])
    assert phases.seen[3 + len(em) :] == ["clustering all records"]
    assert result.links_by_type.get("probabilistic", 0) > 0
    assert (tmp_path / "reports" / "match_weights.html").read_text().startswith("<!DOCTYPE html>") or "vega" in (
        tmp_path / "reports" / "match_weights.html"
    ).read_text()
    # every probabilistic link explains its weight: the prior's and the comparisons' (term-frequency
    # adjustments included) add up to match_weight, to the JSON's rounding
    prior = result.model.probability_two_random_records_match
    explained = con.execute(
        """SELECT count(*), max(abs(match_weight - $prior_weight - (
                  SELECT sum(CAST(v AS DOUBLE)) FROM (SELECT unnest(json_extract(match_weights, '$.*')) AS v))))
           FROM identity.links WHERE link_type = 'probabilistic'""",
        {"prior_weight": math.log2(prior / (1 - prior))},
    ).fetchone()
    assert explained[0] > 0 and explained[1] < 0.05
    ev = evaluate_against_truth(con, truth)
    assert ev["pairwise"]["precision"] >= 0.99
    assert ev["pairwise"]["recall"] >= 0.8  # the fixture holds records nothing can link
    # the run records the thresholds it linked at; evaluate shows them
    t = ev["thresholds"]
    assert t["match_threshold"] == 0.99 and 0.5 <= t["sparse_pair_threshold"] <= 0.99
    assert t == result.model.thresholds.as_metadata() | {
        "sparse_pair_threshold": t["sparse_pair_threshold"],
        "sparse_expected_precision": t["sparse_expected_precision"],
    }
    first = dict(con.execute("SELECT source || source_record_id, customer_id FROM identity.customer_map").fetchall())

    # the same input again: no ID changes, no events, Splink included
    result = resolve_identities(con, run_id="r2", config=config, reports_dir=tmp_path / "reports")
    again = dict(con.execute("SELECT source || source_record_id, customer_id FROM identity.customer_map").fetchall())
    assert again == first
    assert result.id_changes["records_changed_id"] == 0
    assert con.execute("SELECT count(*) FROM identity.id_history WHERE run_id = 'r2'").fetchall()[0][0] == 0
    # no Splink work tables left behind in the build file
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '__splink__%'").fetchall()[0][0] == 0
    cid = con.execute("""SELECT customer_id FROM identity.links WHERE link_type = 'probabilistic'
                         ORDER BY customer_id LIMIT 1""").fetchall()[0][0]
    con.close()

    monkeypatch.setenv("CDP_WAREHOUSE", str(db))
    assert cli.main(["explain", cid]) == 0
    text = capsys.readouterr().out
    assert "probabilistic: p=" in text and "first_name_match" in text
    assert cli.main(["evaluate", "--truth", str(truth)]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "pairs judged on name, birth date and address: " in out
