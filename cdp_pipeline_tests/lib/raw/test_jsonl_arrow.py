"""JSON lines of flat objects read by Arrow (``jsonl_arrow``): taken only where the file reads as
Python's json reads it line by line; any line that could read otherwise leaves the whole file to
the line-by-line reader."""

import orjson
import pytest
import simdjson

from cdp_pipeline.lib.raw import jsonl_arrow, jsonl_reader
from cdp_pipeline.lib.raw import parse_file as _parse_file


def parse_file(*args, **kwargs):
    return _parse_file(*args, **kwargs).to_lists()


PLAIN = [
    '{"sid":"SM1","from":"+4670","to":"+4671","body":"Hej då \\"Åsa\\"\\n😀 \\ud83d\\ude00","direction":"inbound",'
    '"date_sent":"Fri, 02 Oct 2026 06:00:07 +0000","error_code":null}',
    '{"sid":"SM2","from":"+4670","to":"+4672","direction":"outbound-api","error_code":30003,"num_segments":"1"}',
    '{"sid":"SM3","from":"+4670","to":"+4673","direction":"inbound","error_code":-5,"body":"\\u0000"}',
]


class _Refusing:
    def parse(self, _line):
        raise ValueError("not read by simdjson in this test")


def _refuse(_text):
    raise ValueError("not read by orjson in this test")


def _json_alone(monkeypatch, data: bytes):
    with monkeypatch.context() as m:
        m.setattr(simdjson, "Parser", _Refusing)
        m.setattr(orjson, "loads", _refuse)
        return parse_file("sms", "messages_20261001.jsonl", data)


def _arrow_taken(monkeypatch) -> list[bool]:
    taken: list[bool] = []
    real = jsonl_arrow.read_flat_lines

    def spy(*args):
        out = real(*args)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(jsonl_reader, "read_flat_lines", spy)
    return taken


def _same(a, b) -> None:
    assert (a.columns, a.extra, a.lines, a.quarantined, a.notes) == (
        b.columns,
        b.extra,
        b.lines,
        b.quarantined,
        b.notes,
    )


def test_a_file_of_flat_objects_is_read_by_arrow_as_json_reads_it(monkeypatch):
    taken = _arrow_taken(monkeypatch)
    data = ("\n".join(PLAIN) + "\n").encode("utf-8")
    p = parse_file("sms", "messages_20261001.jsonl", data)
    assert taken == [True]
    assert p.lines == [1, 2, 3]
    assert p.columns["body"] == ['Hej då "Åsa"\n😀 😀', None, "\x00"]
    assert p.columns["sent_date"] == ["Fri, 02 Oct 2026 06:00:07 +0000", None, None]  # date_sent, an alias
    assert p.columns["error_code"] == [None, "30003", "-5"]  # integers written as json reads them
    assert p.columns["num_segments"] == [None, "1", None]
    assert p.columns["account_sid"] == [None, None, None]  # no line has it
    assert p.extra == [None, None, None] and p.quarantined == [] and p.notes == []
    _same(p, _json_alone(monkeypatch, data))
    # without a line end at the end of the file: the same rows
    _same(parse_file("sms", "messages_20261001.jsonl", data[:-1]), p)


@pytest.mark.parametrize(
    "line",
    [
        # a column's key twice: simdjson's first value and json's last differ (Arrow refuses it)
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound","to":"+3"}',
        # a key outside the contract goes to _extra
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound","num_media":"0"}',
        # two spellings of one column, on different lines (the first line has date_sent)
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound","sent_date":"x"}',
        # values json writes back as text: a float, a boolean, a list, an object
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound","error_code":1.0}',
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound","status":true}',
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound","status":["a"]}',
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound","status":{"a":1}}',
        # a column of texts and integers
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound","error_code":"30003"}',
        # a required key missing, or null: quarantined
        '{"sid":"SM9","from":"+1","direction":"inbound"}',
        '{"sid":"SM9","from":"+1","to":null,"direction":"inbound"}',
        # lines Arrow would read and json would not, or not as one row
        "",
        "   ",
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound"}{"sid":"SM10"}',
        '\ufeff{"sid":"SM9","from":"+1","to":"+2","direction":"inbound"}',
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound","error_code":NaN}',
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound","error_code":18446744073709551617}',
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound",}',
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound","body":"\\ud800"}',
        "[1, 2]",
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound"',
        # a line long enough to nest deeper than json follows
        '{"sid":"SM9","from":"+1","to":"+2","direction":"inbound","body":"' + "x" * 2000 + '"}',
    ],
    ids=lambda line: line[:40],
)
def test_a_line_arrow_might_read_otherwise_leaves_the_file_to_the_line_by_line_reader(monkeypatch, line):
    taken = _arrow_taken(monkeypatch)
    data = ("\n".join([PLAIN[0], line, PLAIN[1]]) + "\n").encode("utf-8")
    p = parse_file("sms", "messages_20261001.jsonl", data)
    assert not any(taken)
    _same(p, _json_alone(monkeypatch, data))


def test_a_file_with_cr_line_ends_is_left_to_the_line_by_line_reader(monkeypatch):
    taken = _arrow_taken(monkeypatch)
    data = "\r\n".join(PLAIN).encode("utf-8")
    p = parse_file("sms", "messages_20261001.jsonl", data)
    assert taken == []
    assert p.lines == [1, 2, 3]
    _same(p, _json_alone(monkeypatch, data))
