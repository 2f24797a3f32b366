"""Known answers: each ad platform's hash of each identifier, computed here from the literal form."""

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from cdp_pipeline.lib.activation import hashing
from cdp_pipeline.lib.activation.destinations import parse_destinations
from cdp_pipeline_tests.lib.activation.reference_rows import build_rows

EMAIL_HASH = hashlib.sha256(b"anna.berg@example.se").hexdigest()
META_PHONE_HASH = hashlib.sha256(b"46701234567").hexdigest()
GOOGLE_PHONE_HASH = hashlib.sha256(b"+46701234567").hexdigest()


def test_known_answers_of_the_hash_functions():
    assert hashing.hashed_email("  Anna.Berg@Example.SE ") == EMAIL_HASH
    assert hashing.meta_hashed_phone("+46701234567") == META_PHONE_HASH
    assert hashing.google_hashed_phone("+46701234567") == GOOGLE_PHONE_HASH
    # The literal digests, so a change of the test helper cannot hide a change of format.
    assert EMAIL_HASH == hashlib.sha256("anna.berg@example.se".encode()).hexdigest()
    assert META_PHONE_HASH != GOOGLE_PHONE_HASH


def test_a_phone_that_is_not_e164_gets_no_hash():
    assert hashing.meta_hashed_phone("0701234567") is None
    assert hashing.google_hashed_phone("070-123 45 67") is None


def _customer(**kw):
    base = {
        "customer_id": "c1",
        "email": " Anna.Berg@example.se",
        "phone": "+46701234567",
        "first_name": "Anna",
        "loyalty_card_ids": [],
        "segments": ["champions"],
        "email_contactable": True,
        "sms_contactable": True,
    }
    base.update(kw)
    return base


def test_exported_rows_of_both_platforms_equal_the_known_answers():
    meta, google = parse_destinations(
        [
            {"name": "m", "kind": "meta_audience", "segments": ["champions"]},
            {"name": "g", "kind": "google_customer_match", "segments": ["champions"]},
        ]
    )
    assert build_rows(meta, [_customer()]).rows[0].values == {"email": EMAIL_HASH, "phone": META_PHONE_HASH}
    assert build_rows(google, [_customer()]).rows[0].values == {"Email": EMAIL_HASH, "Phone": GOOGLE_PHONE_HASH}


@given(st.from_regex(r"\+[1-9][0-9]{7,13}", fullmatch=True))
def test_meta_and_google_phone_forms_differ_only_by_the_plus(phone):
    assert "+" + hashing.meta_phone(phone) == hashing.google_phone(phone) == phone
