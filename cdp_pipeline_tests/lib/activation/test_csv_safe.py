"""Formula neutralisation, validated raw columns, owner-only files."""

import stat

import pytest

from cdp_pipeline.lib.activation.csv_safe import neutralise_cell, render_csv, split_csv, write_csv
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


def test_split_csv_cuts_only_between_rows_and_repeats_the_header():
    # A line feed inside a quoted cell is not a row end, nor is one after a doubled quote inside quotes;
    # parts hold whole rows under the header, at most the limit each, and a file that fits is not split.
    data = render_csv(
        ["k", "v"], [{"k": "1", "v": "a\nb"}, {"k": "2", "v": 'say "x"\n'}, {"k": "3", "v": "c"}, {"k": "4", "v": "d"}]
    )
    assert data == b'k,v\n1,"a\nb"\n2,"say ""x""\n"\n3,c\n4,d\n'
    assert split_csv(data, len(data)) == []
    assert split_csv(data, 16) == [
        (b'k,v\n1,"a\nb"\n', 1),
        (b'k,v\n2,"say ""x""\n"\n', 1),  # 19 bytes: one row longer than the limit is a part of its own
        (b"k,v\n3,c\n4,d\n", 2),
    ]
    parts = split_csv(data, 24)
    assert [rows for _, rows in parts] == [1, 2, 1] and all(p.startswith(b"k,v\n") for p, _ in parts)
    assert b"".join(p[4:] for p, _ in parts) == data[4:]
