"""The Arrow wrapper calls Python once per distinct argument tuple of a batch and gives
exactly what a row-by-row call gives: same values, NULL handling and failures as NULL."""

import random

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdp_pipeline.lib.staging.udfs import _arrow_udf, _safe, register_udfs, udf_specs

# Few distinct values, so that a batch repeats them; "boom" makes the function fail.
VALUES = st.one_of(st.none(), st.sampled_from(["a", "b", "B", "a ", "", "boom", "åsa", "x" * 300]))


def _fn(*args):
    if "boom" in args:
        raise ValueError("unreadable")
    return "|".join("-" if a is None else a for a in args)


def _row_by_row(fn, columns, null_in_null_out):
    """What the wrapper must give: the function per row, its NULL rules, a failure as None."""
    out = []
    for row in zip(*columns):
        if (None in row) if null_in_null_out else row[0] is None:
            out.append(None)
        else:
            out.append(_safe(fn, *row))
    return out


def _chunked(values, cut):
    # DuckDB hands the function chunked arrays; the wrapper must not depend on the chunking.
    return pa.chunked_array([pa.array(values[:cut], pa.string()), pa.array(values[cut:], pa.string())])


@given(st.lists(st.tuples(VALUES, VALUES), max_size=60), st.booleans(), st.sampled_from([1, 2]), st.integers(0, 60))
def test_wrapper_matches_row_by_row(rows, null_in_null_out, arity, cut):
    columns = [[row[i] for row in rows] for i in range(arity)]
    udf = _arrow_udf(_fn, "VARCHAR", null_in_null_out, arity)
    result = udf(*(_chunked(c, cut) for c in columns))
    assert result.to_pylist() == _row_by_row(_fn, columns, null_in_null_out)


@pytest.mark.parametrize("null_in_null_out", [True, False])
def test_wrapper_calls_once_per_distinct_arguments(null_in_null_out):
    calls = []

    def fn(a, b):
        calls.append((a, b))
        return f"{a}{b}"

    a = ["x", "y", "x", None, "x", "y", "z"] * 100
    b = ["1", None, "1", "1", "2", None, None] * 100
    result = _arrow_udf(fn, "VARCHAR", null_in_null_out, 2)(_chunked(a, 350), _chunked(b, 350))
    wrapper_calls = sorted(calls, key=str)
    assert result.to_pylist() == _row_by_row(fn, [a, b], null_in_null_out)
    expected_calls = {(x, y) for x, y in zip(a, b) if x is not None and (y is not None or not null_in_null_out)}
    assert wrapper_calls == sorted(expected_calls, key=str)  # each distinct tuple once


def test_one_failing_value_is_null_and_the_rest_are_kept():
    udf = _arrow_udf(_fn, "VARCHAR", True, 1)
    assert udf(_chunked(["a", "boom", "b", "boom", None], 2)).to_pylist() == ["a", None, "b", None, None]


@pytest.mark.parametrize("values", [[], [None, None, None]])
def test_empty_and_all_null_batches(values):
    for return_type in ("VARCHAR", "VARCHAR[]", "DATE", "DECIMAL(18,2)", "BOOLEAN"):
        udf = _arrow_udf(lambda a, b: None, return_type, False, 2)
        assert udf(_chunked(values, 1), _chunked(values, 1)).to_pylist() == values


# Messy text of every kind the functions read, each repeated in the table below.
POOL = [
    "070-123 45 67",
    "+46 70 123 45 67",
    "0046701234567",
    "4.67012E+10",
    "0000000",
    "20123456",
    " Anna@Firma.SE ",
    "test@test.com",
    "mailto:bo@x.se",
    "ANNA SVENSSON",
    "Svensson, Anna",
    "Åsa Öberg",
    "Unknown",
    "STORGATAN 1",
    "Storg. 1",
    "STOCKHOLM",
    "12345",
    "114 53",
    "123456",
    "Sverige",
    "DK",
    "02.03.1985",
    "1885-01-01",
    "1980-02-30",
    "2016-04-18 13:51:14",
    "2016-04-18T13:51:14+02:00",
    "1476790000",
    "1 234,50",
    "$3.00",
    "-",
    "ja",
    "nej",
    "x",
    " stop ",
    "START",
    "",
    " ",
    "x" * 10_000,
    None,
]
SECOND = [None, "SE", "DK", "Sverige", "UTC", "Europe/Stockholm", "Mars/Olympus", "EUR", ""]


def test_every_function_gives_the_same_through_arrow_batches_as_row_by_row():
    rng = random.Random(7)
    rows = [(i, rng.choice(POOL), rng.choice(SECOND)) for i in range(5_000)]  # several DuckDB batches
    results = {}
    for vectorised in (True, False):
        con = duckdb.connect()
        register_udfs(con, vectorised=vectorised)
        con.execute("CREATE TABLE t (id INTEGER, a VARCHAR, b VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        for name, _fn, parameters, _type, _nulls in udf_specs():
            call = f"{name}(a, b)" if len(parameters) == 2 else f"{name}(a)"
            results[vectorised, name] = con.execute(f"SELECT {call} FROM t ORDER BY id").fetchall()
        con.close()
    for name, *_ in udf_specs():
        assert results[True, name] == results[False, name], name
