"""A ParsedFile's columns may be Python lists or Arrow arrays: suppression, the ESP status fill
and the raw insert give the same rows either way."""

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from cdp_pipeline.lib.audit.suppression import SuppressionList, drop_suppressed_rows, identifier_hash
from cdp_pipeline.lib.raw import ledger
from cdp_pipeline.lib.raw.file_kinds import ESP_MEMBERS
from cdp_pipeline.lib.raw.files import LandingFile
from cdp_pipeline.lib.raw.load import FileOutcome, _write_files, parse_file
from cdp_pipeline.lib.raw.parsed import ParsedFile, as_arrow, take_rows, to_pylist

ORDERS = (
    "Name,Email,Total,Lineitem name,Billing Phone,Gift note\n"
    "#6001,anna@x.se,10.00,Gloves,,hi\n"
    "#6001,,,Scarf,,\n"
    "#6002,bo@y.se,5.00,Cap,,\n"
    "#6003,,7.00,Hat,+46 70 123 45 67,\n"
    "#6004,cy@z.se,1.00,Pin,,\n"
).encode()
SALT = "s"
ERASED = SuppressionList(
    frozenset({identifier_hash("anna@x.se", SALT), identifier_hash("+46701234567", SALT)}), SALT, "SE"
)


def as_arrow_file(p: ParsedFile, chunked: bool = False) -> ParsedFile:
    def conv(values, type):
        arr = pa.array(values, type=type)
        return pa.chunked_array([arr.slice(0, 2), arr.slice(2)]) if chunked else arr

    return ParsedFile(
        kind=p.kind,
        encoding=p.encoding,
        delimiter=p.delimiter,
        columns={c: conv(v, pa.string()) for c, v in p.columns.items()},
        extra=conv(p.extra, pa.string()),
        # DuckDB hands row numbers over as int32 or int64: either is cast
        lines=conv(p.lines, pa.int32()),
        quarantined=list(p.quarantined),
        notes=list(p.notes),
    )


def raw_rows(p: ParsedFile, select: str = "* EXCLUDE (_loaded_at)") -> list[tuple]:
    con = duckdb.connect()
    ledger.ensure_ingest_tables(con, (p.kind.table,))
    lf = LandingFile(p.kind.source, dt.date(2026, 10, 1), Path("f.csv"), "f.csv", 1, "0")
    out = FileOutcome(file=lf, status="loaded", file_kind=p.kind.name, rows_loaded=p.rows_loaded)
    _write_files(con, [(lf, out, p)], dt.datetime(2026, 10, 1))
    return con.execute(f"SELECT {select} FROM raw.{p.kind.table} ORDER BY _line").fetchall()


@pytest.mark.parametrize("chunked", [False, True])
def test_suppression_and_insert_give_the_same_rows_from_lists_and_from_arrow(chunked):
    as_lists = parse_file("pos", "orders_export.csv", ORDERS).to_lists()
    as_arrays = as_arrow_file(as_lists, chunked)
    assert drop_suppressed_rows(as_lists, ERASED) == 3  # Anna's order (both lines) and the erased phone
    assert drop_suppressed_rows(as_arrays, ERASED) == 3
    assert as_lists.lines == [4, 6]
    assert isinstance(as_arrays.lines, (pa.Array, pa.ChunkedArray))  # each column keeps its form
    assert to_pylist(as_arrays.lines) == [4, 6]
    assert to_pylist(as_arrays.columns["email"]) == ["bo@y.se", "cy@z.se"]
    rows = raw_rows(as_lists)
    assert rows == raw_rows(as_arrays)
    assert raw_rows(as_arrays, "name, email, _line, _extra") == [
        ("#6002", "bo@y.se", 4, '{"Gift note": ""}'),
        ("#6004", "cy@z.se", 6, '{"Gift note": ""}'),
    ]


def test_the_esp_status_from_the_file_name_fills_an_arrow_status_column():
    data = b"Email Address,First Name\na@b.se,A\nc@d.se,C\n"
    p = parse_file("esp", "unsubscribed_members_export_1.csv", data)
    assert p.kind is ESP_MEMBERS
    assert isinstance(p.lines, pa.Array)  # read by the Arrow CSV path
    assert to_pylist(p.columns["status"]) == ["unsubscribed", "unsubscribed"]
    assert raw_rows(p, "email_address, status") == [("a@b.se", "unsubscribed"), ("c@d.se", "unsubscribed")]


def test_helpers_keep_the_form_of_their_input():
    assert take_rows([5, 6, 7], [0, 2]) == [5, 7]
    assert take_rows(pa.array([5, 6, 7]), [0, 2]).to_pylist() == [5, 7]
    assert as_arrow(pa.array([1], type=pa.int32()), pa.int64()).type == pa.int64()
    assert as_arrow(["a", None], pa.string()).to_pylist() == ["a", None]
