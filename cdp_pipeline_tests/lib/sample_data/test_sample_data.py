"""The sample generator: reproducible, in the formats of docs/sources.md, with a fair truth."""

import csv
import hashlib
import io
import json
import random
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import phonenumbers
import pytest

from cdp_pipeline.lib.sample_data import SOURCES, generate_sample, linkability
from cdp_pipeline.lib.sample_data.fastrandom import FastRandom
from cdp_pipeline.lib.sample_data.generate import build_records
from cdp_pipeline.lib.sample_data.output import Output
from cdp_pipeline.lib.sample_data.pos import ORDER_HEADER, RECEIPT_HEADER

SMALL = {"customers": 200, "days": 5, "seed": 42}


def _generate(root: Path, **kwargs) -> dict:
    summary = generate_sample(root / "landing", truth_file=root / "truth" / "truth.csv", **kwargs)
    return {
        "root": root,
        "landing": root / "landing",
        "summary": summary,
        "truth": root / "truth" / "truth.csv",
        "manifest": root / "truth" / "manifest.json",
    }


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> dict:
    return _generate(tmp_path_factory.mktemp("sample_a"), **SMALL)


def _checksums(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    text = _text(path)
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    return rows[0], rows[1:]


def _broken_lines(sample) -> set[tuple[str, int]]:
    manifest = json.loads(sample["manifest"].read_text())
    return {(b["file"], b["line_number"]) for b in manifest["broken_rows"]}


def _good_rows(sample, pattern: str):
    """(file, header, row) for every readable CSV row of the files matching the glob."""
    broken = _broken_lines(sample)
    for path in sorted(sample["landing"].glob(pattern)):
        rel = path.relative_to(sample["landing"]).as_posix()
        header, rows = _csv_rows(path)
        for index, row in enumerate(rows):
            if (rel, index + 2) not in broken and len(row) == len(header):
                yield rel, header, row


def _truth(sample) -> list[dict]:
    with sample["truth"].open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_same_seed_gives_byte_identical_tree(sample, tmp_path):
    again = _generate(tmp_path, **SMALL)
    assert _checksums(again["root"]) == _checksums(sample["root"])


def test_different_seed_differs(sample, tmp_path):
    other = _generate(tmp_path, **{**SMALL, "seed": 7})
    assert _checksums(other["landing"]) != _checksums(sample["landing"])
    assert other["truth"].read_bytes() != sample["truth"].read_bytes()


def test_default_truth_location_is_beside_the_landing_folder(tmp_path):
    summary = generate_sample(tmp_path / "landing", customers=20, days=2, seed=1)
    assert (tmp_path / "sample_truth" / "truth.csv").is_file()
    assert (tmp_path / "sample_truth" / "manifest.json").is_file()
    assert summary["people"] == 20


def test_a_one_day_sample_has_no_campaign(tmp_path):
    # the column draws of a period without an ESP or SMS campaign: no activity, parcel notices only
    summary = generate_sample(tmp_path / "landing", customers=30, days=1, seed=2, truth_file=tmp_path / "truth.csv")
    landing = tmp_path / "landing"
    assert summary["people"] == 30 and (landing / "crm/2026-10-01/customers_20261001.csv").is_file()
    activity = (landing / "esp/2026-10-01/campaign_activity_20261001.csv").read_text(encoding="utf-8")
    assert activity.count("\n") == 1  # the header only
    sms = (landing / "sms/2026-10-01/sms_log_20261001.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert sms and all("ditt paket" in line for line in sms)
    # the web events of the day before the start arrive on the first day
    assert [p.name for p in landing.glob("web/*/*")] in ([], ["events_20260930.jsonl"])


def test_every_source_has_files_in_landing_layout(sample):
    landing = sample["landing"]
    assert sorted(p.name for p in landing.iterdir()) == sorted(SOURCES)
    for source in SOURCES:
        files = [p for p in (landing / source).rglob("*") if p.is_file()]
        assert files, source
        for path in files:
            day = path.parent.name
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", day)
            assert path.parent.parent.name == source


def test_file_names_follow_the_contract(sample):
    names = {p.relative_to(sample["landing"]).as_posix() for p in sample["landing"].rglob("*") if p.is_file()}
    assert "crm/2026-10-01/customers_20261001.csv" in names
    assert any(re.fullmatch(r"esp/2026-10-01/subscribed_members_export_\w+\.csv", n) for n in names)
    assert any(re.fullmatch(r"esp/2026-10-01/unsubscribed_members_export_\w+\.csv", n) for n in names)
    assert any(re.fullmatch(r"esp/2026-10-01/cleaned_members_export_\w+\.csv", n) for n in names)
    assert "esp/2026-10-02/campaign_activity_20261002.csv" in names
    assert any(n.startswith("sms/") and n.endswith(".csv") for n in names)
    assert any(n.startswith("sms/") and n.endswith(".jsonl") for n in names)
    assert "web/2026-10-01/events_20260930.jsonl" in names  # GA4 delivers a day's table the next day
    assert "pos/2026-10-01/orders_export_20261001.csv" in names
    assert any(re.fullmatch(r"pos/2026-10-\d\d/receipts_[A-Z]\d\d_\d{8}\.csv", n) for n in names)


def test_summary_counts_match_truth(sample):
    truth = _truth(sample)
    summary = sample["summary"]
    assert summary["identity_records"] == len(truth)
    assert summary["people"] == len({row["person_id"] for row in truth})
    assert set(summary["rows"]) == set(SOURCES) and all(summary["rows"].values())


def test_truth_is_sorted_unique_and_covers_all_sources(sample):
    lines = sample["truth"].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "source,source_record_id,person_id"
    truth = _truth(sample)
    keys = [(row["source"], row["source_record_id"]) for row in truth]
    assert len(keys) == len(set(keys))
    assert [tuple(r.values()) for r in truth] == sorted(tuple(r.values()) for r in truth)
    assert {row["source"] for row in truth} == set(SOURCES)
    patterns = {
        "crm": r"\d+",
        "esp": r"\d+",
        "sms": r"\+\d{8,15}",
        "web": r"\d+",
        "pos": r"order:#\d+|receipt:[A-Z]\d\d:\d+",
    }
    for row in truth:
        assert re.fullmatch(patterns[row["source"]], row["source_record_id"]), row
        if row["source"] == "sms":
            assert phonenumbers.is_valid_number(phonenumbers.parse(row["source_record_id"])), row


def test_web_user_id_is_the_same_persons_crm_customer_id(sample):
    truth = _truth(sample)
    crm_owner = {r["source_record_id"]: r["person_id"] for r in truth if r["source"] == "crm"}
    web = [r for r in truth if r["source"] == "web"]
    assert web
    for row in web:
        assert crm_owner[row["source_record_id"]] == row["person_id"]


def test_every_truth_record_appears_in_a_readable_row(sample):
    landing = sample["landing"]
    broken = _broken_lines(sample)
    seen: dict[str, set[str]] = defaultdict(set)
    for _, header, row in _good_rows(sample, "crm/*/*.csv"):
        seen["crm"].add(row[header.index("customer_id")])
    for _, header, row in _good_rows(sample, "esp/*/*members_export*.csv"):
        seen["esp"].add(row[header.index("LEID")])
    for _, header, row in _good_rows(sample, "sms/*/*.csv"):
        seen["sms"].add(
            row[header.index("To")] if row[header.index("Direction")] != "inbound" else row[header.index("From")]
        )
    for _, header, row in _good_rows(sample, "pos/*/orders_export_*.csv"):
        if row[header.index("Email")] or row[header.index("Billing Name")]:
            seen["pos"].add("order:" + row[header.index("Name")])
    for _, header, row in _good_rows(sample, "pos/*/receipts_*.csv"):
        if row[header.index("loyalty_card_id")]:
            seen["pos"].add(f"receipt:{row[header.index('store_id')]}:{row[header.index('receipt_id')]}")
    for path in sorted(landing.glob("sms/*/*.jsonl")) + sorted(landing.glob("web/*/*.jsonl")):
        rel = path.relative_to(landing).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
            if not line or (rel, number) in broken:
                continue
            event = json.loads(line)
            if rel.startswith("sms/"):
                seen["sms"].add(event["from"] if event["direction"] == "inbound" else event["to"])
            elif event["user_id"]:
                seen["web"].add(event["user_id"])
    for row in _truth(sample):
        assert row["source_record_id"] in seen[row["source"]], row


def test_broken_rows_really_are_broken_at_the_named_line(sample):
    manifest = json.loads(sample["manifest"].read_text())
    reasons = {b["reason"] for b in manifest["broken_rows"]}
    assert {"truncated last line", "unbalanced quote", "wrong number of fields"} <= reasons
    assert {b["source"] for b in manifest["broken_rows"]} >= {"crm", "esp", "sms", "pos", "web"}
    for entry in manifest["broken_rows"]:
        path = sample["landing"] / entry["file"]
        text = _text(path)
        lines = text.split("\r\n" if "\r\n" in text else "\n")
        if lines[-1] == "":
            lines.pop()  # the file ends with a newline
        line = lines[entry["line_number"] - 1]
        if path.suffix == ".jsonl":
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
        else:
            header = lines[0]
            delimiter = ";" if header.count(";") > header.count(",") else ","
            expected = len(header.split(delimiter))
            if entry["reason"] == "unbalanced quote":
                assert line.count('"') % 2 == 1
            else:
                assert len(next(csv.reader([line], delimiter=delimiter))) != expected
        if entry["reason"] in ("truncated last line", "unbalanced quote"):
            assert entry["line_number"] == len(lines)  # nothing after it, and no final newline needed
        if entry["reason"] == "truncated last line":
            assert not path.read_bytes().endswith(b"\n")


def test_duplicate_and_header_only_files(sample):
    manifest = json.loads(sample["manifest"].read_text())
    assert manifest["duplicate_files"]
    for original, copy in manifest["duplicate_files"]:
        assert original != copy
        assert (sample["landing"] / original).read_bytes() == (sample["landing"] / copy).read_bytes()
    for rel in manifest["header_only_files"]:
        assert len(_text(sample["landing"] / rel).strip().splitlines()) == 1
    assert {"seed", "customers", "days", "start_date"} <= manifest.keys()
    assert (manifest["seed"], manifest["customers"], manifest["days"], manifest["start_date"]) == (
        42,
        200,
        5,
        "2026-10-01",
    )


def test_encodings_windows_1252_and_bom(sample):
    legacy = (sample["landing"] / "crm/2026-10-01/customers_20261001.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        legacy.decode("utf-8")
    assert any(ch.encode("cp1252") in legacy for ch in "åäö")
    assert "ö".encode("utf-8") not in legacy
    bom = (sample["landing"] / "crm/2026-10-02/customers_20261002.csv").read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf")
    plain = (sample["landing"] / "pos/2026-10-01/orders_export_20261001.csv").read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf")
    plain.decode("utf-8")
    receipt = next((sample["landing"] / "pos/2026-10-01").glob("receipts_*.csv")).read_bytes()
    assert receipt.startswith(b"receipt_id;store_id;")


def test_nordic_letters_in_names(sample):
    names = "".join(row[1] + row[2] for _, _, row in _good_rows(sample, "crm/*/*.csv"))
    assert set("åäö") <= set(names.lower())


def test_phone_formats_vary_like_spreadsheets(sample):
    phones = [row[4] for _, _, row in _good_rows(sample, "crm/*/*.csv") if row[4]]
    phones += [row[3] for _, _, row in _good_rows(sample, "esp/*/*members_export*.csv") if row[3]]
    phones += [row[21] for _, _, row in _good_rows(sample, "pos/*/orders_export_*.csv") if row[21]]
    expected = {
        "+46 70 123 45 67": r"\+46 7\d \d{3} \d{2} \d{2}",
        "070-123 45 67": r"07\d-\d{3} \d{2} \d{2}",
        "0701234567": r"07\d{8}",
        "0046701234567": r"00467\d{8}",
        "46701234567": r"467\d{8}",
        "701234567": r"7\d{8}",
        "+46701234567": r"\+467\d{8}",
    }
    for example, pattern in expected.items():
        assert any(re.fullmatch(pattern, p) for p in phones), example
    assert any(p in ("0000000", "1234567", "0700000000") for p in phones)  # junk shows up too


def test_shopify_order_fields_only_on_first_row(sample):
    line_fields = {"Name", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku"}
    seen_multi_line = False
    for path in sorted(sample["landing"].glob("pos/*/orders_export_*.csv")):
        header, rows = _csv_rows(path)
        assert header == ORDER_HEADER
        names_seen: set[str] = set()
        for row in rows:
            if len(row) != len(header):
                continue  # a deliberately broken row
            record = dict(zip(header, row))
            if record["Name"] in names_seen:
                seen_multi_line = True
                assert all(not v for k, v in record.items() if k not in line_fields), record
            else:
                names_seen.add(record["Name"])
                assert record["Created at"] and record["Total"] and record["Id"]
                assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}", record["Created at"])
    assert seen_multi_line


def test_receipts_semicolon_decimal_comma_and_crm_cards(sample):
    crm_cards = {row[10] for _, _, row in _good_rows(sample, "crm/*/*.csv") if row[10]}
    cards = set()
    for _, header, row in _good_rows(sample, "pos/*/receipts_*.csv"):
        assert header == RECEIPT_HEADER
        assert re.fullmatch(r"[\d ]+,\d\d", row[header.index("unit_price")])
        if row[4]:
            cards.add(row[4])
    assert cards and cards <= crm_cards


def test_sms_keywords_and_both_formats(sample):
    bodies = [row[2] for _, _, row in _good_rows(sample, "sms/*/*.csv") if row[10] == "inbound"]
    for path in sorted(sample["landing"].glob("sms/*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            message = json.loads(line)
            assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000", message["date_sent"])
            if message["direction"] == "inbound":
                bodies.append(message["body"])
    assert bodies


def test_web_events_look_like_ga4(sample):
    events = []
    for path in sorted(sample["landing"].glob("web/*/events_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    names = {e["event_name"] for e in events}
    assert {"session_start", "page_view", "login", "add_to_cart", "purchase"} <= names
    for e in events:
        assert isinstance(e["event_timestamp"], int)
        assert any(p["key"] == "ga_session_id" for p in e["event_params"])
    purchases = [e for e in events if e["event_name"] == "purchase"]
    assert all(re.fullmatch(r"#\d+", e["ecommerce"]["transaction_id"]) for e in purchases)
    assert any(e["user_id"] is None for e in events) and any(e["user_id"] for e in events)


def test_web_redelivery_adds_late_events(sample):
    by_name = defaultdict(list)
    for path in sorted(sample["landing"].glob("web/*/events_*.jsonl")):
        by_name[path.name].append(path)
    redelivered = [paths for paths in by_name.values() if len(paths) > 1]
    assert redelivered
    for first, later in (paths[:2] for paths in redelivered):
        first_lines = [l for l in first.read_text(encoding="utf-8").splitlines()]
        later_lines = set(later.read_text(encoding="utf-8").splitlines())
        assert len(later_lines) > 0 and set(l for l in first_lines if l.endswith("}")) < later_lines | set()


def test_every_persons_records_are_linkable_and_identifiers_are_not_shared():
    built = build_records(Output(Path("/nonexistent"), 3), customers=400, days=10, seed=3, start_date=date(2026, 10, 1))
    by_person = defaultdict(list)
    owners = defaultdict(set)
    for rec in built["records"]:
        if rec.dropped:
            continue
        by_person[rec.person.person_id].append(rec)
        for token in linkability.tokens(rec):
            owners[token].add(rec.person.person_id)
    for person_id, records in by_person.items():
        assert len(linkability._components(records)) == 1, person_id
    assert all(len(people) == 1 for people in owners.values())
    assert built["linkage"]["dropped"] <= len(built["records"]) * 0.01


def test_known_answers(sample):
    truth = _truth(sample)
    orders = sorted(
        int(r["source_record_id"][len("order:#") :]) for r in truth if r["source_record_id"].startswith("order:")
    )
    assert orders[0] == 1001 and orders[-1] < 1001 + len(orders) + 5  # Shopify numbers orders in sequence
    header = (sample["landing"] / "crm/2026-10-01/customers_20261001.csv").read_bytes().split(b"\r\n")[0]
    assert header == (
        b"customer_id,first_name,last_name,email,phone,street,postcode,city,country,birth_date,"
        b"loyalty_card_id,created_at,updated_at,consent_email,consent_sms,consent_updated_at"
    )
    summary = sample["summary"]
    assert (summary["identity_records"], summary["files"]) == KNOWN_COUNTS
    assert truth[0] == KNOWN_FIRST_TRUTH_ROW


# Fixed by seed 42, 200 customers, 5 days (and the pinned Faker); change them only on purpose.
KNOWN_COUNTS = (473, 73)
KNOWN_FIRST_TRUTH_ROW = {"source": "crm", "source_record_id": "100729", "person_id": "P0000150"}


def tree_digest(root: Path) -> str:
    """One sha256 over every file's path and content under root."""
    digest = hashlib.sha256()
    for path, file_hash in _checksums(root).items():
        digest.update(path.encode() + b"\0" + bytes.fromhex(file_hash))
    return digest.hexdigest()


def test_same_bytes_as_the_reference(sample):
    # Every landing, truth and manifest byte of the 200-customer sample, as the generator writes
    # them since receipts, web sessions, SMS messages and campaign activity are drawn as numpy
    # columns (columns.py): a speed-up that keeps the draws must not change a byte. Change only
    # on purpose, with KNOWN_COUNTS.
    assert tree_digest(sample["root"]) == KNOWN_TREE_DIGEST


KNOWN_TREE_DIGEST = "9c2f8e3ee7aee8bdd99897cde667c67ec28b001ff943153f8aa2d9e529aa9f84"


@pytest.mark.parametrize("locale", ["sv_SE", "da_DK", "no_NO", "fi_FI", "de_DE", "en_GB"])
def test_fast_faker_draws_what_faker_draws(locale):
    from faker import Faker

    from cdp_pipeline.lib.sample_data.fastfaker import fast_generator

    plain = Faker(locale)
    plain.seed_instance(17)
    plain._factories[0].random = FastRandom(17)  # the stream fast_generator gives its Generator
    fast = fast_generator(locale, 17)
    calls = random.Random(locale)
    for name in [calls.choice(FAKER_CALLS) for _ in range(3000)]:
        assert getattr(fast, name)() == getattr(plain, name)(), name
    assert fast.random.random() == plain.random.random()  # and the stream continues alike


def test_fast_numerify_draws_what_faker_draws():
    from faker import Faker

    from cdp_pipeline.lib.sample_data.fastfaker import fast_generator

    plain = Faker("sv_SE")
    plain.seed_instance(23)
    plain._factories[0].random = FastRandom(23)
    fast = fast_generator("sv_SE", 23)
    (address,) = [p for p in fast.providers if type(p).__name__ == "Provider" and "address" in type(p).__module__]
    (plain_address,) = [p for p in plain._factories[0].providers if type(p) is type(address)]
    assert address.numerify is not plain_address.numerify  # the fast one is in place
    for text in ("#%$!@ ##-%%!!@@ x", "###", "", "no marks", "@@@!!!$$$"):
        for _ in range(300):
            assert address.numerify(text) == plain_address.numerify(text), text
    assert fast.random.random() == plain.random.random()


FAKER_CALLS = ("first_name_female", "first_name_male", "last_name", "street_address", "postcode", "city")


def test_time_renderings_are_the_strftime_ones():
    from zoneinfo import ZoneInfo

    from cdp_pipeline.lib.sample_data import timeutil

    rng = random.Random(3)
    zones = (ZoneInfo("Europe/Stockholm"), ZoneInfo("Europe/Copenhagen"), timeutil.UTC)
    for _ in range(3000):
        ts = datetime(1935, 1, 1, tzinfo=rng.choice(zones)) + timedelta(seconds=rng.randrange(95 * 365 * 86400))
        assert timeutil.plain(ts) == ts.strftime("%Y-%m-%d %H:%M:%S")
        assert timeutil.with_offset(ts) == ts.strftime("%Y-%m-%d %H:%M:%S %z")
        assert timeutil.rfc2822(ts) == ts.astimezone(timeutil.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    assert timeutil.with_offset(datetime(2026, 10, 1, 12)) == "2026-10-01 12:00:00 "  # naive: strftime's


def test_event_lines_are_what_json_dumps_writes(tmp_path):
    from cdp_pipeline.lib.sample_data import web

    out = Output(tmp_path, 5)
    built = build_records(out, customers=300, days=6, seed=5, start_date=date(2026, 10, 1))
    web.write(out, built["web_sessions"], 6, date(2026, 10, 1))
    broken = {row["file"] for row in out.broken_rows}
    events = []
    for path in sorted(tmp_path.glob("web/*/*.jsonl")):
        lines = path.read_text(encoding="utf-8").split("\n")
        last = lines.pop()  # after the final line break; a deliberately truncated line has none
        assert (last != "") == (path.relative_to(tmp_path).as_posix() in broken)
        for line in lines:
            record = json.loads(line)
            assert json.dumps(record, ensure_ascii=False, separators=(",", ":")) == line
            assert list(record) == GA4_FIELDS
            events.append(record)
    assert any(e["items"] for e in events) and any(e["user_id"] for e in events)
    assert any(e["ecommerce"] for e in events) and any(e["event_name"] == "login" for e in events)


GA4_FIELDS = [
    "event_date",
    "event_timestamp",
    "event_name",
    "event_params",
    "user_pseudo_id",
    "user_id",
    "user_first_touch_timestamp",
    "device",
    "geo",
    "traffic_source",
    "ecommerce",
    "items",
]


@pytest.mark.parametrize(("delimiter", "newline"), [(",", "\n"), (";", "\r\n"), (",", "\r\n")])
def test_csv_rows_are_what_the_csv_writer_writes(delimiter, newline):
    from cdp_pipeline.lib.sample_data.output import _write_rows

    rng = random.Random(delimiter + newline)
    alphabet = ["a", "Ö", " ", ",", ";", '"', "\n", "\r", "1", "€", "\t"]
    rows = []
    for _ in range(3000):
        width = rng.choice((1, 1, 2, 3, 6))
        row = ["".join(rng.choice(alphabet) for _ in range(rng.choice((0, 0, 1, 2, 5)))) for _ in range(width)]
        if rng.random() < 0.05:
            row[0] = rng.choice((None, 7, 2.5))
        rows.append(row)
    rows += [[""], ["", ""], [], ["x"], ("a", "b")]
    # long runs of rows that need no quoting, with a few that do: whole chunks go as one join
    clean = ["a", "Ö", " ", "1", "€", "\t", ""]
    for _run in range(12):
        for _ in range(rng.choice((10, 300, 700))):
            rows.append(["".join(rng.choice(clean) for _ in range(3)) for _ in range(rng.choice((2, 4)))])
        rows.append(rng.choice((["x", "y,z"], ['"q"', "r"], ["s\nt", "u"], ["v\r", "w"], ["only"])))
    expected, actual = io.StringIO(), io.StringIO()
    csv.writer(expected, delimiter=delimiter, lineterminator=newline).writerows(rows)
    writer = csv.writer(actual, delimiter=delimiter, lineterminator=newline)
    _write_rows(actual, writer, rows, delimiter, newline)
    assert actual.getvalue() == expected.getvalue()
    joined = [
        row
        for row in rows
        if len(row) >= 2 and all(isinstance(f, str) and not set(f) & set(delimiter + '"\r\n') for f in row)
    ]
    assert len(joined) > 100  # the joined rows, not only the writer's, are compared


def test_truth_rows_are_sorted_once_each_and_a_record_has_one_person():
    from types import SimpleNamespace

    from cdp_pipeline.lib.sample_data.records import IdRecord

    anna, bo = SimpleNamespace(person_id="P0000002"), SimpleNamespace(person_id="P0000001")
    records = [
        IdRecord("sms", "sms", "+46701", anna),
        IdRecord("crm", "crm", "100", anna),
        IdRecord("crm", "crm", "101", bo),
        IdRecord("sms", "sms", "+46701", anna),  # the same record twice: one row
        IdRecord("esp", "esp", "7", bo, dropped=True),
    ]
    assert linkability.truth_rows(records) == [
        ("crm", "100", "P0000002"),
        ("crm", "101", "P0000001"),
        ("sms", "+46701", "P0000002"),
    ]
    with pytest.raises(AssertionError, match="two people share the record crm:100"):
        linkability.truth_rows([*records, IdRecord("crm", "crm", "100", bo)])


def test_a_receipt_dropped_after_its_file_was_written_stops_the_run(tmp_path, monkeypatch):
    from cdp_pipeline.lib.sample_data import generate

    def linkage_dropping_a_receipt(records):
        result = linkability.make_linkable(records)
        next(rec for rec in records if rec.kind == "receipt").dropped = True
        return result

    kwargs = {"customers": 60, "days": 3, "seed": 4, "start_date": date(2026, 10, 1)}
    built = build_records(Output(tmp_path / "a", 4), write_receipts=True, **kwargs)
    assert built["receipts"] and built["receipt_table"] is None
    assert list((tmp_path / "a").glob("pos/*/receipts_*.csv"))  # written while building
    monkeypatch.setattr(generate, "make_linkable", linkage_dropping_a_receipt)
    with pytest.raises(AssertionError, match="dropped a receipt already written"):
        build_records(Output(tmp_path / "b", 4), write_receipts=True, **kwargs)


def test_sms_json_lines_are_what_the_encoder_writes():
    from cdp_pipeline.lib.sample_data import sms

    ts = datetime(2026, 10, 3, 8, 15, 2, tzinfo=timezone.utc)
    bodies = ["STOP", "Ok 👍", 'Säg "hej"', "back\\slash", "rad\nbrytning", "tab\there", "x" * 200, ""]
    for body in bodies:
        for error, price, direction in (
            (None, "-0.04830", "outbound-api"),
            (21610, "", "outbound-api"),
            (None, "-0.00750", "inbound"),
        ):
            m = {"sid": "SM" + "0f" * 16, "from": "+46766860100", "to": "+46701234567", "body": body}
            m.update(status="failed" if error else "delivered", error=error, price=price, direction=direction)
            m["date_sent"] = sms.rfc2822(ts)
            assert sms._json_line(m) == sms._json_line_encoded(m), m


def test_the_samples_opt_out_replies_are_the_replies_the_pipeline_reads_as_opt_outs():
    from cdp_pipeline.lib.sample_data import sms
    from cdp_pipeline.lib.staging.consent import sms_keyword

    replies = {*sms.STOP_WORDS, *sms.OTHER_REPLIES}
    assert {r for r in replies if sms_keyword(r) == "opt_out"} == sms.OPT_OUT_REPLIES
    assert {"stopp", "STOP PLEASE"} <= sms.OPT_OUT_REPLIES
    assert {sms_keyword(r) for r in sms._START_WORDS} == {"opt_in"}


def test_a_number_gets_no_campaign_after_an_opt_out_reply_until_it_writes_start():
    """The sample's own expectation, as the pipeline reads the replies: every reply the pipeline reads
    as an opt-out is confirmed, and no campaign goes to that number (only Twilio's refusals, 21610)
    until it writes START."""
    from cdp_pipeline.lib.sample_data import sms
    from cdp_pipeline.lib.sample_data.columns import column_rng
    from cdp_pipeline.lib.staging.consent import sms_keyword

    m = sms._draw_messages(column_rng("42/sms/messages"), [None] * 3000, 60, date(2026, 10, 1))
    by_number = defaultdict(list)
    for who, when, kind, text in zip(m["who"].tolist(), m["when"].tolist(), m["kind"].tolist(), m["text"].tolist()):
        by_number[who].append((when, kind, text))
    opt_outs, words, campaigns_after_start = 0, set(), 0
    for messages in by_number.values():
        opted_out, restarted = False, False
        confirmations = {when for when, kind, text in messages if kind == sms._CONFIRM and text == sms._STOP_TEXT}
        for when, kind, text in sorted(messages):
            if kind == sms._REPLY:
                keyword = sms_keyword(sms._TEXTS[text])
                if keyword == "opt_out":
                    assert when + 2 in confirmations, sms._TEXTS[text]
                    opted_out, restarted = True, False
                    opt_outs += 1
                    words.add(sms._TEXTS[text])
                elif keyword == "opt_in":
                    opted_out, restarted = False, True
            elif kind == sms._CAMPAIGN:
                assert not opted_out
                campaigns_after_start += restarted
    assert opt_outs > 100 and {"stopp", "STOP PLEASE"} <= words and campaigns_after_start > 0
