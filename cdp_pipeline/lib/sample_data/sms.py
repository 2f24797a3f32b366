"""SMS gateway (Twilio-style): campaign sends, STOP/START and ordinary replies, shipping
notices. Even days arrive as the console message-log CSV (sms_log_<YYYYMMDD>.csv), odd days
as the bulk JSON-lines export (messages_<YYYYMMDD>.jsonl); one file per UTC day.

The messages are drawn as columns (numpy, columns.py): campaign by campaign for every
subscriber at once, each subscriber's opt-out carried from one campaign to the next."""

import json
import re
from datetime import date, datetime, time, timedelta

import numpy as np

from .columns import below, clock, column_rng
from .output import BrokenLine, Output, with_duplicate_rows
from .people import Person
from .records import BareRecord
from .timeutil import UTC, rfc2822

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
STOP_WORDS = ("STOP", "STOP", "stop", "Stop ", "UNSUBSCRIBE", "stopp")  # "stopp": Swedish and Norwegian STOPP
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
# What the sample means by each reply it writes: these opt the number out (the sender confirms and
# sends it no more campaigns until a START), every other reply does not. They are the replies the
# pipeline reads as opt-outs (lib/staging/consent.py: a keyword in any case, Swedish STOPP, a
# keyword with a courtesy word), so a consent check built on the sample's behaviour is right; a
# test holds the two readings together.
OPT_OUT_REPLIES = frozenset({"STOP", "stop", "Stop ", "UNSUBSCRIBE", "stopp", "STOP PLEASE"})


# json.dumps(obj, ensure_ascii=False) builds an encoder per call; one, kept, writes the same.
_encode = json.JSONEncoder(ensure_ascii=False).encode


def build(out: Output, people: list[Person]) -> list[BareRecord]:
    return [BareRecord("sms", "sms", p.phone, p, phone=p.phone) for p in people if p.in_sms and p.phone]


def _segments(body: str) -> int:
    return 1 if len(body) <= 160 else 2


# A message's kind: (direction, status and error when not drawn, price). Outbound messages
# other than the refused ones draw delivered (95 %), undelivered 30003 (3 %) or failed 30005.
_CAMPAIGN, _FORGOT, _REPLY, _CONFIRM, _PARCEL = range(5)
_INBOUND = "inbound"
_KINDS = {
    _CAMPAIGN: ("outbound-api", None, "-0.04830"),
    _FORGOT: ("outbound-api", ("failed", 21610), ""),  # a list that forgot the opt-out: Twilio refuses
    _REPLY: (_INBOUND, ("received", None), "-0.00750"),
    _CONFIRM: ("outbound-reply", None, "-0.04830"),
    _PARCEL: ("outbound-api", None, "-0.04830"),
}
_START_WORDS = ("START", "Start", "YES")
_TEXTS = (*STOP_WORDS, *OTHER_REPLIES, *_START_WORDS, STOP_CONFIRMATION, START_CONFIRMATION)
_OPTS_OUT = np.array([t in OPT_OUT_REPLIES for t in _TEXTS])
_STOP_AT, _OTHER_AT, _START_AT = 0, len(STOP_WORDS), len(STOP_WORDS) + len(OTHER_REPLIES)
_STOP_TEXT, _START_TEXT = len(_TEXTS) - 2, len(_TEXTS) - 1


def _draw_messages(rng, subscribers: list[BareRecord], days: int, start: date) -> dict:
    """Every message as columns: subscriber, UTC second, kind, text (index into _TEXTS, or
    -1 - campaign number, or -2 - tracking number for a parcel notice). Per campaign day, each
    subscriber still subscribed gets the campaign (a reply after 30 s to 6 h: STOP or another
    STOP word 4 %, something else 4 %; a reply in OPT_OUT_REPLIES, "STOP PLEASE" among the
    others too, opts out and is confirmed); one who opted out writes START before it (15 %, and
    gets it again) or is sent it anyway and refused (10 % of the rest). Subscribers without a
    message so far, and 15 % of the others, get a parcel notice."""
    n = len(subscribers)
    start_s = (datetime.combine(start, time(), tzinfo=UTC) - _EPOCH) // timedelta(seconds=1)
    who, when, kind, text = [], [], [], []
    everyone = np.arange(n)

    def add(mask, seconds, kinds, texts) -> None:
        who.append(everyone[mask])
        when.append(np.broadcast_to(seconds, n)[mask])
        kind.append(np.broadcast_to(kinds, n)[mask])
        text.append(np.broadcast_to(texts, n)[mask])

    opted_out = np.zeros(n, bool)
    messaged = np.zeros(n, bool)
    for number, day in enumerate(d for d in range(days) if d % 7 == 2):
        sent = start_s + day * 86400 + 8 * 3600 + below(rng, 1800, n)
        restart = opted_out & (rng.random(n) < 0.15)
        forgot = opted_out & ~restart & (rng.random(n) < 0.1)
        add(restart, sent - 3 * 3600, _REPLY, _START_AT + below(rng, len(_START_WORDS), n))
        add(restart, sent - 3 * 3600 + 2, _CONFIRM, _START_TEXT)
        add(forgot, sent, _FORGOT, -1 - number)
        send = ~opted_out | restart
        add(send, sent, _CAMPAIGN, -1 - number)
        roll = rng.random(n)
        reply_at = sent + 30 + below(rng, 6 * 3600 - 30, n)
        word = _STOP_AT + below(rng, len(STOP_WORDS), n)
        other = _OTHER_AT + below(rng, len(OTHER_REPLIES), n)  # drawn where the reply's add drew it
        stop = send & (roll < 0.04)
        replied = send & (roll >= 0.04) & (roll < 0.08)
        add(stop, reply_at, _REPLY, word)
        add(replied, reply_at, _REPLY, other)
        # every reply the sample means as an opt-out is confirmed and ends the campaigns
        unsubscribed = (stop & _OPTS_OUT[word]) | (replied & _OPTS_OUT[other])
        add(unsubscribed, reply_at + 2, _CONFIRM, _STOP_TEXT)
        opted_out = (opted_out & ~restart) | unsubscribed
        messaged |= send | forgot
    parcel = ~messaged | (rng.random(n) < 0.15)
    moment = start_s + below(rng, days, n) * 86400 + 6 * 3600 + below(rng, 13 * 3600, n)
    add(parcel, moment, _PARCEL, -2 - below(rng, 9 * 10**6, n) - 10**6)
    columns = {
        "who": np.concatenate(who),
        "when": np.concatenate(when),
        "kind": np.concatenate(kind),
        "text": np.concatenate(text),
    }
    count = len(columns["who"])
    columns["roll"] = rng.random(count)
    columns["sid"] = np.frombuffer(rng.bytes(16 * count), ">u8").reshape(count, 2)
    return columns


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _status(kind: int, roll: float) -> tuple[str, int | None]:
    fixed = _KINDS[kind][1]
    if fixed:
        return fixed
    return ("delivered", None) if roll < 0.95 else (("undelivered", 30003) if roll < 0.98 else ("failed", 30005))


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
            "date_sent": m["date_sent"],
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
        f', "date_sent": {_string(m["date_sent"])}, "num_segments": "{_segments(body)}"'
        f', "error_code": {"null" if error is None else int.__repr__(error)}'
        f', "price": {_string(price) if price else "null"}, "price_unit": "USD"}}'
    )


def write(out: Output, records: list[BareRecord], days: int, start: date) -> None:
    """The messages of every subscriber (_draw_messages), even days as CSV rows, odd days as
    JSON lines, each day's file by time and message sid; a few CSV rows written twice and one
    unreadable line (an unbalanced quote) in the first CSV file after the first day."""
    rng = out.rng("sms/write")
    account = "AC" + f"{rng.getrandbits(128):032x}"
    subscribers = sorted((r for r in records if not r.dropped), key=lambda r: r.srid)
    m = _draw_messages(column_rng(f"{out.seed}/sms/messages"), subscribers, days, start)
    start_s = (datetime.combine(start, time(), tzinfo=UTC) - _EPOCH) // timedelta(seconds=1)
    phones_seen_intact = sorted({subscribers[i].srid for i in set(m["who"].tolist())})
    # by day, time and sid; what falls after the period is not delivered
    day = (m["when"] - start_s) // 86400
    order = np.lexsort((m["sid"][:, 1], m["sid"][:, 0], m["when"], day))
    order = order[day[order] < days]
    bounds = np.searchsorted(day[order], np.arange(days + 1)).tolist()
    day_texts = [(start + timedelta(days=d)) for d in range(days)]
    iso = [f"{d.isoformat()}T" for d in day_texts]
    rfc = [rfc2822(datetime.combine(d, time(), tzinfo=UTC))[:-14] for d in day_texts]
    broken_done = False
    for d in range(days):
        landing = start + timedelta(days=d)
        rendered = []
        picked = order[bounds[d] : bounds[d + 1]]
        for i, second, kind, text, roll, (hi, lo) in zip(
            m["who"][picked].tolist(),
            (m["when"][picked] % 86400).tolist(),
            m["kind"][picked].tolist(),
            m["text"][picked].tolist(),
            m["roll"][picked].tolist(),
            m["sid"][picked].tolist(),
        ):
            rec = subscribers[i]
            body = _TEXTS[text] if text >= 0 else _body(text, rec)
            direction, _, price = _KINDS[kind]
            status, error = _status(kind, roll)
            phone = rec.srid
            sender, to = (phone, SENDER) if direction == _INBOUND else (SENDER, phone)
            sid = f"SM{hi:016x}{lo:016x}"
            if d % 2:
                message = {"sid": sid, "from": sender, "to": to, "body": body, "status": status}
                message.update(
                    direction=direction, error=error, price=price, date_sent=f"{rfc[d]}{clock(second)} +0000"
                )
                rendered.append(_json_line(message))
            else:
                rendered.append(
                    [sender, to, body, status, f"{iso[d]}{clock(second)}Z", "2010-04-01", str(_segments(body)),
                     str(error or ""), account, sid, direction, price, "USD"]
                )  # fmt: skip
        if d % 2 == 0:
            rows, pairs = with_duplicate_rows(out, rng, rendered, 0.003)
            if not broken_done and rows and d > 0:
                phone = rng.choice(phones_seen_intact)
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
        elif rendered:
            out.write_lines("sms", landing, f"messages_{landing:%Y%m%d}.jsonl", rendered)


def _body(text: int, rec: BareRecord) -> str:
    """A campaign's text (text -1 - its number) or a parcel notice's (-2 - its tracking number)."""
    if text > -(10**6):
        return CAMPAIGNS[(-1 - text) % len(CAMPAIGNS)].format(first=rec.person.first_name)
    return f"Nordhem: ditt paket är på väg! Spåra: https://nordhem.se/t/{-2 - text}"
