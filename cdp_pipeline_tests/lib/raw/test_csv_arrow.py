"""Arrow's CSV reader as the fast path: for every file it either gives exactly the rows, line
numbers and extras of the row-by-row reader, or declines and the row-by-row reader reads it."""

from pathlib import Path

import pyarrow as pa
import pytest

from cdp_pipeline.lib.raw.compression import gunzip, is_gzip
from cdp_pipeline.lib.raw.csv_arrow import physical_line_count, read_csv_arrow
from cdp_pipeline.lib.raw.csv_reader import read_csv_text, split_physical_lines
from cdp_pipeline.lib.raw.encoding import UTF8, UTF8_BOM, NotTextError, decode_bytes
from cdp_pipeline.lib.raw.load import parse_file
from cdp_pipeline.lib.raw.parsed import FileRejected, to_pylist

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
H = "customer_id,first_name,email\n"

# Files Arrow reads: each must come out exactly as the row-by-row reader reads it.
FAST = {
    "plain": H + "1,Anna,a@b.se\n2,Bo,b@c.se\n",
    "crlf, no final line end": H.replace("\n", "\r\n") + "1,Anna,a@b.se\r\n2,Bo,b@c.se",
    "quoted line breaks shift the line numbers": H
    + '1,"Anna\nMaria",a@b.se\n2,"Bo\r\n\r\nB",b@c.se\n3,"x\ry",\n4,Cy,c@d.se\n',
    "quotes, empties, spaces kept": H + '1,"An""na",""\n2, Bo ,\n3,x"y,"a,b"\n',
    "unicode, U+2028, form feed and tab in values": H + "1,Åsa 😀\u2028x,a\x0cb\n2,\tBo,\x85\n",
    "a row starting with #": "Name,Email\n#6001,a@b.se\n#6001,\n",
    "semicolons": "customer_id;first_name;email\n1;Anna;a@b.se\n",
    "tabs": "customer_id\tfirst_name\temail\n1\tAnna\ta@b.se\n",
    "pipes": "customer_id|first_name|email\n1|Anna|a@b.se\n",
    "lone CR line ends": H.replace("\n", "\r") + "1,Anna,a@b.se\r2,Bo,b@c.se\r",
    "header only": H,
    "extras, duplicate and unnamed columns": "customer_id,Favourite Colour,,customer_id\n1,blue,x,dup\n2,,,\n",
    "extras that JSON escapes": 'customer_id,Note\n1,"a\nb"\n2,"say ""hi"" \\ \x07"\n3,plain\n',
    "a value that only looks like the header": H + "customer_id,first_name,x@y.se\n",
    "blank line": H + "1,Anna,a@b.se\n\n2,Bo,b@c.se\n",
    "trailing blank lines": H + "1,Anna,a@b.se\n\n\n",
    "space before an opening quote": H + '1, "Anna",a@b.se\n',
    "row of empty fields": H + "1,Anna,a@b.se\n,,\n",
    "row of Unicode blanks": H + "1,Anna,a@b.se\n\xa0,\u3000,\u2028\n",
    "mixed line ends": H + "1,Anna,a@b.se\r\n2,Bo,b@c.se\n",
    "the null mark in a value": H + "1,An\x01na,a@b.se\n" + "2,Bo,b@c.se\n" * 60,
    "whitespace line": H + "1,Anna,a@b.se\n   \n2,Bo,b@c.se\n",
    "short row": H + "1,Anna\n2,Bo,b@c.se\n",
    "long row": H + "1,Anna,a@b.se,x\n2,Bo,b@c.se\n",
    "truncated last line": H + "1,Anna,a@b.se\n2,Bo",
    "blank lines in a quoted value, then a blank line": H + '1,"\n\n",\n\n2,Bo,\n',
    "short and long rows around a record over three lines": H
    + '1,Anna\n2,"Bo\n\nB",b@c.se\n3,Cy,c@d.se,x,y\n4,Di,"d@e.se"\n\t\n5,Ed;x\n6,Fi,',
    "short rows in a CRLF file": H.replace("\n", "\r\n") + "1,Anna\r\n2,Bo,b@c.se\r\n3\r\n",
    "a short row with a quote on another line": H + '1,"Anna",a@b.se\n2,Bo\n3,Cy,c@d.se\n',
    "unclosed quote at the end": H + '1,Anna,a@b.se\n2,Bo,"b@c.se\n',
    "one padded row among three (a shifted row, quarantined)": H + "1,Anna,a@b.se\n2,Bo,b@c.se,\n3,Cy,c@d.se\n",
    "padded and long rows in the minority": H
    + "1,Anna,a@b.se, ,\n2,Bo,b@c.se,x\n3,Cy,c@d.se\n4,Di,d@e.se\n"
    + "5,Ed,e@f.se\n6,Fi,f@g.se,,\n",
    "unclosed quote at the end, no line end": H + '1,"Anna",a@b.se\n2,Bo,"b@c',
    "unclosed quote at the end, CRLF": H.replace("\n", "\r\n") + '1,Anna,a@b.se\r\n2,"Bo,b@c.se\r\n',
    "unclosed quote on the only line after the header": H + '1,"Anna,a@b.se\n',
    "a short row, then an unclosed quote at the end": H + '1,Anna\n2,Bo,b@c.se\n3,"Cy,c@d.se\n',
}

# Files the fast path must decline (the row-by-row reader quarantines or reads them differently).
DECLINED = {
    "blank line before the header": "\n" + H + "1,Anna,a@b.se\n",
    "padded rows": H + "1,Anna,a@b.se,,\n2,Bo,b@c.se,,\n",
    "one padded row": H + "1,Anna,a@b.se,\n2,Bo,b@c.se\n",
    "padded rows, a blank line and a short row": H + "1,Anna,a@b.se,,\n\n2,Bo\n3,Cy,c@d.se,\n4,Di,d@e.se\n",
    "a short row with a quote": H + '1,"Anna"\n2,Bo,b@c.se\n',
    "unbalanced quote": H + '1,"Anna,a@b.se\n2,Bo,b@c.se\n3,Cy,c@d.se\n',
    "too many fields and an odd quote on the last line": H + '1,Anna,a@b.se\n2,a"b,c,d\n',
    "an unclosed quote on the last line after a padded row": H + '1,Anna,a@b.se,,\n2,Bo,"b@c.se\n',
    "text after a closing quote": H + '1,"An"na,a@b.se\n',
    "space after a closing quote": H + '1,"Anna" ,a@b.se\n',
    "header repeated": H + "1,Anna,a@b.se\n" + H + "2,Bo,b@c.se\n",
    "header repeated with spaces": H + "1,Anna,a@b.se\n customer_id ,first_name,email\n",
    "header over two lines": 'customer_id,"first\nname",email\n1,Anna,a@b.se\n',
}


# Files either reader may read (the answer is the same).
EITHER = {
    "header only, no line end": H.rstrip("\n"),
    "whitespace line, one column": "customer_id\n1\n   \n2\n",
    "empty line, one column": "customer_id\n1\n\n2\n",
}


def rows(p):
    return (
        {c: to_pylist(v) for c, v in p.columns.items()},
        to_pylist(p.extra),
        to_pylist(p.lines),
        p.quarantined,
        (p.kind.name, p.encoding, p.delimiter, p.notes),
    )


def both(data: bytes, source: str = "crm", name: str = "customers.csv"):
    """(row-by-row result, fast path result or None); a FileRejected is compared as its reason."""
    decoded = decode_bytes(data)
    utf8 = data if decoded.encoding in (UTF8, UTF8_BOM) else None

    def run(reader, *args):
        try:
            return reader(*args, source=source, file_name=name, encoding=decoded.encoding)
        except FileRejected as exc:
            return ("rejected", exc.reason, exc.delimiter, exc.file_kind, exc.raw_record)

    slow = run(read_csv_text, decoded.text)
    fast = run(read_csv_arrow, decoded.text, utf8)
    return (slow if isinstance(slow, tuple) else rows(slow)), (
        fast if fast is None or isinstance(fast, tuple) else rows(fast)
    )


@pytest.mark.parametrize("text", FAST.values(), ids=FAST.keys())
def test_a_well_formed_file_is_read_by_arrow_exactly_as_row_by_row(text):
    slow, fast = both(text.encode())
    assert fast is not None, "the fast path declined a well-formed file"
    assert fast == slow


@pytest.mark.parametrize("text", DECLINED.values(), ids=DECLINED.keys())
def test_an_unusual_file_is_left_to_the_row_by_row_reader(text):
    slow, fast = both(text.encode())
    assert fast is None
    # and parse_file gives the row-by-row reader's answer
    assert rows(parse_file("crm", "customers.csv", text.encode())) == slow


@pytest.mark.parametrize("text", EITHER.values(), ids=EITHER.keys())
def test_either_reader_gives_the_same_answer(text):
    slow, fast = both(text.encode())
    assert fast is None or fast == slow
    assert rows(parse_file("crm", "customers.csv", text.encode())) == slow


def test_line_numbers_count_the_line_breaks_inside_quoted_values():
    p = parse_file("crm", "customers.csv", FAST["quoted line breaks shift the line numbers"].encode())
    assert isinstance(p.lines, pa.Array)  # read by Arrow
    assert to_pylist(p.lines) == [2, 4, 7, 9]
    assert to_pylist(p.columns["first_name"])[1] == "Bo\r\n\r\nB"


@pytest.mark.parametrize(
    "data,encoding",
    [
        ((H + "1,Åsa,a@b.se\n2,Örjan,\n").encode("cp1252"), "windows-1252"),
        ((H + "1,Åsa,a@b.se\n").encode("utf-16"), "utf-16"),
        (b"\xef\xbb\xbf" + (H + "1,Åsa,a@b.se\n").encode(), "utf-8-sig"),
    ],
)
def test_files_not_in_utf8_are_read_as_utf8(data, encoding):
    slow, fast = both(data)
    assert fast is not None and fast == slow
    assert fast[0]["first_name"][0] == "Åsa" and fast[4][1] == encoding


def test_header_problems_are_rejected_with_the_same_reason():
    for text in ("a,b\n1,2\n", "customer_id,email\n1,x\n"):  # unknown kind; (crm) missing columns or not
        slow, fast = both(text.encode())
        assert fast == slow or fast is None


def test_physical_lines_are_counted_as_the_row_by_row_reader_splits_them():
    for text in ["", "a", "a\n", "a\r\nb", "a\rb\r", "a\n\nb\u2028c\x0cd\n", "\r\n\r\n", "å\r\n€\r"]:
        assert physical_line_count(text) == len(split_physical_lines(text))
        assert physical_line_count(text.encode()) == len(split_physical_lines(text))  # the UTF-8 bytes alike


def _fixture_files():
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and path.suffix.lower() in (".csv", ".txt", ".tsv", ".gz"):
            source = next((s for s in ("crm", "esp", "pos", "sms") if s in path.parts), None)
            if source:
                yield pytest.param(path, source, id=str(path.relative_to(FIXTURES)))


# The fixture files neither reader gets to read: no text encoding reads them.
NOT_TEXT_FIXTURES = {"hostile/crm/crm_binary_garbage.csv", "hostile/crm/crm_utf16le_no_bom.csv"}


@pytest.mark.parametrize("path,source", list(_fixture_files()))
def test_every_fixture_file_reads_the_same_through_either_reader(path, source):
    data = path.read_bytes()
    name = path.name
    if is_gzip(data):
        data, name = gunzip(data), name[:-3]
    if str(path.relative_to(FIXTURES)) in NOT_TEXT_FIXTURES:
        with pytest.raises(NotTextError):
            both(data, source, name)
        return
    slow, fast = both(data, source, name)
    assert fast is None or fast == slow


def test_a_quoted_record_arrow_reads_differently_from_python_sends_the_file_row_by_row(monkeypatch):
    import cdp_pipeline.lib.raw.csv_arrow as csv_arrow

    text = H + '1,"Anna, Maria",a@b.se\n2,Bo,b@c.se\n'
    real = csv_arrow._read

    def misread(*args):  # as if Arrow had kept the quotes of the quoted field
        table, invalid = real(*args)
        return table.set_column(1, "c1", pa.array(['"Anna, Maria"', "Bo"])), invalid

    slow, fast = both(text.encode())
    assert fast == slow and fast[0]["first_name"] == ["Anna, Maria", "Bo"]  # Arrow reads it as it should
    monkeypatch.setattr(csv_arrow, "_read", misread)
    assert read_csv_arrow(text, text.encode(), source="crm", file_name="c.csv", encoding="utf-8") is None


def test_a_record_arrow_passed_over_sends_the_file_row_by_row(monkeypatch):
    import cdp_pipeline.lib.raw.csv_arrow as csv_arrow

    text = H + "1,Anna,a@b.se\n2,Bo,b@c.se\n"
    real = csv_arrow._read

    def drop_last(*args):  # as if Arrow had skipped a line without a word
        table, invalid = real(*args)
        return table.slice(0, 1), invalid

    monkeypatch.setattr(csv_arrow, "_read", drop_last)
    assert read_csv_arrow(text, text.encode(), source="crm", file_name="c.csv", encoding="utf-8") is None
