"""Evaluation known answers on a hand-made example; explanations of a customer."""

import json

import pandas as pd
import pytest

from cdp_pipeline.lib.identity import (evaluate_against_truth, explain_customer, format_evaluation,
                                       format_explanation, resolve_identities)
from cdp_pipeline_tests.lib.identity.synthetic import record, write_records


def test_evaluation_known_answers(tmp_path):
    # truth: person 1 = {crm:1, esp:e1, sms:s1}; person 2 = {crm:2, pos:p2}; person 3 = {sms:s3}
    truth = tmp_path / "truth.csv"
    truth.write_text("source,source_record_id,person_id\ncrm,1,P1\nesp,e1,P1\nsms,s1,P1\n"
                     "crm,2,P2\npos,p2,P2\nsms,s3,P3\n", encoding="utf-8")
    # predicted: {crm:1, esp:e1} {sms:s1, sms:s3} {crm:2, pos:p2}
    cmap = pd.DataFrame({"source": ["crm", "esp", "sms", "sms", "crm", "pos"],
                         "source_record_id": ["1", "e1", "s1", "s3", "2", "p2"],
                         "customer_id": ["A", "A", "B", "B", "C", "C"]})
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
    write_records(con, [
        record("crm", "1", first_name="anna", last_name="berg", email="anna@x.se", crm_customer_id="1",
               loyalty_card_id="L1"),
        record("esp", "anna@x.se", first_name="anna", last_name="berg", email="anna@x.se"),
        record("pos", "receipt:1:1", loyalty_card_id="L1"),
        record("sms", "+46701", phone="+46701"),
    ])
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
    write_records(con, [
        record("crm", "1", "P1", first_name="anna", last_name="berg", birth_date="1980-01-01"),
        record("crm", "2", "P1", first_name="anna", last_name="berg", birth_date="1980-01-01"),
        # a typo in both names and no shared field: no rule can block this pair
        record("esp", "x@y.se", "P1", first_name="ana", last_name="bregg", email="x@y.se"),
        record("crm", "3", "P2", first_name="bo", last_name="holm", email="bo@z.se"),
        record("esp", "bo@z.se", "P2", first_name="bo", last_name="holm", email="bo@z.se"),
    ])
    truth = tmp_path / "truth.csv"
    truth.write_text("source,source_record_id,person_id\ncrm,1,P1\ncrm,2,P1\nesp,x@y.se,P1\ncrm,3,P2\n"
                     "esp,bo@z.se,P2\n", encoding="utf-8")
    from cdp_pipeline.lib.identity.evaluate import blocking_recall

    br = blocking_recall(con, truth, config)
    assert br["true_pairs"] == 4 and br["true_pairs_blocked"] == 2
    assert br["recall"] == 0.5
    by_rule = {r["rule"]: r["true_pairs_blocked"] for r in br["by_rule"]}
    assert by_rule["email"] == 1 and by_rule["first_name_match + last_name_match + birth_date"] == 1
