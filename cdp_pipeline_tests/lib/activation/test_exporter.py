"""Rows per destination kind, the consent gate, deltas and the files of an export."""

import json
import stat
from datetime import date

import pytest

from cdp_pipeline.lib.activation.csv_safe import file_sha256
from cdp_pipeline.lib.activation.destinations import load_destinations, parse_destinations
from cdp_pipeline.lib.activation.exporter import diff_rows, write_export
from cdp_pipeline.lib.segments.definitions import parse_segment_definitions
from cdp_pipeline_tests.lib.activation.reference_rows import (
    apply_consent,
    build_rows,
    read_csv_rows,
    unconsented_file_rows,
)


def _c(cid, **kw):
    base = {
        "customer_id": cid,
        "email": f"{cid}@example.se",
        "phone": "+4670000000" + cid[-1],
        "first_name": cid.upper(),
        "loyalty_card_ids": [f"LC-{cid}"],
        "segments": ["a"],
        "email_contactable": True,
        "sms_contactable": True,
    }
    base.update(kw)
    return base


def _dest(kind, consent=()):
    return parse_destinations([{"name": "d", "kind": kind, "segments": ["a", "b"], "required_consent": list(consent)}])[
        0
    ]


def test_channel_consent_cannot_be_configured_away():
    assert _dest("esp").required_consent == ("email",)
    assert _dest("sms").required_consent == ("sms",)
    assert _dest("pos").required_consent == ()
    with pytest.raises(ValueError, match="unknown kind"):
        parse_destinations([{"name": "x", "kind": "fax", "segments": ["a"]}])
    with pytest.raises(ValueError, match="consent"):
        parse_destinations([{"name": "x", "kind": "esp", "segments": ["a"], "required_consent": ["post"]}])
    assert {d.kind for d in load_destinations()} == {"esp", "sms", "meta_audience", "google_customer_match", "pos"}


def test_gate_drops_customers_without_required_consent_and_strips_unconsented_identifiers():
    people = [_c("c1"), _c("c2", email_contactable=False), _c("c3", sms_contactable=None)]
    kept, dropped = apply_consent(people, _dest("esp"))
    assert [k["customer_id"] for k in kept] == ["c1", "c3"] and dropped == 1
    assert kept[1]["phone"] is None  # no SMS consent: the phone goes nowhere
    kept, dropped = apply_consent(people, _dest("meta_audience"))
    assert dropped == 0
    rows = build_rows(_dest("meta_audience"), kept).rows
    by_id = {r.customer_id: r for r in rows}
    assert by_id["c2"].values["email"] == "" and by_id["c2"].sent_email is False
    assert by_id["c3"].values["phone"] == "" and by_id["c3"].sent_phone is False


def test_rows_per_kind():
    esp = build_rows(
        _dest("esp"), [_c("c1", first_name="=cmd()", segments=["b", "a"]), _c("c2", email="-x@example.se")]
    )
    assert [r.values for r in esp.rows] == [{"email": "c1@example.se", "first_name": "=cmd()", "tags": "a,b"}]
    assert esp.skipped_no_identifier == 1  # an address starting with '-' is not sent raw
    sms = build_rows(_dest("sms"), [_c("c1"), _c("c2", phone="0701234567")])
    assert [r.values for r in sms.rows] == [{"phone": "+46700000001", "tags": "a"}]
    pos = build_rows(_dest("pos"), [_c("c1", loyalty_card_ids=["LC-2", "LC-1"], segments=["b"])])
    assert [r.values for r in pos.rows] == [
        {"loyalty_card_id": "LC-1", "a": 0, "b": 1},
        {"loyalty_card_id": "LC-2", "a": 0, "b": 1},
    ]
    dup = build_rows(_dest("esp"), [_c("c1"), _c("c2", email="c1@example.se")])
    assert len(dup.rows) == 1 and dup.duplicate_keys == 1


def test_diff_rows():
    prev = {"a": {"k": "a", "v": 1}, "b": {"k": "b", "v": 1}, "c": {"k": "c", "v": 1}}
    cur = {"a": {"k": "a", "v": 1}, "b": {"k": "b", "v": 2}, "d": {"k": "d", "v": 1}}
    d = diff_rows(prev, cur)
    assert d.added == [{"k": "d", "v": 1}]
    assert d.updated == [{"k": "b", "v": 2}]
    assert d.removed == [{"k": "c", "v": 1}]


def test_write_export_files_manifest_and_neutralisation(tmp_path):
    dest = _dest("sms")
    prev = {
        "+46700000001": {"phone": "+46700000001", "tags": "a"},
        "+46700000002": {"phone": "+46700000002", "tags": "a"},
    }
    cur = {
        "+46700000001": {"phone": "+46700000001", "tags": "a,b"},
        "+46700000003": {"phone": "+46700000003", "tags": "=a"},
    }
    out = write_export(tmp_path, dest, date(2025, 6, 2), cur, prev, date(2025, 6, 1))
    folder = tmp_path / "d" / "2025-06-02"
    assert out.directory == folder
    full = read_csv_rows(folder / "full.csv")
    assert full == [{"phone": "+46700000001", "tags": "a,b"}, {"phone": "+46700000003", "tags": "'=a"}]
    assert [r["phone"] for r in read_csv_rows(folder / "delta_added.csv")] == ["+46700000003", "+46700000001"]
    assert read_csv_rows(folder / "delta_removed.csv") == [{"phone": "+46700000002", "tags": "a"}]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["rows"] == 2 and manifest["delta"] == {"added": 1, "updated": 1, "removed": 1}
    assert manifest["previous_run_date"] == "2025-06-01" and manifest["required_consent"] == ["sms"]
    assert manifest["files"]["full"]["sha256"] == file_sha256(folder / "full.csv")
    for f in folder.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_file_verification_flags_identifiers_golden_does_not_allow():
    dest = _dest("esp")
    allowed = {"email": {"ok@example.se"}}
    # rows as a destination reads them: keyed by the file's header
    column = "Email Address"
    assert unconsented_file_rows([{column: "ok@example.se"}], dest, allowed) == []
    problems = unconsented_file_rows(
        [{column: "ok@example.se"}, {column: "nope@example.se"}, {column: ""}], dest, allowed
    )
    assert problems == [
        "line 3: Email Address is not a consented identifier of a current customer",
        "line 4: no identifier",
    ]


@pytest.mark.parametrize("name", ["../x", "..", "a/b", "a\\b", "/etc", "x\x00", "Newsletter", "nyhetsbrev.se", "é"])
def test_a_destination_or_segment_name_that_is_not_a_plain_folder_name_is_refused(name):
    """A destination's name is its folder under the export dir and a segment's a POS column:
    nothing that walks out of the folder or reads as a path may pass."""
    with pytest.raises(ValueError, match="name"):
        parse_destinations({"destinations": [{"name": name, "kind": "esp", "segments": ["a"]}]})
    with pytest.raises(ValueError, match="name"):
        parse_segment_definitions({"segments": [{"name": name, "predicate": "true"}]})


@pytest.mark.parametrize("name", ["con", "prn", "aux", "nul", "com1", "com9", "lpt1", "lpt9"])
def test_a_destination_named_as_a_windows_device_is_refused(name):
    """Windows cannot create or open a folder called CON, AUX, COM1... (any case): the destination's
    export folder would not survive a copy to a Windows share or laptop."""
    with pytest.raises(ValueError, match="Windows reserves"):
        parse_destinations({"destinations": [{"name": name, "kind": "esp", "segments": ["a"]}]})


@pytest.mark.parametrize("name", ["console", "con_se", "com0", "com10", "lpt", "auxiliary", "null"])
def test_a_destination_name_that_only_starts_like_a_windows_device_is_kept(name):
    (dest,) = parse_destinations({"destinations": [{"name": name, "kind": "esp", "segments": ["a"]}]})
    assert dest.name == name
