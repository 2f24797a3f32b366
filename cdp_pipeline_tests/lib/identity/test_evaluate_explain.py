"""Evaluation known answers on a hand-made example; explanations of a customer."""

import json
import re

import pandas as pd
import pytest

from cdp_pipeline.lib.identity import (
    evaluate_against_truth,
    explain_customer,
    format_evaluation,
    format_explanation,
    resolve_identities,
)
from cdp_pipeline_tests.lib.identity.synthetic import record, write_records


def test_evaluation_known_answers(tmp_path):
    # truth: person 1 = {crm:1, esp:e1, sms:s1}; person 2 = {crm:2, pos:p2}; person 3 = {sms:s3}
    truth = tmp_path / "truth.csv"
    truth.write_text(
        "source,source_record_id,person_id\ncrm,1,P1\nesp,e1,P1\nsms,s1,P1\ncrm,2,P2\npos,p2,P2\nsms,s3,P3\n",
        encoding="utf-8",
    )
    # predicted: {crm:1, esp:e1} {sms:s1, sms:s3} {crm:2, pos:p2}
    cmap = pd.DataFrame(
        {
            "source": ["crm", "esp", "sms", "sms", "crm", "pos"],
            "source_record_id": ["1", "e1", "s1", "s3", "2", "p2"],
            "customer_id": ["A", "A", "B", "B", "C", "C"],
        }
    )
    ev = evaluate_against_truth(cmap, truth)
    # true pairs: P1 3, P2 1 = 4; predicted: 1+1+1 = 3; correct: (crm1,esp1), (crm2,pos2) = 2
    assert ev["pairwise"]["true_pairs"] == 4
    assert ev["pairwise"]["predicted_pairs"] == 3
    assert ev["pairwise"]["true_positive_pairs"] == 2
    assert ev["pairwise"]["precision"] == pytest.approx(2 / 3)
    assert ev["pairwise"]["recall"] == pytest.approx(0.5)
    assert ev["pairwise"]["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    c = ev["clusters"]
    assert (c["persons"], c["customers"], c["persons_exactly_recovered"]) == (3, 3, 1)
    assert (c["over_merged_customers"], c["under_merged_persons"]) == (1, 1)
    pairs = {r["sources"]: r for r in ev["by_source_pair"]}
    assert pairs["crm<->esp"]["recall"] == 1.0
    assert pairs["crm<->sms"]["recall"] == 0.0 and pairs["esp<->sms"]["recall"] == 0.0
    assert pairs["crm<->pos"]["recall"] == 1.0
    assert pairs["sms<->sms"]["precision"] == 0.0 and pairs["sms<->sms"]["true_pairs"] == 0
    text = format_evaluation(ev)
    assert "precision 0.6667" in text and "crm<->sms" in text


def test_evaluation_from_connection_counts_missing_records(con, tmp_path):
    con.execute("CREATE SCHEMA identity")
    con.execute("""CREATE TABLE identity.customer_map AS SELECT * FROM (VALUES
                   ('crm', '1', 'A'), ('esp', 'e1', 'A'), ('web', 'w9', 'Z')) t(source, source_record_id, customer_id)""")
    truth = tmp_path / "truth.csv"
    truth.write_text("source,source_record_id,person_id\ncrm,1,P1\nesp,e1,P1\nsms,s1,P2\n", encoding="utf-8")
    ev = evaluate_against_truth(con, truth)
    assert ev["pairwise"]["precision"] == 1.0 and ev["pairwise"]["recall"] == 1.0
    assert ev["records_missing_from_map"] == 1 and ev["records_missing_from_truth"] == 1


def test_explain_names_the_evidence(con, config, tmp_path):
    write_records(
        con,
        [
            record(
                "crm",
                "1",
                first_name="anna",
                last_name="berg",
                email="anna@x.se",
                crm_customer_id="1",
                loyalty_card_id="L1",
            ),
            record("esp", "anna@x.se", first_name="anna", last_name="berg", email="anna@x.se"),
            record("pos", "receipt:1:1", loyalty_card_id="L1"),
            record("sms", "+46701", phone="+46701"),
        ],
    )
    resolve_identities(con, run_id="r1", config=config)
    cid = con.execute("SELECT customer_id FROM identity.customer_map WHERE source = 'crm'").fetchall()[0][0]
    e = explain_customer(con, cid)
    assert len(e["records"]) == 3
    kinds = {(link["link_type"], link["identifier_kind"]) for link in e["links"]}
    assert ("deterministic", "email") in kinds and ("deterministic", "loyalty_card") in kinds
    assert e["history"][0]["event"] == "created"
    json.dumps(e)
    text = format_explanation(e)
    assert cid in text and "same loyalty_card: L1" in text
    single = con.execute("SELECT customer_id FROM identity.customer_map WHERE source = 'sms'").fetchall()[0][0]
    assert "single record" in format_explanation(explain_customer(con, single))
    with pytest.raises(KeyError):
        explain_customer(con, "C-000000000000")


def test_blocking_recall_counts_true_pairs_caught(con, config, tmp_path):
    write_records(
        con,
        [
            record("crm", "1", "P1", first_name="anna", last_name="berg", birth_date="1980-01-01"),
            record("crm", "2", "P1", first_name="anna", last_name="berg", birth_date="1980-01-01"),
            # a typo in both names and no shared field: no rule can block this pair
            record("esp", "x@y.se", "P1", first_name="ana", last_name="bregg", email="x@y.se"),
            record("crm", "3", "P2", first_name="bo", last_name="holm", email="bo@z.se"),
            record("esp", "bo@z.se", "P2", first_name="bo", last_name="holm", email="bo@z.se"),
        ],
    )
    truth = tmp_path / "truth.csv"
    truth.write_text(
        "source,source_record_id,person_id\ncrm,1,P1\ncrm,2,P1\nesp,x@y.se,P1\ncrm,3,P2\nesp,bo@z.se,P2\n",
        encoding="utf-8",
    )
    from cdp_pipeline.lib.identity.evaluate import blocking_recall

    br = blocking_recall(con, truth, config)
    assert br["true_pairs"] == 4 and br["true_pairs_blocked"] == 2
    assert br["recall"] == 0.5
    by_rule = {r["rule"]: r["true_pairs_blocked"] for r in br["by_rule"]}
    assert by_rule["email"] == 1 and by_rule["first_name_match + birth_date"] == 1


def _hard_case_example(tmp_path):
    # truth: twins P1 = {crm:1, esp:e1}, P2 = {crm:2, esp:e2}; nicknames P3 = {crm:3, pos:o3, esp:e3},
    # P4 = {crm:4, pos:o4}; a household of P5 = {crm:5} and P6 = {sms:s6}; P9 is in no record
    truth = tmp_path / "truth.csv"
    truth.write_text(
        "source,source_record_id,person_id\ncrm,1,P1\nesp,e1,P1\ncrm,2,P2\nesp,e2,P2\n"
        "crm,3,P3\npos,o3,P3\nesp,e3,P3\ncrm,4,P4\npos,o4,P4\ncrm,5,P5\nsms,s6,P6\n",
        encoding="utf-8",
    )
    cases = tmp_path / "truth_cases.csv"
    cases.write_text(
        "person_id,case_type,case_group\nP1,twins,twins:1\nP2,twins,twins:1\nP3,nickname,\n"
        "P4,nickname,\nP4,nickname,\nP5,household,household:7\nP6,household,household:7\n"
        "P9,twins,twins:2\n",
        encoding="utf-8",
    )
    # predicted: A = both twins' CRM records and P1's ESP; B = P2's ESP; P3 split over C and D;
    # E = P4 with P5; F = P6
    cmap = pd.DataFrame(
        {
            "source": ["crm", "esp", "crm", "esp", "crm", "pos", "esp", "crm", "pos", "crm", "sms"],
            "source_record_id": ["1", "e1", "2", "e2", "3", "o3", "e3", "4", "o4", "5", "s6"],
            "customer_id": ["A", "A", "A", "B", "C", "C", "D", "E", "E", "E", "F"],
        }
    )
    return truth, cases, cmap


def test_evaluation_per_hard_case_known_answers(tmp_path):
    truth, cases, cmap = _hard_case_example(tmp_path)
    ev = evaluate_against_truth(cmap, truth)  # the companion beside truth.csv is found
    assert ev["cases_file"] == str(cases)
    by_case = {row["case_type"]: row for row in ev["by_case"]}
    assert list(by_case) == ["household", "nickname", "twins"]
    # twins: 2 true pairs (one each), P1's found, P2's split; the twins share customer A
    assert by_case["twins"] == {
        "case_type": "twins",
        "persons": 2,
        "persons_split": 1,
        "true_pairs": 2,
        "found_pairs": 1,
        "recall": 0.5,
        "false_merge_customers": 1,
        "case_pairs": 1,
        "case_pairs_merged": 1,
    }
    # nicknames: P3 3 pairs (1 found, split), P4 1 pair (found, but merged with P5 in E)
    assert by_case["nickname"] == {
        "case_type": "nickname",
        "persons": 2,
        "persons_split": 1,
        "true_pairs": 4,
        "found_pairs": 2,
        "recall": 0.5,
        "false_merge_customers": 1,
        "case_pairs": 0,
        "case_pairs_merged": 0,
    }
    # household: one record each (no pairs), P5 sits in a mixed customer, the two are not merged
    assert by_case["household"] == {
        "case_type": "household",
        "persons": 2,
        "persons_split": 0,
        "true_pairs": 0,
        "found_pairs": 0,
        "recall": None,
        "false_merge_customers": 1,
        "case_pairs": 1,
        "case_pairs_merged": 0,
    }
    text = format_evaluation(ev)
    assert "Hard cases (truth_cases.csv)" in text
    assert re.search(r"twins\s+2\s+1\s+2\s+1\s+0\.5000\s+1\s+1 / 1", text)
    assert re.search(r"nickname\s+2\s+1\s+4\s+2\s+0\.5000\s+1\s+-", text)
    assert re.search(r"household\s+2\s+0\s+0\s+0\s+n/a\s+1\s+0 / 1", text)
    json.dumps(ev)


def test_evaluation_without_a_companion_is_unchanged(tmp_path):
    truth, cases, cmap = _hard_case_example(tmp_path)
    with_cases = evaluate_against_truth(cmap, truth)
    cases.rename(tmp_path / "elsewhere.csv")
    plain = evaluate_against_truth(cmap, truth)
    assert "by_case" not in plain and "cases_file" not in plain
    assert {k: v for k, v in with_cases.items() if k not in ("by_case", "cases_file")} == plain
    assert "Hard cases" not in format_evaluation(plain)
    assert format_evaluation(with_cases).startswith(format_evaluation(plain) + "\n\nHard cases")
    explicit = evaluate_against_truth(cmap, truth, tmp_path / "elsewhere.csv")
    assert explicit["by_case"] == with_cases["by_case"]


def test_cdp_evaluate_reports_hard_cases(tmp_path, monkeypatch, capsys):
    import duckdb

    from cdp_pipeline import cli

    truth, _, cmap = _hard_case_example(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA identity")
        con.execute("CREATE TABLE identity.customer_map AS SELECT * FROM cmap")
    monkeypatch.setenv("CDP_WAREHOUSE", str(warehouse))
    assert cli.main(["evaluate", "--truth", str(truth), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {r["case_type"]: r["case_pairs_merged"] for r in result["by_case"]} == {
        "household": 0,
        "nickname": 0,
        "twins": 1,
    }
    assert cli.main(["evaluate", "--truth", str(truth)]) == 0
    assert "Hard cases (truth_cases.csv)" in capsys.readouterr().out
