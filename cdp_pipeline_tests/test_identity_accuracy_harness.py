"""The identity-accuracy benchmark's pure parts on a few FEBRL-shaped rows: FEBRL -> landing
rows, the truth file, and the results table. The benchmark itself (cdp run, Splink) never runs here."""

import csv
import importlib.util
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from cdp_pipeline.lib.identity.evaluate import evaluate_against_truth
from cdp_pipeline.lib.raw.file_kinds import CRM_CUSTOMERS, ESP_MEMBERS, classify_csv, normalise_header
from cdp_pipeline.lib.staging.email import check_email

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str):
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))  # identity_accuracy imports its siblings by name
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


febrl = _load("febrl_landing")
accuracy = _load("identity_accuracy")

# As the FEBRL files write them: a blank after each comma, empty fields, a soc_sec_id.
FEBRL_TEXT = """rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id
rec-7-org, lachlan, berry, 69, giblin street, killarney, bittern, 4814, qld, 19990219, 7364009
rec-7-dup-0, lachlan, berrx, , giblin street, killarney, bittern, 4814, qld, 19990291, 7364009
rec-12-org, , waller, 6, tullaroop street, willaroo, st james, 0811, wa, , 6988048
"""


@pytest.fixture
def records(tmp_path):
    path = tmp_path / "dataset1.csv"
    path.write_text(FEBRL_TEXT, encoding="utf-8")
    return febrl.read_febrl(path)


def _read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_febrl_is_read_as_strings_with_blanks_skipped_empty_as_none_and_no_ssn(records):
    assert [r["rec_id"] for r in records] == ["rec-7-org", "rec-7-dup-0", "rec-12-org"]
    assert records[0]["given_name"] == "lachlan" and records[0]["date_of_birth"] == "19990219"
    assert records[2]["postcode"] == "0811"  # a string: the leading zero survives
    assert records[1]["street_number"] is None and records[2]["given_name"] is None
    assert all("soc_sec_id" not in r for r in records)


def test_held_out_febrl_files_are_refused(tmp_path):
    with pytest.raises(ValueError, match="held out"):
        febrl.febrl_path("febrl3")
    (tmp_path / "dataset4a.csv").write_text(FEBRL_TEXT, encoding="utf-8")
    with pytest.raises(ValueError, match="reserved"):
        febrl.read_febrl(tmp_path / "dataset4a.csv")


def test_person_is_the_number_in_the_record_id():
    assert febrl.person_of("rec-7-org") == febrl.person_of("rec-7-dup-0") == "7"
    with pytest.raises(ValueError):
        febrl.person_of("7-org")


def test_crm_row_follows_the_crm_contract(records):
    assert febrl.crm_row(records[0]) == {
        "customer_id": "rec-7-org",
        "first_name": "lachlan",
        "last_name": "berry",
        "street": "69 giblin street",
        "postcode": "4814",
        "city": "bittern",
        "birth_date": "19990219",
    }
    # a missing house number is left out of the street, not written as "nan"
    assert febrl.crm_row(records[1])["street"] == "giblin street"
    assert febrl.crm_row(records[2])["first_name"] == "" and febrl.crm_row(records[2])["birth_date"] == ""
    assert set(febrl.CRM_HEADER) <= set(CRM_CUSTOMERS.columns)


def test_esp_row_has_a_unique_address_that_is_not_junk_and_carries_no_name(records):
    rows = [febrl.esp_row(r, n) for n, r in enumerate(records, start=1)]
    assert rows[1]["Birthday"] == "1999-02-91"  # a full date, as FEBRL gives it (invalid stays invalid)
    assert rows[2]["Birthday"] == ""
    emails = [r["Email Address"] for r in rows]
    assert len(set(emails)) == len(set(r["LEID"] for r in rows)) == 3
    for row, rec in zip(rows, records):
        checked = check_email(row["Email Address"])
        assert checked.value == row["Email Address"] and checked.flags == ()
        assert (rec["surname"] or "") not in row["Email Address"]


def test_landing_headers_are_all_known_columns_of_their_file_kind():
    crm_keys = {normalise_header(h) for h in febrl.CRM_HEADER}
    esp_keys = {normalise_header(h) for h in febrl.ESP_HEADER}
    assert classify_csv("crm", "customers_20261001.csv", crm_keys) is CRM_CUSTOMERS
    esp_name = f"subscribed_members_export_{febrl.ESP_LIST_ID}.csv"
    assert classify_csv("esp", esp_name, esp_keys) is ESP_MEMBERS
    # nothing lands in raw._extra: every header is a contract column
    assert all(CRM_CUSTOMERS.canonical(h) for h in febrl.CRM_HEADER)
    assert all(ESP_MEMBERS.canonical(h) for h in febrl.ESP_HEADER)
    assert ESP_MEMBERS.canonical("LEID") == "leid"


def test_two_source_layout_keys_esp_members_by_their_leid(records, tmp_path):
    info = febrl.write_dataset(records, "two_source", tmp_path / "landing", tmp_path / "truth.csv")
    assert info["records"] == 3 and info["persons"] == 2 and info["by_source"] == {"crm": 2, "esp": 1}
    crm = _read_csv(tmp_path / "landing/crm/2026-10-01/customers_20261001.csv")
    esp = _read_csv(tmp_path / "landing/esp/2026-10-01/subscribed_members_export_febrl00001.csv")
    assert [r["customer_id"] for r in crm] == ["rec-7-org", "rec-12-org"]
    assert [r["Last Name"] for r in esp] == ["berrx"]
    truth = _read_csv(tmp_path / "truth.csv")
    assert truth == [
        {"source": "crm", "source_record_id": "rec-7-org", "person_id": "7"},
        {"source": "esp", "source_record_id": esp[0]["LEID"], "person_id": "7"},
        {"source": "crm", "source_record_id": "rec-12-org", "person_id": "12"},
    ]
    # the plain Splink script gets the same records under the same keys, with raw FEBRL fields
    assert [(r["source"], r["source_record_id"]) for r in info["splink_rows"]] == [
        (t["source"], t["source_record_id"]) for t in truth
    ]
    assert info["splink_rows"][1]["surname"] == "berrx" and "soc_sec_id" not in info["splink_rows"][1]


def test_crm_dedupe_truth_scores_a_known_answer(records, tmp_path):
    febrl.write_dataset(records, "crm_dedupe", tmp_path / "landing", tmp_path / "truth.csv")
    assert not (tmp_path / "landing/esp").exists()
    perfect = pa.Table.from_pylist(
        [
            {"source": "crm", "source_record_id": r, "customer_id": c}
            for r, c in (("rec-7-org", "A"), ("rec-7-dup-0", "A"), ("rec-12-org", "B"))
        ]
    )
    split = pa.Table.from_pylist(
        [
            {"source": "crm", "source_record_id": r, "customer_id": c}
            for r, c in (("rec-7-org", "A"), ("rec-7-dup-0", "C"), ("rec-12-org", "B"))
        ]
    )
    merged = pa.Table.from_pylist(
        [
            {"source": "crm", "source_record_id": r, "customer_id": "A"}
            for r in ("rec-7-org", "rec-7-dup-0", "rec-12-org")
        ]
    )
    assert evaluate_against_truth(perfect, tmp_path / "truth.csv")["pairwise"]["f1"] == 1.0
    assert evaluate_against_truth(split, tmp_path / "truth.csv")["pairwise"]["recall"] == 0.0
    assert evaluate_against_truth(merged, tmp_path / "truth.csv")["pairwise"]["precision"] == pytest.approx(1 / 3)


def test_every_febrl_data_set_and_seed_is_run_and_febrl3_4_never():
    specs = accuracy.datasets(2000, 14, [1, 2, 3], nordic_seeds=[9])
    names = [s["name"] for s in specs]
    assert names == [
        "FEBRL2 CRM dedupe",
        "FEBRL1 CRM dedupe",
        "FEBRL1 two-source link",
        "nordic multi-source seed 9",
        "sample seed 1",
        "sample seed 2",
        "sample seed 3",
    ]
    assert {s["febrl"] for s in specs if s["kind"] == "febrl"} == {"febrl1", "febrl2"}


def test_world_names_sets_only_with_seeds_each_written_with_world_names():
    assert not [s for s in accuracy.datasets(2000, 14, [1], nordic_seeds=[9]) if s.get("names") == "world"]
    specs = [s for s in accuracy.datasets(2000, 14, [1], nordic_seeds=[9], world_seeds=[4, 5]) if s.get("names")]
    assert [s["name"] for s in specs] == ["world-names multi-source seed 4", "world-names multi-source seed 5"]
    assert {(s["kind"], s["names"], s["persons"]) for s in specs} == {("nordic", "world", 2000)}


def test_dsgen_sets_only_with_seeds_each_profile_at_each_seed():
    assert not [s for s in accuracy.datasets(2000, 14, [1], nordic_seeds=[]) if s["kind"] == "dsgen"]
    specs = [s for s in accuracy.datasets(2000, 14, [1], nordic_seeds=[], dsgen_seeds=[5, 6]) if s["kind"] == "dsgen"]
    assert [s["name"] for s in specs] == [
        "dsgen febrl3-like seed 5",
        "dsgen febrl3-like seed 6",
        "dsgen febrl4-like seed 5",
        "dsgen febrl4-like seed 6",
    ]
    dsgen = _load("dsgen_febrl")
    assert [dsgen.layout(s["profile"]) for s in specs] == ["crm_dedupe"] * 2 + ["two_source"] * 2
    # FEBRL3's and FEBRL4's published generate.py parameters (Febrl dsgen/README.txt)
    assert dsgen.PROFILES["febrl3-like"][0] == ("2000", "3000", "5", "4", "6", "zipf")
    assert dsgen.PROFILES["febrl4-like"][0] == ("5000", "5000", "1", "2", "4", "uniform")


def test_dsgen_refuses_a_folder_that_is_not_the_generator_it_was_written_for(tmp_path):
    dsgen = _load("dsgen_febrl")
    with pytest.raises(FileNotFoundError):
        dsgen.prepare(tmp_path / "missing", tmp_path / "work")
    other = tmp_path / "other"
    (other / "data").mkdir(parents=True)
    (other / "generate.py").write_text("import random\nrandom.seed()\nprint 'another generator'\n")
    with pytest.raises(RuntimeError, match="matched 0 times"):  # its edits must each match: no silent drift
        dsgen.prepare(other, tmp_path / "work")


def test_table_has_one_row_per_data_set_and_shows_failures():
    rows = [
        {
            "name": "FEBRL2 CRM dedupe",
            "records": 5000,
            "persons": 4000,
            "pipeline_seconds": 19.24,
            "pipeline": {"precision": 1.0, "recall": 0.55171, "f1": 0.71110},
            "plain_splink": {
                "precision": 0.99991,
                "recall": 0.96691,
                "f1": 0.98318,
                "notes": ["EM on birth_date skipped: m_probability value 0.0"],
            },
        },
        {"name": "sample seed 1", "error": "RuntimeError: cdp run exited 1"},
    ]
    text = accuracy.render_table(rows)
    lines = text.splitlines()
    assert lines[0] == (
        "| data set | records | persons | pipeline P | R | F1 | plain Splink P | R | F1 | pipeline seconds |"
    )
    assert lines[2] == (
        "| FEBRL2 CRM dedupe | 5,000 | 4,000 | 1.0000 | 0.5517 | 0.7111 | 0.9999 | 0.9669 | 0.9832 | 19.2 |"
    )
    assert lines[3] == "| sample seed 1 | n/a | n/a | n/a | n/a | n/a | n/a | n/a | n/a | n/a |"
    assert "- sample seed 1: RuntimeError: cdp run exited 1" in lines
    # a training step the plain Splink had to skip is said under the table
    assert "- FEBRL2 CRM dedupe, plain Splink: EM on birth_date skipped: m_probability value 0.0" in lines


def test_samples_are_generated_with_hard_cases_unless_told_not_to(tmp_path):
    landing, truth = tmp_path / "landing", tmp_path / "truth.csv"
    spec = [s for s in accuracy.datasets(300, 3, [7]) if s["kind"] == "sample"][0]
    assert accuracy.sample_command("cdp", spec, landing, truth) == [
        "cdp",
        "sample",
        "--customers",
        "300",
        "--days",
        "3",
        "--seed",
        "7",
        "--out",
        str(landing),
        "--truth",
        str(truth),
        "--hard-cases",
    ]
    plain = [s for s in accuracy.datasets(300, 3, [7], hard_cases=False) if s["kind"] == "sample"][0]
    assert "--hard-cases" not in accuracy.sample_command("cdp", plain, landing, truth)


def test_per_case_table_lists_each_case_of_each_sample():
    by_case = [
        {
            "case_type": "twins",
            "persons": 38,
            "persons_split": 1,
            "true_pairs": 170,
            "found_pairs": 169,
            "recall": 0.99412,
            "false_merge_customers": 11,
            "case_pairs": 19,
            "case_pairs_merged": 11,
        },
        {
            "case_type": "nickname",
            "persons": 1245,
            "persons_split": 6,
            "true_pairs": 900,
            "found_pairs": 893,
            "recall": 0.99222,
            "false_merge_customers": 0,
            "case_pairs": 0,
            "case_pairs_merged": 0,
        },
    ]
    rows = [
        {"name": "FEBRL2 CRM dedupe", "pipeline": {"precision": 1.0}},
        {"name": "sample seed 1", "pipeline": {"precision": 0.99, "by_case": by_case}},
        {"name": "sample seed 2", "error": "RuntimeError: cdp run exited 1"},
    ]
    lines = accuracy.render_cases(rows).splitlines()
    assert lines[0].startswith("| data set | case | persons |")
    assert lines[2:] == [
        "| sample seed 1 | twins | 38 | 1 | 0.9941 | 11 | 11 / 19 |",
        "| sample seed 1 | nickname | 1,245 | 6 | 0.9922 | 0 | – |",
    ]
    assert accuracy.render_cases(rows[:1]) == ""
