"""JSON lines as Python's json reads them: each line loaded or quarantined with its reason (known
answers line by line), whatever shape its keys take; a lone UTF-16 surrogate costs its line only."""

import json
import sys
from pathlib import Path

import orjson
import pytest
import simdjson

from cdp_pipeline.lib.raw import FileRejected
from cdp_pipeline.lib.raw import parse_file as _parse_file

LONG_TITLE = "Vinterkappa – ull " * 600  # a 10,800-character value on one line

WEB_LINES = [
    # 1: a plain GA4 line
    '{"event_date":"20261001","event_timestamp":1790000000000000,"event_name":"page_view",'
    '"user_pseudo_id":"c1","user_id":"u1","event_params":[{"key":"a","value":{"int_value":1}}]}',
    # 2: a repeated key: Python keeps its last value
    '{"event_timestamp":2,"event_name":"first","user_pseudo_id":"c2","event_name":"last"}',
    # 3: a key spelt another way stands for its column
    '{"eventName":"spelt","event_timestamp":"3","user_pseudo_id":"c3"}',
    # 4: a nested value in a column is written compact; no user_pseudo_id (cookieless)
    '{"event_timestamp":4,"event_name":"nested","user_id":{"id": 7, "x": [1, 2.50]}}',
    # 5: a fractional timestamp
    '{"event_timestamp":1.5,"event_name":"frac","user_pseudo_id":"c5"}',
    # 6: a trailing comma
    '{"event_timestamp":6,"event_name":"comma","items":[1,2,],"user_pseudo_id":"c6"}',
    # 7: nan in lower case is not JSON to Python
    '{"event_timestamp":7,"event_name":"nan","x":nan,"user_pseudo_id":"c7"}',
    # 8: NaN as Python writes it: loaded, the line kept as received
    '{"event_timestamp":8,"event_name":"NaN","x":NaN,"user_pseudo_id":"c8"}',
    # 9: JSON, not an object
    "[1, 2]",
    # 10: blank (Unicode white space too)
    "  \u3000 ",
    # 11: a 10,000-character line, CRLF-ended
    '{"event_timestamp":11,"event_name":"long","user_pseudo_id":"c11","page_title":"' + LONG_TITLE + '"}\r',
    # 12: nested deeper than Python's json can follow
    '{"event_timestamp":12,"event_name":"deep","user_pseudo_id":"c12","x":' + "[" * 1500 + "]" * 1500 + "}",
    # 13: an integer past Python's 4,300-digit limit
    '{"event_timestamp":13,"event_name":"digits","user_pseudo_id":"c13","x":' + "7" * 5000 + "}",
    # 14: timestamps past 64 bits, as a number and as a string
    '{"event_timestamp":9223372036854775808,"event_name":"big","user_pseudo_id":"c14"}',
    # 15
    '{"event_timestamp":"-9223372036854775809","event_name":"big","user_pseudo_id":"c15"}',
    # 16: -0, a boolean and a number in string columns, escapes
    '{"event_timestamp":-0,"event_name":"scalars","user_pseudo_id":true,"user_id":12,"event_date":"a\\"b\\u00e5\\n"}',
    # 17: half a UTF-16 pair in a column: no character, so not storable as text
    '{"event_timestamp":17,"event_name":"surrogate","user_pseudo_id":"c17","user_id":"x\\ud800y"}',
    # 18: a blank user_pseudo_id (cookieless)
    '{"event_timestamp":18,"event_name":"blank id","user_pseudo_id":" "}',
    # 19: a missing event_name
    '{"event_timestamp":19,"user_pseudo_id":"c19"}',
    # 20: half a pair deep in event_params, which staging reads with DuckDB's JSON functions
    '{"event_timestamp":20,"event_name":"deep surrogate","user_pseudo_id":"c20",'
    '"event_params":[{"key":"page_title","value":{"string_value":"\\uDC00"}}]}',
    # 21: a whole pair (one character), and an escaped backslash before "ud800" (not an escape)
    '{"event_timestamp":21,"event_name":"pair \\ud83d\\ude00","user_pseudo_id":"c21","x":"\\\\ud800"}',
    # 22: both a missing event_name and half a pair: the first reason is given
    '{"event_timestamp":22,"user_pseudo_id":"\\ud800"}',
    # 23: broken, and the last line without a newline
    '{"event_timestamp":23,"event_name":"trunc',
]


def parse_file(*args, **kwargs):
    return _parse_file(*args, **kwargs).to_lists()


def web_file():
    return parse_file("web", "events_20261001.jsonl", "\n".join(WEB_LINES).encode("utf-8"))


def test_each_ga4_line_is_loaded_or_quarantined_as_pythons_json_reads_it():
    p = web_file()
    assert p.lines == [1, 2, 3, 4, 8, 11, 16, 18, 21]
    col = {c: dict(zip(p.lines, v)) for c, v in p.columns.items()}
    assert col["event_name"] == {
        1: "page_view",
        2: "last",
        3: "spelt",
        4: "nested",
        8: "NaN",
        11: "long",
        16: "scalars",
        18: "blank id",
        21: "pair \U0001f600",
    }
    assert col["event_timestamp"][1] == "1790000000000000" and col["event_timestamp"][3] == "3"
    assert col["event_timestamp"][16] == "0"
    assert col["user_id"][1] == "u1" and col["user_id"][4] == '{"id":7,"x":[1,2.5]}' and col["user_id"][16] == "12"
    assert col["user_pseudo_id"][16] == "true" and col["user_pseudo_id"][4] is None
    assert col["event_date"][16] == 'a"bå\n'
    assert col["event_json"][1] == WEB_LINES[0] and col["event_json"][8] == WEB_LINES[7]
    assert col["event_json"][11] == WEB_LINES[10][:-1]  # the CR of CRLF is not part of the line
    assert len(col["event_json"][11]) > 10_000
    assert set(col["events_day"].values()) == {"2026-10-01"}
    assert p.extra == [None] * 9
    assert p.notes == [
        "2 consent-mode (cookieless) event(s) without user_pseudo_id: loaded, counted, not attributed to a visitor"
    ]
    reasons = [(q.line_number, q.reason) for q in p.quarantined]
    assert reasons == [
        (5, "event_timestamp is not a whole number of microseconds (found '1.5')"),
        (6, "invalid JSON: Expecting value at column 56"),
        (7, "invalid JSON: Expecting value at column 45"),
        (9, "not a JSON object (found list)"),
        (12, "invalid JSON: nested too deeply to be read"),
        (13, "invalid JSON: a value could not be read (Exceeds the limit (4300 digits) for integer string conversion)"),
        (14, "event_timestamp is not a whole number of microseconds (found '9223372036854775808')"),
        (15, "event_timestamp is not a whole number of microseconds (found '-9223372036854775809')"),
        (17, "invalid text: a string holds a lone UTF-16 surrogate (\\ud800)"),
        (19, "missing required key(s): event_name"),
        (20, "invalid text: a string holds a lone UTF-16 surrogate (\\udc00)"),
        (22, "missing required key(s): event_name"),
        (23, "truncated last line: invalid JSON: Unterminated string starting at at column 36"),
    ]
    # the line as received (its escapes are plain text)
    assert {q.line_number: q.raw_record for q in p.quarantined}[17] == WEB_LINES[16]
    assert p.rows_read == 22  # every line but the blank one


def test_a_utf8_bom_and_crlf_file_reads_as_the_same_rows():
    plain = web_file()
    text = "\ufeff" + "\r\n".join(line.rstrip("\r") for line in WEB_LINES)
    bom = parse_file("web", "events_20261001.jsonl", text.encode("utf-8"))
    assert bom.encoding == "utf-8-sig"
    assert bom.lines == plain.lines and bom.columns == plain.columns
    assert bom.quarantined == plain.quarantined


def test_a_utf16_and_a_windows_1252_file_are_read_line_by_line_too():
    data = "\n".join(WEB_LINES[:4]).encode("utf-16")
    p = parse_file("web", "events_20261001.jsonl", data)
    assert p.encoding == "utf-16" and p.lines == [1, 2, 3, 4]
    assert p.columns["event_name"] == ["page_view", "last", "spelt", "nested"]
    # one byte that is not UTF-8 makes it Windows-1252; every other line is read as UTF-8
    lines = [
        WEB_LINES[0].replace("page_view", "Åsa"),
        '{"event_timestamp":2,"event_name":"b\xff","user_pseudo_id":"c2"}',
    ]
    data = "\n".join([*lines, WEB_LINES[16]]).encode("utf-8").replace(b"\xc3\xbf", b"\xff")
    p = parse_file("web", "events_20261001.jsonl", data)
    assert p.encoding == "windows-1252" and p.lines == [1, 2]
    assert p.columns["event_name"] == ["Åsa", "bÿ"]
    assert [(q.line_number, q.reason) for q in p.quarantined] == [
        (3, "invalid text: a string holds a lone UTF-16 surrogate (\\ud800)")
    ]


def test_a_json_array_keeps_the_order_of_its_elements_and_escapes_a_lone_surrogate():
    elements = [
        '{"event_name":"no timestamp"}',  # line 1, with the next one
        '"\\ud800 not an object"',
        '{"event_timestamp":3,"event_name":"ok","user_pseudo_id":"c3"}',
        '{"event_timestamp":4,"event_name":"e","event_params":[{"key":"\\ud800"}]}',
        '{"event_timestamp":"x","event_name":"\\udfff"}',
    ]
    text = "[" + elements[0] + ", " + elements[1] + ",\n" + ",\n".join(elements[2:]) + "]"
    p = parse_file("web", "events_20261001.json", text.encode())
    assert p.lines == [2] and p.columns["event_name"] == ["ok"]
    assert [(q.line_number, q.reason, q.raw_record) for q in p.quarantined] == [
        (1, "missing required key(s): event_timestamp", '{"event_name":"no timestamp"}'),
        (1, "not a JSON object (found str)", '"\\ud800 not an object"'),
        (
            3,
            "invalid text: a string holds a lone UTF-16 surrogate (\\ud800)",
            '{"event_timestamp":4,"event_name":"e","event_params":[{"key":"\\ud800"}]}',
        ),
        (
            4,
            "event_timestamp is not a whole number of microseconds (found 'x')",
            '{"event_timestamp":"x","event_name":"\\udfff"}',
        ),
    ]
    # every record kept is storable as UTF-8
    for q in p.quarantined:
        q.raw_record.encode("utf-8")


def test_sms_lines_with_and_without_keys_outside_the_contract():
    lines = [
        # every key a column
        '{"sid":"SM1","from":"+4670","to":"+4671","direction":"inbound","date_sent":"d1","num_segments":1,"price":null}',
        # a key outside the contract is kept in _extra as Python writes it
        '{"sid":"SM2","from":"+4670","to":"+4671","direction":"inbound","uri":"/x","subresource_uris":{"media":"/m"}}',
        # two keys for one column: the first wins, the other goes to _extra
        '{"sid":"SM3","from":"+4670","to":"+4671","direction":"inbound","sent_date":"s3","date_sent":"d3"}',
        # a required key null
        '{"sid":"SM4","from":"+4670","to":null,"direction":"inbound"}',
        # a number where a string is expected, and a number Python spells its own way
        '{"sid":"SM5","from":4670,"to":"+4671","direction":"inbound","price":-1e-7}',
        # half a pair in a key outside the contract: _extra could not be stored
        '{"sid":"SM6","from":"+4670","to":"+4671","direction":"inbound","x\\ud800":1}',
        # the same key list as line 2, another order: its _extra in this line's order
        '{"subresource_uris":{"media":"/n"},"sid":"SM7","from":"+4670","to":"+4671","direction":"inbound","uri":"/y"}',
    ]
    p = parse_file("sms", "messages_20261001.jsonl", ("\n".join(lines) + "\n").encode())
    assert p.lines == [1, 2, 3, 5, 7]
    assert p.columns["sid"] == ["SM1", "SM2", "SM3", "SM5", "SM7"]
    assert p.columns["sent_date"] == ["d1", None, "s3", None, None]
    assert p.columns["num_segments"] == ["1", None, None, None, None]
    assert p.columns["from"][3] == "4670" and p.columns["price"] == [None, None, None, "-1e-07", None]
    assert p.extra == [
        None,
        '{"uri": "/x", "subresource_uris": {"media": "/m"}}',
        '{"date_sent": "d3"}',
        None,
        '{"subresource_uris": {"media": "/n"}, "uri": "/y"}',
    ]
    assert [(q.line_number, q.reason) for q in p.quarantined] == [
        (4, "missing required key(s): to"),
        (6, "invalid text: a string holds a lone UTF-16 surrogate (\\ud800)"),
    ]


def test_a_user_pseudo_id_of_unicode_white_space_is_cookieless():
    lines = [
        json.dumps({"event_timestamp": i, "event_name": "e", "user_pseudo_id": v}, ensure_ascii=i % 2 == 0)
        for i, v in enumerate(["\u3000", "\xa0\u2028", "\u200b", "\ufeff", "x", ""])
    ]
    p = parse_file("web", "events_20261001.jsonl", ("\n".join(lines) + "\n").encode())
    # U+200B and U+FEFF are not white space to str.strip()
    assert p.rows_loaded == 6 and p.notes[0].startswith("3 consent-mode (cookieless) event(s)")


def test_a_file_of_white_space_only_is_rejected_whole():
    for text in ["\n", " \r\n\t\n", "\u3000\n\u2028"]:
        with pytest.raises(FileRejected, match="^no data: the file has no text$"):
            _parse_file("web", "events_20261001.jsonl", text.encode())
    # a character str.strip() keeps is text: a line that is not JSON
    p = parse_file("web", "events_20261001.jsonl", "\u200b\n".encode())
    assert [(q.line_number, q.reason) for q in p.quarantined] == [(1, "invalid JSON: Expecting value at column 1")]


def test_integers_past_64_bits_and_floats_keep_the_text_pythons_json_gives_them():
    # orjson, which reads most lines, reads an integer past 64 bits as a float: such lines are
    # json's, so a column or _extra holds the integer as written
    web = [
        '{"event_timestamp":1,"event_name":"big id","user_pseudo_id":"c1","user_id":18446744073709551616}',
        '{"event_timestamp":2,"event_name":"nested","user_pseudo_id":"c2","user_id":[99999999999999999999,1.0]}',
        '{"event_timestamp":3,"event_name":"float","user_pseudo_id":"c3","event_date":1e3}',
        # a big integer outside the columns: event_json is the line as received anyway
        '{"event_timestamp":4,"event_name":"params","user_pseudo_id":"c4","x":[18446744073709551616]}',
        '{"event_timestamp":1.8446744073709552e19,"event_name":"ts","user_pseudo_id":"c5"}',
    ]
    p = parse_file("web", "events_20261001.jsonl", "\n".join(web).encode())
    assert p.lines == [1, 2, 3, 4]
    assert p.columns["user_id"] == ["18446744073709551616", "[99999999999999999999,1.0]", None, None]
    assert p.columns["event_date"] == [None, None, "1000.0", None]
    assert p.columns["event_json"][3] == web[3]
    assert [(q.line_number, q.reason) for q in p.quarantined] == [
        (5, "event_timestamp is not a whole number of microseconds (found '1.8446744073709552e+19')")
    ]
    sms = '{"sid":"SM1","from":"+4670","to":"+4671","direction":"inbound","num_media":18446744073709551617}'
    s = parse_file("sms", "messages_20261001.jsonl", sms.encode())
    assert s.extra == ['{"num_media": 18446744073709551617}']


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
JSON_FILES = (
    [("web", p) for p in sorted((FIXTURES / "hostile" / "web").iterdir())]
    + [("sms", p) for p in sorted((FIXTURES / "hostile" / "sms").glob("*.json*"))]
    + [("web", p) for p in sorted((FIXTURES / "vendors" / "ga4").iterdir())]
    + [("sms", p) for p in sorted((FIXTURES / "vendors" / "twilio").glob("*.json*"))]
)


def _refuse(_text):
    raise ValueError("not read by orjson in this test")


class _RefusingParser:
    """simdjson's parser as one that reads no line: every line is left to orjson and json."""

    def parse(self, _line):
        raise ValueError("not read by simdjson in this test")


# Lines where simdjson and json differ, or a shortcut would: each must read as json reads it.
SIMDJSON_LINES = [
    '{"event_timestamp":1,"event_name":"plain","user_pseudo_id":"c1","user_id":null}',
    # a BOM before a line (two files joined): simdjson skips it, json refuses the line
    '\ufeff{"event_timestamp":2,"event_name":"bom","user_pseudo_id":"c2"}',
    # out of a double's range: json reads inf, simdjson refuses
    '{"event_timestamp":3,"event_name":"huge","user_pseudo_id":"c3","x":1e400}',
    # two spellings of a column: the first one written is its value
    '{"eventName":"first","event_name":"second","event_timestamp":4,"user_pseudo_id":"c4"}',
    '{"event_name":"first","EventName":"second","event_timestamp":5,"user_pseudo_id":"c5"}',
    # a repeated key outside the columns, and one in a column that is absent first
    '{"event_timestamp":6,"event_name":"dup","x":1,"x":2,"user_pseudo_id":"c6"}',
    '{"event_timestamp":7,"event_name":"x","user_id":null,"user_id":"u7","user_pseudo_id":"c7"}',
    # an integer past 64 bits in event_params: simdjson refuses, json reads it
    '{"event_timestamp":8,"event_name":"bigint","user_pseudo_id":"c8","event_params":[99999999999999999999999]}',
    # a float, an object and a list in columns; a NUL and a line separator in strings
    '{"event_timestamp":9,"event_name":2.0,"user_pseudo_id":{"a":1},"user_id":[1]}',
    '{"event_timestamp":10,"event_name":"nul\\u0000","user_pseudo_id":"c10\u2028"}',
    # leading white space, a key of nothing, a missing event_name, a timestamp past 64 bits
    ' {"event_timestamp":11,"event_name":"space","user_pseudo_id":"c11"}',
    '{"":0,"event_timestamp":12,"event_name":"empty key","user_pseudo_id":"c12"}',
    '{"event_timestamp":13,"user_pseudo_id":"c13"}',
    '{"event_timestamp":18446744073709551615,"event_name":"u64","user_pseudo_id":"c14"}',
    # nested 300 deep: more than json may follow under a deep stack, less than simdjson's 1,024
    '{"event_timestamp":15,"event_name":"deep","user_pseudo_id":"c15","x":' + "[" * 300 + "]" * 300 + "}",
]
SMS_SIMDJSON_LINES = [
    # keys outside the contract keep the order written in _extra
    '{"sid":"SM1","from":"+4670","to":"+4671","direction":"inbound","b":1,"a":true}',
    '{"sid":"SM2","from":"+4670","to":"+4671","direction":"inbound","a":null,"b":"x"}',
    '{"sid":"SM3","From":"+4670","to":"+4671","direction":"inbound","from":"+4672"}',
]


@pytest.mark.parametrize(
    "source, name, data",
    [(s, p.name, p.read_bytes()) for s, p in JSON_FILES]
    + [("web", "events_20261001.jsonl", "\n".join(WEB_LINES).encode("utf-8"))],
    ids=[p.name for _, p in JSON_FILES] + ["WEB_LINES"],
)
def test_a_file_reads_the_same_with_json_alone(monkeypatch, source, name, data):
    monkeypatch.setattr(simdjson, "Parser", _RefusingParser)
    both = parse_file(source, name, data)
    monkeypatch.setattr(orjson, "loads", _refuse)
    alone = parse_file(source, name, data)
    assert (both.columns, both.lines, both.extra) == (alone.columns, alone.lines, alone.extra)
    assert (both.quarantined, both.notes) == (alone.quarantined, alone.notes)


@pytest.mark.parametrize(
    "source, name, data",
    [(s, p.name, p.read_bytes()) for s, p in JSON_FILES]
    + [
        ("web", "events_20261001.jsonl", "\n".join(WEB_LINES).encode("utf-8")),
        ("web", "events_20261001.jsonl", "\n".join(SIMDJSON_LINES).encode("utf-8")),
        ("web", "events_20261001.jsonl", b"\xef\xbb\xbf" + "\r\n".join(SIMDJSON_LINES).encode("utf-8")),
        ("sms", "messages_20261001.jsonl", "\n".join(SMS_SIMDJSON_LINES).encode("utf-8")),
    ],
    ids=[p.name for _, p in JSON_FILES] + ["WEB_LINES", "SIMDJSON_LINES", "SIMDJSON_LINES_BOM_CRLF", "SMS"],
)
def test_a_file_reads_the_same_through_simdjson_as_with_json_alone(monkeypatch, source, name, data):
    fast = parse_file(source, name, data)
    monkeypatch.setattr(simdjson, "Parser", _RefusingParser)
    monkeypatch.setattr(orjson, "loads", _refuse)
    alone = parse_file(source, name, data)
    assert (fast.columns, fast.lines, fast.extra) == (alone.columns, alone.lines, alone.extra)
    assert (fast.quarantined, fast.notes) == (alone.quarantined, alone.notes)


def test_simdjson_keeps_the_lines_it_reads_as_json_does(monkeypatch):
    """The lines simdjson keeps; the others are json's (a test that the fast path is taken)."""
    import cdp_pipeline.lib.raw.jsonl_reader as reader

    real, handed_on = reader._Rows.read_lazily, []

    def read_lazily(self, lines, crlf, read_line):
        def spy(line_no, line):
            handed_on.append(line_no)
            read_line(line_no, line)

        real(self, lines, crlf, spy)

    monkeypatch.setattr(reader._Rows, "read_lazily", read_lazily)
    p = parse_file("web", "events_20261001.jsonl", "\n".join(SIMDJSON_LINES).encode("utf-8"))
    kept = [i for i in range(1, len(SIMDJSON_LINES) + 1) if i not in handed_on]
    # 15 (300 deep, 680 bytes): short enough to nest no deeper than json follows (_short_line_max)
    assert kept == [1, 4, 5, 10, 12, 13, 14, 15]
    assert p.lines == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15]
    names = dict(zip(p.lines, p.columns["event_name"]))
    assert (names[4], names[5], names[10]) == ("first", "first", "nul\x00")
    assert [(q.line_number, q.reason[:30]) for q in p.quarantined] == [
        (2, "invalid JSON: Unexpected UTF-8"),
        (13, "missing required key(s): event"),
        (14, "event_timestamp is not a whole"),
    ]


def _at_depth(frames: int, fn):
    """``fn()`` called from ``frames`` Python frames deeper than here (a Dagster step's stack)."""
    return fn() if frames <= 0 else _at_depth(frames - 1, fn)


def test_a_deeply_nested_line_reads_alike_from_a_shallow_and_a_deep_caller():
    # 700 levels: json follows them from a shallow stack; 600 frames deeper it would give up
    # (recursion limit ~1,000) and the line was quarantined in a step, loaded in a worker
    deep = '{"event_timestamp":5,"event_name":"deep","user_pseudo_id":"c1","user_id":' + "[" * 700 + "]" * 700 + "}"
    data = (WEB_LINES[0] + "\n" + deep + "\n").encode("utf-8")
    shallow = parse_file("web", "events_20261001.jsonl", data)
    nested = _at_depth(600, lambda: parse_file("web", "events_20261001.jsonl", data))
    assert shallow.quarantined == nested.quarantined == []
    assert shallow.lines == nested.lines == [1, 2]
    assert shallow.columns["user_id"] == nested.columns["user_id"]
    assert nested.columns["user_id"][1] == "[" * 700 + "]" * 700


def _nested_line(ts: int, depth: int) -> str:
    return (
        f'{{"event_timestamp":{ts},"event_name":"d{depth}","user_pseudo_id":"c","x":' + "[" * depth + "]" * depth + "}"
    )


def test_a_short_line_is_read_by_simdjson_only_as_deep_as_json_follows(monkeypatch):
    # simdjson reads a line of up to 2 × (recursion limit - 200) bytes without counting its
    # brackets: at a limit of 450, 500 bytes. Around the lowered limit json (in the reader's own
    # thread) follows ~440 levels: each line reads as json alone reads it, the deepest quarantined.
    from cdp_pipeline.lib.raw.jsonl_reader import _short_line_max

    assert _short_line_max() == 2 * (sys.getrecursionlimit() - 200)
    limit = sys.getrecursionlimit()
    depths = (150, 210, 300, 430, 460)
    data = "\n".join(_nested_line(i, d) for i, d in enumerate(depths, start=1)).encode()
    try:
        sys.setrecursionlimit(450)
        assert _short_line_max() == 500
        assert [len(_nested_line(1, d)) <= 500 for d in depths] == [True, True, False, False, False]
        both = parse_file("web", "events_20261001.jsonl", data)
        monkeypatch.setattr(simdjson, "Parser", _RefusingParser)
        monkeypatch.setattr(orjson, "loads", _refuse)
        alone = parse_file("web", "events_20261001.jsonl", data)
    finally:
        sys.setrecursionlimit(limit)
    assert both.lines == alone.lines == [1, 2, 3, 4]
    assert both.columns == alone.columns
    assert both.quarantined == alone.quarantined
    assert [(q.line_number, q.reason) for q in both.quarantined] == [(5, "invalid JSON: nested too deeply to be read")]


# Counted, whatever event_date and user_id hold (values json alone reads, or none), a line is
# loaded or quarantined as a whole parse does it (by the required keys, event_timestamp's type).
COUNTED_LINES = [
    '{"event_date":{"a":[1]},"event_timestamp":1,"event_name":"n","user_pseudo_id":"c1","user_id":1.5}',
    '{"event_date":"20261001","event_timestamp":2,"event_name":"n","user_pseudo_id":" ","user_id":[1]}',
    '{"event_date":true,"event_timestamp":2.5,"event_name":"n","user_id":"u3"}',
    '{"event_date":"20261001","event_timestamp":4,"user_pseudo_id":"c4","user_id":{"x":null}}',
    '{"user_id":"u5","event_timestamp":5,"eventName":"n","user_pseudo_id":null,"event_date":1e400}',
    '{"event_date":"x","event_timestamp":6,"event_name":{"a":1},"user_pseudo_id":"c6","user_id":"u","user_id":2}',
]


@pytest.mark.parametrize(
    "name, data",
    [
        ("events_20261001.jsonl", "\n".join(WEB_LINES).encode("utf-8")),
        ("events_20261001.jsonl", b"\xef\xbb\xbf" + "\r\n".join(SIMDJSON_LINES).encode("utf-8")),
        ("events_20261001.jsonl", "\n".join(SIMDJSON_LINES).encode("utf-8")),
        ("events_20261001.jsonl", "\n".join(COUNTED_LINES).encode("utf-8")),
        ("events_20261001.jsonl", "\n".join(WEB_LINES).encode("utf-16")),
        ("events_20261001.json", ("[" + ",\n".join(WEB_LINES[:4]) + "]").encode("utf-8")),
    ],
    ids=["WEB_LINES", "SIMDJSON_LINES_BOM_CRLF", "SIMDJSON_LINES", "COUNTED_LINES", "UTF16", "ARRAY"],
)
def test_a_ga4_file_counted_only_gives_the_lines_quarantine_and_notes_of_a_whole_parse(name, data):
    whole = parse_file("web", name, data)
    counted = parse_file("web", name, data, counts_only=True)
    assert counted.counted_only and not whole.counted_only
    assert (counted.columns, counted.extra) == ({}, [])
    assert counted.lines == whole.lines and counted.rows_loaded > 0
    assert (counted.quarantined, counted.notes, counted.kind) == (whole.quarantined, whole.notes, whole.kind)


def test_a_ga4_file_with_every_line_loaded_reads_as_one_with_a_blank_line():
    # every line loaded and no CR: event_json is the bytes less the LFs and the columns are made
    # by Arrow (jsonl_reader._FileLines._all_lines, _arrow_texts); a blank line (not a row) sends
    # the same lines through the line-by-line cut and lists of texts
    stamps = [0, -1, 2**63 - 1, -(2**63), 1790000000000000]
    lines = [
        json.dumps(
            {"event_date": "20261001", "event_timestamp": t, "event_name": f"e{i}", "user_pseudo_id": None}
            | ({"user_id": "ü" * i} if i % 2 else {}),
            ensure_ascii=False,
        )
        for i, t in enumerate(stamps)
    ]
    every = parse_file("web", "events_20261001.jsonl", "\n".join(lines).encode())
    blank = parse_file("web", "events_20261001.jsonl", ("\n".join(lines[:2] + [""] + lines[2:]) + "\n").encode())
    assert every.lines == [1, 2, 3, 4, 5] and blank.lines == [1, 2, 4, 5, 6]
    assert every.columns == blank.columns and every.extra == blank.extra == [None] * 5
    assert every.columns["event_timestamp"] == [
        "0",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        "1790000000000000",
    ]
    assert every.columns["event_json"] == lines
    assert every.columns["user_id"] == [None, "ü", None, "üüü", None]
    assert every.columns["events_day"] == ["2026-10-01"] * 5
    assert every.notes == blank.notes and every.notes[0].startswith("5 consent-mode (cookieless) event(s)")
