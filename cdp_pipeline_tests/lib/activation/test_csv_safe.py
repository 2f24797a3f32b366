"""Formula neutralisation, validated raw columns, owner-only files."""

import stat

import pytest

from cdp_pipeline.lib.activation.csv_safe import neutralise_cell, render_csv, write_csv
from cdp_pipeline_tests.lib.activation.reference_rows import read_csv_rows


@pytest.mark.parametrize(
    "value, expected",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+46701234567", "'+46701234567"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Anna", "Anna"),
        ("", ""),
        (None, ""),
        ("a=b", "a=b"),
        # a prefix after whitespace or quotes only: an import that trims them meets the formula
        (' =HYPERLINK("http://x")', '\' =HYPERLINK("http://x")'),
        ("\u00a0+1", "'\u00a0+1"),
        ("\u3000-2", "'\u3000-2"),
        ('"@SUM(A1)', "'\"@SUM(A1)"),
        ("' =1", "'' =1"),
        ("\n=1", "'\n=1"),
        (" Anna", " Anna"),
        ("Anna =1", "Anna =1"),
    ],
)
def test_neutralise_cell(value, expected):
    assert neutralise_cell(value) == expected


def test_raw_columns_are_written_as_is_and_the_rest_neutralised(tmp_path):
    path = tmp_path / "x.csv"
    write_csv(path, ["phone", "tags"], [{"phone": "+46701234567", "tags": "=1+1"}], raw_columns=["phone"])
    assert read_csv_rows(path) == [{"phone": "+46701234567", "tags": "'=1+1"}]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_render_quotes_commas_and_newlines():
    data = render_csv(["a"], [{"a": "x,y\nz"}]).decode()
    assert data == 'a\n"x,y\nz"\n'
