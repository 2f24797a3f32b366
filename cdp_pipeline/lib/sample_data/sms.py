"""SMS gateway (Twilio-style): campaign sends, STOP/START and ordinary replies, shipping
notices. Even days arrive as the console message-log CSV (sms_log_<YYYYMMDD>.csv), odd days
as the bulk JSON-lines export (messages_<YYYYMMDD>.jsonl); one file per UTC day."""

import json
import re
from datetime import date, datetime, time, timedelta
from operator import itemgetter

from .output import BrokenLine, Output, with_duplicate_rows
from .people import Person
from .records import IdRecord
from .spool import DaySpool
from .timeutil import UTC, exact_micros, midnight, rfc2822

HEADER = [
    "From",
    "To",
    "Body",
    "Status",
    "SentDate",
    "ApiVersion",
    "NumSegments",
    "ErrorCode",
    "AccountSid",
    "Sid",
    "Direction",
    "Price",
    "PriceUnit",
]
SENDER = "+46766860100"
CAMPAIGNS = (
    "Hej {first}! Höstrea på Nordhem: 20% på allt t.o.m. söndag. Svara STOP för att avregistrera.",
    "Nordhem: Nya ullfiltar i butik nu! Visa detta sms i kassan för en gratis kaffe. Svara STOP för att avregistrera.",
    "Hej {first}, dubbla poäng på ditt Nordhem-kort i helgen. Svara STOP för att avregistrera.",
)
STOP_WORDS = ("STOP", "STOP", "stop", "Stop ", "UNSUBSCRIBE", "stopp")  # "stopp" is Swedish, not a keyword
OTHER_REPLIES = (
    "STOP PLEASE",
    "Thanks!",
    "Tack!",
    "Hur länge gäller erbjudandet?",
    "Ok 👍",
    "Vem är detta?",
    "Har ni öppet på söndag?",
)
STOP_CONFIRMATION = "Du är nu avregistrerad från Nordhems sms. Svara START för att prenumerera igen."
START_CONFIRMATION = "Välkommen tillbaka! Du får nu sms från Nordhem igen."


# json.dumps(obj, ensure_ascii=False) builds an encoder per call; one, kept, writes the same.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def build(out: Output, people: list[Person]) -> list[IdRecord]:
    return [IdRecord("sms", "sms", p.phone, p, phone=p.phone) for p in people if p.in_sms and p.phone]


def _segments(body: str) -> int:
    return 1 if len(body) <= 160 else 2


def _csv_row(m: dict, account: str) -> list[str]:
    return [
        m["from"],
        m["to"],
        m["body"],
        m["status"],
        m["ts"].isoformat("T", "seconds")[:19] + "Z",  # strftime("%Y-%m-%dT%H:%M:%SZ")
        "2010-04-01",
        str(_segments(m["body"])),
        str(m["error"] or ""),
        account,
        m["sid"],
        m["direction"],
        m["price"],
        "USD",
    ]


def _json_line_encoded(m: dict) -> str:
    """The bulk export's line of a message, by the JSON encoder (what _json_line writes)."""
    return _encode(
        {
            "sid": m["sid"],
            "from": m["from"],
            "to": m["to"],
            "body": m["body"],
            "status": m["status"],
            "direction": m["direction"],
            "date_sent": rfc2822(m["ts"]),
            "num_segments": str(_segments(m["body"])),
            "error_code": m["error"],
            "price": m["price"] or None,
            "price_unit": "USD",
        }
    )


# What json.dumps(ensure_ascii=False) escapes in a string; any other text is written as it is.
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f\\"]')


def _string(text: str) -> str:
    return _encode(text) if _NEEDS_ESCAPE.search(text) else f'"{text}"'


def _json_line(m: dict) -> str:
    """_json_line_encoded(m), written from parts (the encoder's walk over a dict per message
    was a tenth of the SMS writer)."""
    body, error, price = m["body"], m["error"], m["price"]
    return (
        f'{{"sid": {_string(m["sid"])}, "from": {_string(m["from"])}, "to": {_string(m["to"])}'
        f', "body": {_string(body)}, "status": {_string(m["status"])}, "direction": {_string(m["direction"])}'
        f', "date_sent": {_string(rfc2822(m["ts"]))}, "num_segments": "{_segments(body)}"'
        f', "error_code": {"null" if error is None else int.__repr__(error)}'
        f', "price": {_string(price) if price else "null"}, "price_unit": "USD"}}'
    )


def write(out: Output, records: list[IdRecord], days: int, start: date, spool: DaySpool) -> None:
    """Each message goes to the spool as it is made, rendered for its day's file (even days
    CSV rows, odd days JSON lines) with its sort key; the files are then written a day at a time."""
    rng = out.rng("sms/write")
    account = "AC" + f"{rng.getrandbits(128):032x}"
    campaign_days = [d for d in range(days) if d % 7 == 2]
    end = midnight(start + timedelta(days=days), UTC)
    phones_seen_intact: set[str] = set()
    made = 0  # messages made so far

    def keep(m: dict) -> None:
        nonlocal made
        made += 1
        phones_seen_intact.add(m["phone"])
        ts = m["ts"]
        if ts < end:
            day = (ts.date() - start).days
            spool.add(day, (exact_micros(ts), m["sid"], _json_line(m) if day % 2 else _csv_row(m, account)))

    def message(ts: datetime, direction: str, phone: str, body: str) -> None:
        inbound = direction == "inbound"
        status, error = "received", None
        if not inbound:
            roll = rng.random()
            status, error = (
                ("delivered", None) if roll < 0.95 else (("undelivered", 30003) if roll < 0.98 else ("failed", 30005))
            )
        keep(
            {
                "ts": ts,
                "from": phone if inbound else SENDER,
                "to": SENDER if inbound else phone,
                "body": body,
                "status": status,
                "error": error,
                "direction": direction,
                "sid": "SM" + f"{rng.getrandbits(128):032x}",
                "price": "-0.00750" if inbound else "-0.04830",
                "phone": phone,
            }
        )

    for rec in sorted((r for r in records if not r.dropped), key=lambda r: r.srid):
        phone, first = rec.srid, rec.person.first_name
        before = made
        opted_out = False
        for number, day in enumerate(campaign_days):
            sent = midnight(start + timedelta(days=day), UTC) + timedelta(
                seconds=rng.randrange(8 * 3600, 8 * 3600 + 1800)
            )
            if opted_out:
                if rng.random() < 0.15:
                    message(sent - timedelta(hours=3), "inbound", phone, rng.choice(("START", "Start", "YES")))
                    message(
                        sent - timedelta(hours=3) + timedelta(seconds=2), "outbound-reply", phone, START_CONFIRMATION
                    )
                    opted_out = False
                elif rng.random() < 0.1:  # a list that forgot the opt-out: Twilio refuses with 21610
                    keep(
                        {
                            "ts": sent,
                            "from": SENDER,
                            "to": phone,
                            "body": CAMPAIGNS[number % len(CAMPAIGNS)].format(first=first),
                            "status": "failed",
                            "error": 21610,
                            "direction": "outbound-api",
                            "sid": "SM" + f"{rng.getrandbits(128):032x}",
                            "price": "",
                            "phone": phone,
                        }
                    )
                    continue
                else:
                    continue
            message(sent, "outbound-api", phone, CAMPAIGNS[number % len(CAMPAIGNS)].format(first=first))
            roll = rng.random()
            reply_at = sent + timedelta(seconds=rng.randrange(30, 6 * 3600))
            if roll < 0.04:
                word = rng.choice(STOP_WORDS)
                message(reply_at, "inbound", phone, word)
                if word.strip().upper() in ("STOP", "UNSUBSCRIBE"):
                    message(reply_at + timedelta(seconds=2), "outbound-reply", phone, STOP_CONFIRMATION)
                    opted_out = True
            elif roll < 0.08:
                message(reply_at, "inbound", phone, rng.choice(OTHER_REPLIES))
        if made == before or rng.random() < 0.15:
            day = rng.randrange(days)
            ts = midnight(start + timedelta(days=day), UTC) + timedelta(seconds=rng.randrange(6 * 3600, 19 * 3600))
            message(
                ts,
                "outbound-api",
                phone,
                f"Nordhem: ditt paket är på väg! Spåra: https://nordhem.se/t/{rng.randrange(10**6, 10**7)}",
            )

    broken_done = False
    for day in range(days):
        landing = start + timedelta(days=day)
        # the spooled key orders as (ts, sid) did; a stable sort
        day_messages = [rendered for _, _, rendered in sorted(spool.take(day), key=itemgetter(0, 1))]
        if day % 2 == 0:
            rows, pairs = with_duplicate_rows(out, rng, day_messages, 0.003)
            if not broken_done and rows and day > 0:
                phone = rng.choice(sorted(phones_seen_intact))
                ts = datetime.combine(landing, time(22, 59, 59), tzinfo=UTC)
                sid = "SM" + f"{rng.getrandbits(128):032x}"
                rows.append(
                    BrokenLine(
                        f'{phone},{SENDER},"Hej! Kan ni ringa mig, jag har en fråga om min order,received,'
                        f"{ts:%Y-%m-%dT%H:%M:%SZ},2010-04-01,1,,{account},{sid},inbound,-0.00750,USD",
                        "unbalanced quote",
                    )
                )
                broken_done = True
            rel = out.write_csv("sms", landing, f"sms_log_{landing:%Y%m%d}.csv", HEADER, rows)
            for line, orig in pairs:
                out.note_duplicate_row("sms", rel, line, orig)
        elif day_messages:
            out.write_lines("sms", landing, f"messages_{landing:%Y%m%d}.jsonl", day_messages)
