"""Reading files without a database: encodings, delimiters, kinds, and rows that cannot be read."""

import json
from pathlib import Path

import pytest

from cdp_pipeline.lib.raw import FileRejected
from cdp_pipeline.lib.raw import parse_file as _parse_file
from cdp_pipeline.lib.raw.csv_reader import sniff_delimiter
from cdp_pipeline.lib.raw.encoding import CP1252, UTF8, UTF8_BOM, decode_bytes
from cdp_pipeline.lib.raw.file_kinds import (
    ESP_ACTIVITY,
    ESP_MEMBERS,
    POS_ORDERS,
    POS_RECEIPTS,
    SMS_MESSAGES_CSV,
    SMS_MESSAGES_JSONL,
    events_day_from_name,
    normalise_header,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest"


def parse_file(*args, **kwargs):
    # columns may come back as Arrow arrays (the fast CSV path): compared here as lists
    return _parse_file(*args, **kwargs).to_lists()


def rows(parsed, *cols):
    return list(zip(*(parsed.columns[c] for c in cols)))


@pytest.mark.parametrize(
    "header,expected",
    [
        ("Email Address", "email_address"),
        ("  EMAIL_address ", "email_address"),
        ("Lineitem name", "lineitem_name"),
        ("\ufeffcustomer_id", "customer_id"),
        ("Phone-Number", "phone_number"),
        ("SentDate", "sent_date"),
        ("NumSegments", "num_segments"),
        ("MEMBER_RATING", "member_rating"),
    ],
)
def test_normalise_header(header, expected):
    assert normalise_header(header) == expected


@pytest.mark.parametrize(
    "line,expected",
    [
        ("a,b,c\n", ","),
        ("a;b;c\n", ";"),
        ("a\tb\tc\n", "\t"),
        ("a|b|c\n", "|"),
        ("single\n", ","),
        ("a;b;c,d\n", ";"),
    ],
)
def test_sniff_delimiter(line, expected):
    assert sniff_delimiter(line) == expected


def test_utf8_with_bom_is_detected_and_stripped():
    p = parse_file("crm", "c.csv", "\ufeffcustomer_id,first_name\n1,Åsa\n".encode("utf-8"))
    assert p.encoding == UTF8_BOM
    assert rows(p, "customer_id", "first_name") == [("1", "Åsa")]


def test_windows_1252_names_survive():
    data = (FIXTURES / "receipts_store7_20261001.csv").read_bytes()
    p = parse_file("pos", "receipts_store7_20261001.csv", data)
    assert p.kind is POS_RECEIPTS and p.encoding == CP1252 and p.delimiter == ";"
    assert p.columns["loyalty_card_id"][:2] == ["LC-Åsa", "LC-Åsa"]
    assert p.columns["sku"] == ["SKU-ä", "SKU-ö", "SKU-–"]
    # decimal comma and money kept exactly as received (typing happens in staging)
    assert p.columns["unit_price"] == ["1 234,50", "99,90", "kr 99,00"]
    assert p.columns["discount"][1] == "€5,00"
    assert p.lines == [2, 3, 4] and not p.quarantined


def test_undefined_cp1252_bytes_are_kept_not_lost():
    decoded = decode_bytes(b"a,b\n\x81x,\xe5\n")
    assert decoded.encoding == CP1252 and decoded.text == "a,b\n\x81x,å\n"


def test_valid_utf8_is_utf8():
    assert decode_bytes("a\nå\n".encode()).encoding == UTF8


def test_extra_and_missing_optional_columns():
    data = b"First Name,customer_id,Favourite Colour,,customer_id\n Anna ,1,blue,x,dup\n"
    p = parse_file("crm", "c.csv", data)
    assert p.columns["customer_id"] == ["1"]
    assert p.columns["first_name"] == [" Anna "]  # as received
    assert p.columns["email"] == [None]  # missing optional column
    assert json.loads(p.extra[0]) == {"Favourite Colour": "blue", "column_4": "x", "customer_id": "dup"}


def test_header_aliases_case_and_order():
    data = (
        b"STATUS,phone number,Postal Code,Date of Birth,email address\nsubscribed,070-1234567,11122,1980-01-02,a@b.se\n"
    )
    p = parse_file("esp", "export.csv", data)
    assert p.kind is ESP_MEMBERS
    assert rows(p, "email_address", "phone", "zip", "birthday", "status") == [
        ("a@b.se", "070-1234567", "11122", "1980-01-02", "subscribed")
    ]


@pytest.mark.parametrize(
    "name,status",
    [
        ("subscribed_members_export_abc.csv", "subscribed"),
        ("unsubscribed_members_export_abc.csv", "unsubscribed"),
        ("cleaned_members_export_abc.csv", "cleaned"),
        # legacy name of never-opted-in members: it contains "subscribed_members_export"
        ("nonsubscribed_members_export_abc.csv", "nonsubscribed"),
        # Mailchimp's current audience export names
        ("subscribed_email_audience_export_1a2b3c.csv", "subscribed"),
        ("unsubscribed_email_audience_export_1a2b3c.csv", "unsubscribed"),
        ("cleaned_email_audience_export_1a2b3c.csv", "cleaned"),
        ("nonsubscribed_email_audience_export_1a2b3c.csv", "nonsubscribed"),
        ("Nonsubscribed_Email_Audience_Export_1A2B3C.CSV", "nonsubscribed"),
        # a segment's export (a real German-language export was named so)
        ("subscribed_segment_export_5d0c7e21aa.csv", "subscribed"),
        ("unsubscribed_segment_export_5d0c7e21aa.csv", "unsubscribed"),
    ],
)
def test_esp_status_from_file_name(name, status):
    p = parse_file("esp", name, b"Email Address,First Name\na@b.se,Anna\n")
    assert p.kind is ESP_MEMBERS and p.columns["status"] == [status]


def test_esp_activity_by_header():
    p = parse_file(
        "esp",
        "anything.csv",
        b"Email Address;Action;Timestamp;URL\na@b.se;click;2026-01-01 10:00:00;https://x/?a=1;b\n",
    )
    assert p.kind is ESP_ACTIVITY
    assert p.quarantined[0].reason.startswith("wrong number of fields")


def test_pos_kind_by_header_and_multiline_shopify_order():
    p = parse_file("pos", "orders_export_20261001.csv", (FIXTURES / "orders_export_20261001.csv").read_bytes())
    assert p.kind is POS_ORDERS
    assert p.lines == [2, 4, 5]  # the multi-line order row starts on line 2 and ends on 3
    assert p.columns["lineitem_name"] == ['Mug "Large"', "Spoon", "Plate"]
    assert p.columns["billing_name"][0] == 'Anna "Annie" Berg'
    assert p.columns["billing_zip"][0] == "'75008"
    assert json.loads(p.extra[0]) == {"Notes": "Leave at door,\nring twice"}


def test_sms_csv_and_jsonl():
    csv_p = parse_file(
        "sms", "log.csv", b"From,To,Body,Status,SentDate,Direction\n+4670,+4671,STOP,received,2026-01-01,inbound\n"
    )
    assert csv_p.kind is SMS_MESSAGES_CSV and csv_p.columns["from"] == ["+4670"]
    js = parse_file(
        "sms",
        "messages_20261001.jsonl",
        b'{"sid":"SM1","from":"+4670","to":"+4671","body":"Hi","direction":"inbound",'
        b'"date_sent":"Mon, 16 Aug 2021 12:00:00 +0000","num_segments":1,"price":null,"uri":"/x"}\n',
    )
    assert js.kind is SMS_MESSAGES_JSONL
    assert rows(js, "sid", "sent_date", "num_segments", "price") == [
        ("SM1", "Mon, 16 Aug 2021 12:00:00 +0000", "1", None)
    ]
    assert json.loads(js.extra[0]) == {"uri": "/x"}


def test_json_lines_read_from_their_bytes_are_recognised_as_their_text_would_be():
    """UTF-8 JSON lines are read without decoding the file: what decides their kind and whether
    they are text looks at the characters, not the bytes."""
    line = '{"from":"+4670","to":"+4671","body":"Hej","direction":"inbound"}\n'
    # an SMS export named neither .csv nor .jsonl is JSON lines when its first non-blank character
    # is "{", white space past ASCII (U+3000, U+0085) included
    js = parse_file("sms", "messages_export", ("\u3000\u0085\n" + line).encode())
    assert js.kind is SMS_MESSAGES_JSONL and js.columns["body"] == ["Hej"] and js.lines == [2]
    # a UTF-8 BOM is not part of the text
    assert parse_file("sms", "messages_export", b"\xef\xbb\xbf" + line.encode()).kind is SMS_MESSAGES_JSONL
    # white space past ASCII only: no data
    with pytest.raises(FileRejected, match="no data: the file has no text"):
        parse_file("web", "events_20261001.jsonl", "\u3000\n \u2028\n".encode())
    # the binary check counts the first 65,536 characters (here 131,072 bytes of "å" and NUL)
    data = ("å" * 30_000 + "\x00" * 1_500 + "å" * 40_000 + "\n").encode()
    with pytest.raises(FileRejected) as rejected:
        parse_file("web", "events_20261001.jsonl", data)
    assert rejected.value.reason == (
        "binary content, not a text file (2% control or NUL characters in the first 65536 characters)"
    )


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "empty file (0 bytes)"),
        (b"\x00\x01\x02\x03binary\x00\x00\x00\xff\xfe" * 50, "binary content"),
        (b"First Name,Email\nAnna,a@b.se\n", "missing required column(s): customer_id"),
        (b"   \n\n", "no header row"),
    ],
)
def test_whole_file_rejections(data, reason):
    with pytest.raises(FileRejected, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_file("crm", "c.csv", data)


def test_unknown_kind_is_rejected():
    with pytest.raises(FileRejected, match="unknown file kind"):
        parse_file("pos", "stuff.csv", b"a,b\n1,2\n")


def test_header_only_has_no_rows():
    p = parse_file("crm", "c.csv", b"customer_id,email\n")
    assert p.rows_read == 0 and p.rows_loaded == 0


def test_truncated_last_line_is_quarantined():
    p = parse_file("crm", "c.csv", b"customer_id,first_name,email\n1,Anna,a@b.se\n2,Bo")
    assert p.lines == [2]
    (q,) = p.quarantined
    assert q.line_number == 3 and q.raw_record == "2,Bo" and q.reason.startswith("truncated last line")


def test_truncated_last_line_inside_quotes():
    p = parse_file("crm", "c.csv", b'customer_id,first_name\n1,Anna\n2,"Bo')
    (q,) = p.quarantined
    assert q.line_number == 3 and "truncated last line" in q.reason


def test_unbalanced_quote_loses_only_its_line():
    data = b'customer_id,first_name,email\n1,"Anna,a@b.se\n2,Bo,b@c.se\n3,Cy,c@d.se\n'
    p = parse_file("crm", "c.csv", data)
    assert p.columns["customer_id"] == ["2", "3"] and p.lines == [3, 4]
    (q,) = p.quarantined
    assert q.line_number == 2 and q.raw_record == '1,"Anna,a@b.se' and "unbalanced quote" in q.reason
    assert p.rows_read == 3


def test_wrong_field_count_and_trailing_padding():
    data = b"customer_id;first_name\n1;Anna;\n2;Bo;x\n3\n4;Di;\n"
    p = parse_file("crm", "c.csv", data)
    assert p.columns["customer_id"] == ["1", "4"]  # empty trailing fields on most rows: spreadsheet padding
    assert [(q.line_number, q.reason) for q in p.quarantined] == [
        (3, "wrong number of fields: expected 2, found 3"),
        (4, "wrong number of fields: expected 2, found 1"),
    ]


def test_one_row_with_an_extra_empty_field_is_a_shifted_row_not_padding():
    # An unquoted comma inside a value moves every later value one column right;
    # when only that row is wider, its trailing empty field is no excuse to load it.
    data = b"name,lineitem_name,lineitem_price,billing_name\n#1,Mug,9.00,\n#1,Vantar, stickade,249.00,\n#2,Cup,5.00,\n"
    p = parse_file("pos", "orders_export.csv", data)
    assert p.columns["lineitem_name"] == ["Mug", "Cup"]
    assert [(q.line_number, q.reason) for q in p.quarantined] == [(3, "wrong number of fields: expected 4, found 5")]


def test_hard_values_round_trip_exactly():
    long = "x" * 10_000
    values = ['O\'Brien "Bob"', "Zoë 👩‍👩‍👧 ✓", "'; DROP TABLE customers; --", long, "a\r\nb", "semi;colon,comma"]
    body = "".join(f'{i},"{v.replace(chr(34), chr(34) * 2)}"\n' for i, v in enumerate(values))
    p = parse_file("crm", "c.csv", ("customer_id,first_name\n" + body).encode())
    assert p.columns["first_name"] == values


def test_blank_lines_are_not_rows():
    p = parse_file("crm", "c.csv", b"customer_id\n\n1\n   \n;\n2\n")
    assert p.columns["customer_id"] == ["1", ";", "2"] and p.lines == [3, 5, 6]


def test_ga4_events_keep_duplicates_and_quarantine_bad_lines():
    p = parse_file("web", "events_20261001.jsonl", (FIXTURES / "events_20261001.jsonl").read_bytes())
    # lines 1 and 2 are the same event: both kept; line 4 has no user_pseudo_id (a consent-mode ping)
    assert p.lines == [1, 2, 3, 4]
    assert p.columns["event_json"][0] == p.columns["event_json"][1]
    assert set(p.columns["events_day"]) == {"2026-10-01"}
    assert p.columns["event_timestamp"][2] == "1790000001000000"
    assert p.columns["user_id"] == [None, None, "CRM-1", None]
    assert p.columns["user_pseudo_id"][3] is None
    assert p.notes == [
        "1 consent-mode (cookieless) event(s) without user_pseudo_id: loaded, counted, not attributed to a visitor"
    ]
    # The nested parts and unknown keys stay in event_json, the line as received.
    assert json.loads(p.columns["event_json"][2])["ecommerce"] == {"transaction_id": "T1", "purchase_revenue": 99.5}
    assert json.loads(p.columns["event_json"][0])["event_params"][0]["key"] == "ga_session_id"
    assert json.loads(p.columns["event_json"][0])["stream_id"] == "123" and p.extra[0] is None
    reasons = {q.line_number: q.reason for q in p.quarantined}
    assert 4 not in reasons
    assert reasons[5].startswith("invalid JSON")
    assert reasons[6].startswith("truncated last line: invalid JSON")
    assert p.rows_read == 6


def test_a_pretty_printed_json_array_is_read_element_by_element():
    """An "export as JSON" (one array, indented) instead of JSON lines: every element is a row
    or a quarantine row, numbered by the line it starts on, not quarantined line by line."""
    text = json.dumps(
        [
            {
                "event_date": "20261001",
                "event_timestamp": "1790000000000000",
                "event_name": "page_view",
                "user_pseudo_id": "c1",
                "event_params": [{"key": "ga_session_id", "value": {"int_value": 5}}],
            },
            {"event_date": "20261001", "event_name": "login", "user_pseudo_id": "c2"},
            {
                "event_date": "20261001",
                "event_timestamp": "1790000000000001",
                "event_name": "purchase",
                "user_pseudo_id": "c3",
                "user_id": "CRM-7",
            },
            "not an event",
        ],
        indent=2,
    )
    p = parse_file("web", "events_20261001.json", text.encode())
    starts = [i + 1 for i, line in enumerate(text.split("\n")) if line in ("  {", '  "not an event"')]
    assert p.lines == [starts[0], starts[2]]
    assert p.columns["user_pseudo_id"] == ["c1", "c3"] and p.columns["user_id"] == [None, "CRM-7"]
    assert json.loads(p.columns["event_json"][0])["event_params"][0]["value"] == {"int_value": 5}
    assert "\n" not in p.columns["event_json"][0]
    assert [(q.line_number, q.reason) for q in p.quarantined] == [
        (starts[1], "missing required key(s): event_timestamp"),
        (starts[3], "not a JSON object (found str)"),
    ]
    assert p.rows_read == 4


def test_a_broken_json_array_is_quarantined_line_by_line():
    p = parse_file("web", "events_20261001.json", b'[{"event_name": "a"},\n{"event_name": ]\n')
    assert p.rows_loaded == 0 and [q.line_number for q in p.quarantined] == [1, 2]


def test_jsonl_not_an_object():
    p = parse_file("web", "events_20261001.jsonl", b'[1,2]\n"x"\n')
    assert [q.reason for q in p.quarantined] == ["not a JSON object (found list)", "not a JSON object (found str)"]


def test_events_day_from_name():
    assert events_day_from_name("events_20261001.jsonl") == "2026-10-01"
    assert events_day_from_name("other.jsonl") is None


def test_events_day_of_intraday_and_sharded_gzip_names():
    from cdp_pipeline.lib.raw.file_kinds import is_intraday_name

    assert events_day_from_name("events_intraday_20261001.json") == "2026-10-01"
    assert events_day_from_name("events_20261001-000000000003.json.gz") == "2026-10-01"
    assert is_intraday_name("events_intraday_20261001-000000000000.json.gz")
    assert not is_intraday_name("events_20261001.jsonl")


@pytest.mark.parametrize(
    "value, ok",
    [
        (1790000000000000, True),
        ("1790000000000000", True),
        (-1, True),
        (" 12 ", True),
        (2**63 - 1, True),
        (2**63, False),
        ("99999999999999999999", False),
        ("not-a-number", False),
        (1.5, False),
        (True, False),
        ("", False),
        ([1], False),
    ],
)
def test_a_ga4_timestamp_is_a_64_bit_integer_or_its_string(value, ok):
    from cdp_pipeline.lib.raw.jsonl_reader import is_int64

    assert is_int64(value) is ok


def test_a_ga4_event_whose_timestamp_is_not_a_number_is_quarantined_with_why():
    p = parse_file(
        "web",
        "events_20261001.jsonl",
        b'{"event_timestamp":"soon","event_name":"x","user_pseudo_id":"c"}\n'
        b'{"event_timestamp":"17","event_name":"x","user_pseudo_id":"c"}\n',
    )
    assert p.lines == [2]
    assert [(q.line_number, q.reason) for q in p.quarantined] == [
        (1, "event_timestamp is not a whole number of microseconds (found 'soon')")
    ]


def test_a_gzipped_file_is_read_as_the_file_it_holds():
    import gzip

    text = b'{"sid":"SM1","from":"+46701234567","to":"+46766860100","direction":"inbound","date_sent":"x"}\n'
    p = parse_file("sms", "messages-2026-10-01.json.gz", gzip.compress(text, mtime=0))
    assert p.kind.name == "sms_messages_jsonl" and p.columns["sid"] == ["SM1"]
    # recognised by its bytes, whatever its name; a CSV inside is read as CSV
    p = parse_file("sms", "export.bin", gzip.compress(b"From,To,Direction,SentDate\n+46701,+46702,inbound,x\n"))
    assert p.kind.name == "sms_messages_csv" and p.rows_loaded == 1


def test_a_truncated_gzip_file_is_rejected_whole():
    import gzip

    from cdp_pipeline.lib.raw.parsed import FileRejected

    data = gzip.compress(b'{"event_timestamp":1,"event_name":"x","user_pseudo_id":"c"}\n' * 1000)
    with pytest.raises(FileRejected, match="not a readable gzip file"):
        parse_file("web", "events_20261001.json.gz", data[: len(data) // 2])
