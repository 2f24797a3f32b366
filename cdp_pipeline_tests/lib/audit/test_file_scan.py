"""The byte scan behind no_erased_identifiers_remain: what it finds, and which files it may skip."""

import hashlib

from cdp_pipeline.lib.audit import file_scan
from cdp_pipeline.lib.audit.file_scan import CleanFiles, FileMatch, scan_file
from cdp_pipeline.lib.audit.scan import IdentifierSet
from cdp_pipeline.lib.audit.suppression import identifier_hash

EMAIL = "Erased.Person@example.org"
PHONE = "+46701234567"
SALT = "s3cret"


def test_literals_are_found_case_insensitively_across_chunk_boundaries_and_counted_once(tmp_path):
    chunk = file_scan._CHUNK
    data = bytearray(b"x" * (3 * chunk))
    data[chunk - 5 : chunk - 5 + len(EMAIL)] = EMAIL.upper().encode()  # straddles the first boundary
    data[2 * chunk : 2 * chunk + len(EMAIL)] = EMAIL.encode()  # starts exactly on the second
    data[100 : 100 + len(PHONE)] = PHONE.encode()
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(data))

    match = scan_file(path, IdentifierSet.of([EMAIL, PHONE, "+46709999999"]))
    assert match is not None and match.identifiers == 3

    path.write_bytes(b"x" * 50 + "Åsa.Öberg@example.se".encode())  # not ASCII: found as written
    assert scan_file(path, IdentifierSet.of(["Åsa.Öberg@Example.se"])) == FileMatch(path, identifiers=1, suppressed=0)


def test_phones_glued_to_their_neighbours_are_found_through_the_suppression_hashes(tmp_path):
    path = tmp_path / "report.json"
    path.write_bytes(b'{"x":"a' + PHONE.encode() + b'9"}')
    match = scan_file(path, IdentifierSet(), {identifier_hash(PHONE, SALT)}, SALT)
    assert match is not None and match.suppressed == 1
    assert scan_file(path, IdentifierSet(), {identifier_hash("+46700000000", SALT)}, SALT) is None


def test_a_file_found_clean_is_not_read_again_until_its_bytes_or_the_values_sought_change(tmp_path, monkeypatch):
    record = CleanFiles(tmp_path / "clean.json")
    path = tmp_path / "cdp.duckdb"
    clean_bytes = b"nothing to see " * 1000
    path.write_bytes(clean_bytes)
    ids = IdentifierSet.of([EMAIL])
    assert scan_file(path, ids, clean_files=record) is None

    reads = []
    monkeypatch.setattr(file_scan, "_count_literals", lambda *a, **k: reads.append(1) or 0)
    assert scan_file(path, ids, clean_files=CleanFiles(tmp_path / "clean.json")) is None
    assert reads == []  # same bytes, same values: skipped
    (tmp_path / "copy.duckdb").write_bytes(clean_bytes)  # another name, same bytes: skipped
    assert scan_file(tmp_path / "copy.duckdb", ids, clean_files=record) is None and reads == []
    assert scan_file(path, IdentifierSet.of([EMAIL, PHONE]), clean_files=record) is None
    assert reads == [1]  # a new erasure: read again
    monkeypatch.undo()

    # the same size, one value written in place: read again, and found
    data = bytearray(clean_bytes)
    data[40 : 40 + len(EMAIL)] = EMAIL.encode()
    path.write_bytes(bytes(data))
    assert scan_file(path, ids, clean_files=record) == FileMatch(path, identifiers=1, suppressed=0)

    # the record holds no identifier, nor a hash anyone could compute from one without the salt
    text = (tmp_path / "clean.json").read_text().lower()
    assert EMAIL.lower() not in text and hashlib.sha256(EMAIL.lower().encode()).hexdigest() not in text
