"""Web analytics (GA4 BigQuery export as JSON lines): events_<YYYYMMDD>.jsonl per event day,
delivered in the next day's landing folder; some days re-exported 1-2 days later with a few
late events; duplicated events (at-least-once delivery). Logged-in events carry user_id =
the person's CRM customer_id."""

import json
import random
from datetime import date, datetime, timedelta
from operator import itemgetter

from .output import BrokenLine, Output
from .people import Person
from .records import IdRecord, poisson
from .spool import DaySpool
from .timeutil import UTC, exact_micros, local_moment, micros, midnight

PAGES = (
    ("https://www.nordhem.se/", "Nordhem – hem och kök"),
    ("https://www.nordhem.se/rea", "Rea"),
    ("https://www.nordhem.se/textil", "Textil"),
    ("https://www.nordhem.se/kok", "Kök"),
    ("https://www.nordhem.se/textil/ullfiltar", "Ullfiltar"),
    ("https://www.nordhem.se/butiker", "Våra butiker"),
    ("https://www.nordhem.se/kaffe-te", "Kaffe & te"),
)
DEVICES = (
    ("mobile", "iOS", "Safari"),
    ("mobile", "Android", "Chrome"),
    ("desktop", "Windows", "Chrome"),
    ("desktop", "Macintosh", "Safari"),
    ("tablet", "iOS", "Safari"),
    ("desktop", "Windows", "Edge"),
)
TRAFFIC = (
    ("google", "organic", "(organic)"),
    ("(direct)", "(none)", "(direct)"),
    ("newsletter", "email", "hostnyheter"),
    ("facebook", "cpc", "host_retargeting"),
    ("bing", "organic", "(organic)"),
)
COUNTRY_NAMES = {
    "SE": "Sweden",
    "DK": "Denmark",
    "NO": "Norway",
    "FI": "Finland",
    "DE": "Germany",
    "GB": "United Kingdom",
}


def _cookie(rng: random.Random, start: date) -> dict:
    first_seen = midnight(start, UTC) - timedelta(seconds=rng.randrange(0, 2 * 365 * 86400))
    return {
        "id": f"{rng.randrange(10**9, 2 * 10**9)}.{int(first_seen.timestamp())}",
        "first_touch": micros(first_seen),
        "device": rng.choice(DEVICES),
        "traffic": rng.choice(TRAFFIC),
        "sessions": 0,
    }


def _session(
    rng,
    events: list,
    p: Person,
    cookie: dict,
    day: int,
    start: date,
    user_id: str | None,
    remembered: bool,
    order: IdRecord | None,
) -> None:
    plan = ["session_start"] + ["page_view"] * rng.randint(1, 3)
    if user_id and not remembered:
        plan += ["login", "page_view"]
    if order:
        plan += ["add_to_cart", "purchase"]
    elif rng.random() < 0.25:
        plan.append("add_to_cart")
    if order:  # the session ends with the order's own moment
        begin = order.data["created"] - timedelta(seconds=len(plan) * 151 + rng.randrange(60, 600))
    else:
        begin = local_moment(rng, start + timedelta(days=day), 6, 23)
    cookie["sessions"] += 1
    session_id = int(begin.timestamp())
    # The event times as microseconds since the epoch (begin is a whole second): integer steps
    # instead of datetime arithmetic per event.
    us = exact_micros(begin)
    zone = begin.tzinfo
    logged_in = user_id is not None and remembered
    session_number = cookie["sessions"]
    cookie_id = cookie["id"]
    choice, randrange = rng.choice, rng.randrange
    for name in plan:
        if name == "login":
            logged_in = True
        events.append(
            {
                "us": us,
                "local_date": _local_date(us, zone),
                "name": name,
                "cookie": cookie,
                "cookie_id": cookie_id,
                "user_id": user_id if logged_in else None,
                "session_id": session_id,
                "session_number": session_number,
                "page": choice(PAGES),
                "person": p,
                "order": order,
                "event_day": day,
            }
        )
        us += randrange(4_000_000, 150_000_000)  # 4 to 150 s, to the microsecond
    if order:  # the purchase at the order's own moment (its event date stays the one drawn)
        events[-1]["us"] = exact_micros(order.data["created"])


_HOUR = 3_600_000_000
_local_dates: dict = {}


def _local_date(us: int, zone) -> date:
    """The local date of a moment (microseconds since the epoch) in the zone: the same through
    each UTC hour (the zones' offsets are whole hours), kept per hour."""
    key = (us // _HOUR, zone)
    local = _local_dates.get(key)
    if local is None:
        local = _local_dates[key] = datetime.fromtimestamp(key[0] * 3600, zone).date()
    return local


def build(
    out: Output,
    people: list[Person],
    crm_by_person: dict[str, IdRecord],
    orders: list[IdRecord],
    days: int,
    start: date,
    spool: DaySpool | None = None,
) -> tuple[list[IdRecord], list[dict]]:
    """The web identity records and the events. With a spool, each person's events go to it
    as they are made, rendered and keyed for the writer (spooled_event), and the returned
    event list is empty: the events of a large sample do not fit in memory."""
    main_rng, case_rng = out.rng("web"), out.rng("web/hardcases")
    last_event_day = days - 2  # events of day E land on E+1; the last landing day's events are not in yet
    orders_by_person: dict[str, list[IdRecord]] = {}
    for order in orders:
        orders_by_person.setdefault(order.person.person_id, []).append(order)
    records: list[IdRecord] = []
    events: list[dict] = []
    parts: dict = {}  # renderings every event shares (days, pages, names): kept for the whole run

    def spill() -> None:
        """The events made so far (one person's) to the spool. Their session parts are not kept
        in parts: the keys hold the id of a cookie, which is freed and reused after."""
        sessions: dict = {}
        add = spool.add
        for e in events:  # spooled_event(e, parts, sessions), without a call per event
            add(e["event_day"], (e["us"], e["cookie_id"], e["session_id"], e["name"], _event_line(e, parts, sessions)))
        events.clear()

    for p in people:
        if spool is not None:
            spill()
        crm = crm_by_person.get(p.person_id)
        # Hard-case people draw from their own stream, so everyone else's records stay as they were.
        rng = case_rng if p.hard_case else main_rng
        if p.web_login and crm:
            first_day = crm.data["created_day"] if crm.data["created_day"] > 0 else -1
            if first_day > last_event_day:
                continue
            cookies = [_cookie(rng, start) for _ in range(rng.choice((1, 1, 2)))]
            for _ in range(max(1, poisson(rng, days / 30 * 2.2))):
                _session(
                    rng,
                    events,
                    p,
                    rng.choice(cookies),
                    rng.randint(first_day, last_event_day),
                    start,
                    crm.srid,
                    rng.random() < 0.5,
                    None,
                )
            for order in orders_by_person.get(p.person_id, []):
                if first_day <= order.data["day"] <= last_event_day and rng.random() < 0.7:
                    _session(rng, events, p, rng.choice(cookies), order.data["day"], start, crm.srid, True, order)
            records.append(IdRecord("web", "web", crm.srid, p, crm_id=crm.srid))
        elif p.web_anonymous:
            cookie = _cookie(rng, start)
            for _ in range(rng.choice((1, 1, 2))):
                _session(rng, events, p, cookie, rng.randint(-1, last_event_day), start, None, False, None)
    if spool is not None:
        spill()
    return records, events


def spooled_event(e: dict, parts: dict, sessions: dict) -> tuple[int, str, int, str, bytes]:
    """What the writer needs of an event: its sort key (the moment in exact microseconds, which
    orders as the aware time does, the cookie id, session id and event name) and its line."""
    return (
        e["us"],
        e["cookie_id"],
        e["session_id"],
        e["name"],
        _event_line(e, parts, sessions),
    )


def _event_dict(e: dict) -> dict:
    params = [
        {"key": "ga_session_id", "value": {"int_value": e["session_id"]}},
        {"key": "ga_session_number", "value": {"int_value": e["session_number"]}},
        {"key": "page_location", "value": {"string_value": e["page"][0]}},
        {"key": "page_title", "value": {"string_value": e["page"][1]}},
    ]
    order = e["order"]
    ecommerce, items = None, []
    if order and e["name"] in ("add_to_cart", "purchase"):
        items = [
            {"item_id": sku, "item_name": name, "price": price, "quantity": qty}
            for sku, name, price, _vat, qty in order.data["items"]
        ]
        if e["name"] == "purchase":
            ecommerce = {
                "transaction_id": order.data["name"],
                "purchase_revenue": order.data["total"],
                "total_item_quantity": sum(qty for *_, qty in order.data["items"]),
            }
    device, traffic = e["cookie"]["device"], e["cookie"]["traffic"]
    record = {
        "event_date": e["local_date"].strftime("%Y%m%d"),
        "event_timestamp": e["us"],
        "event_name": e["name"],
        "event_params": params,
        "user_pseudo_id": e["cookie"]["id"],
        "user_id": e["user_id"],
        "user_first_touch_timestamp": e["cookie"]["first_touch"],
        "device": {"category": device[0], "operating_system": device[1], "web_info": {"browser": device[2]}},
        "geo": {"country": COUNTRY_NAMES[e["person"].country], "city": e["person"].city},
        "traffic_source": {"source": traffic[0], "medium": traffic[1], "name": traffic[2]},
        "ecommerce": ecommerce,
        "items": items,
    }
    return record


_dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_strings: dict[str, str] = {}


def _s(text: str) -> str:
    """A JSON string literal, as json.dumps(ensure_ascii=False) writes it, kept: the same few
    thousand strings recur (names of events, pages and products, devices, cities)."""
    out = _strings.get(text)
    if out is None:
        out = _strings[text] = _dump(text)
    return out


def _event_json(e: dict) -> str:
    """The GA4 export line of an event: json.dumps(_event_dict(e), ensure_ascii=False,
    separators=(",", ":"))."""
    return _event_line(e, {}).decode("utf-8")


def _event_line(e: dict, parts: dict, sessions: dict | None = None) -> bytes:
    """_event_json(e) in UTF-8, written from parts (the encoder's generic walk over a dozen
    nested dicts per line was the generator's largest single cost) and in bytes (the day's
    file is then one join, without encoding a text of all its lines).

    parts: renderings kept between calls; sessions (default: parts): the session's part of the
    line (its parameters, cookie, user, device, place and traffic), the same on each of its
    events, kept while its cookie lives (the key holds the cookie's id)."""
    order = e["order"]
    name = e["name"]
    tail = b',"ecommerce":null,"items":[]}'
    if order and name in ("add_to_cart", "purchase"):
        tail = _order_json(order, name == "purchase").encode("utf-8")
    key = (id(e["cookie"]), e["session_id"], e["session_number"], e["user_id"])  # a cookie is one person's
    if sessions is None:
        sessions = parts
    session = sessions.get(key)
    if session is None:
        session = sessions[key] = tuple(part.encode("utf-8") for part in _session_json(e))
    d = e["local_date"]
    day = parts.get(d)
    if day is None:
        day = parts[d] = f'{{"event_date":"{d.year:04d}{d.month:02d}{d.day:02d}","event_timestamp":'.encode()
    page = e["page"]
    page_json = parts.get(page)
    if page_json is None:
        page_json = parts[page] = (
            f',{{"key":"page_location","value":{{"string_value":{_s(page[0])}}}}}'
            f',{{"key":"page_title","value":{{"string_value":{_s(page[1])}}}}}]'
        ).encode("utf-8")
    name_json = parts.get(name)
    if name_json is None:
        name_json = parts[name] = f',"event_name":{_s(name)}'.encode("utf-8")
    return b"".join((day, b"%d" % e["us"], name_json, session[0], page_json, session[1], tail))


def _session_json(e: dict) -> tuple[str, str]:
    """The parts of an event's line that its whole session shares: the session parameters
    (before the page's) and the fields from the user's pseudo id to the traffic source."""
    cookie = e["cookie"]
    user_id = e["user_id"]
    traffic = cookie["traffic"]
    person = e["person"]
    head = (
        f',"event_params":[{{"key":"ga_session_id","value":{{"int_value":{e["session_id"]}}}}}'
        f',{{"key":"ga_session_number","value":{{"int_value":{e["session_number"]}}}}}'
    )
    rest = (
        f',"user_pseudo_id":{_dump(cookie["id"])}'  # ids are many and seldom repeat: not kept
        f',"user_id":{"null" if user_id is None else _dump(user_id)}'
        f',"user_first_touch_timestamp":{cookie["first_touch"]}'
        f',"device":{_device(cookie["device"])}'
        f',"geo":{{"country":{_s(COUNTRY_NAMES[person.country])},"city":{_s(person.city)}}}'
        f',"traffic_source":{{"source":{_s(traffic[0])},"medium":{_s(traffic[1])},"name":{_s(traffic[2])}}}'
    )
    return head, rest


def _number(value) -> str:
    """A JSON number as json.dumps writes it (a float by float.__repr__)."""
    if type(value) is float:
        return float.__repr__(value)
    return int.__repr__(value) if type(value) is int else _dump(value)


def _order_json(order: IdRecord, purchase: bool) -> str:
    """The event's ecommerce and items fields and the closing brace."""
    items = order.data["items"]
    listed = ",".join(
        f'{{"item_id":{_s(sku)},"item_name":{_s(name)},"price":{_number(price)},"quantity":{_number(qty)}}}'
        for sku, name, price, _vat, qty in items
    )
    ecommerce = "null"
    if purchase:
        ecommerce = (
            f'{{"transaction_id":{_s(order.data["name"])},"purchase_revenue":{_number(order.data["total"])}'
            f',"total_item_quantity":{_number(sum(qty for *_, qty in items))}}}'
        )
    return f',"ecommerce":{ecommerce},"items":[{listed}]}}'


def _device(device: tuple) -> str:
    return f'{{"category":{_s(device[0])},"operating_system":{_s(device[1])},"web_info":{{"browser":{_s(device[2])}}}}}'


def write(out: Output, spool: DaySpool, days: int, start: date) -> None:
    """The event files from the spool build() filled, one event day at a time."""
    rng = out.rng("web/write")
    random = rng.random
    broken_done = False
    for event_day in range(-1, days - 1):
        # spooled_event's key orders as (ts, cookie_id, session_id, name); the sort is stable,
        # so ties keep the order the events were made in
        day_events = sorted(spool.take(event_day), key=itemgetter(0, 1, 2, 3))
        event_date = start + timedelta(days=event_day)
        landing = event_day + 1
        redelivery = landing + rng.randint(1, 2)
        late_sessions: set[tuple] = set()
        sessions = sorted(set(map(itemgetter(1, 2), day_events)))
        if redelivery <= days - 1 and len(sessions) >= 2 and rng.random() < 0.35:
            # A re-export always carries a few events the first delivery lacked.
            late_sessions = {s for s in sessions if rng.random() < 0.05} or {rng.choice(sessions)}
        else:
            redelivery = None
        lines_all: list = []
        lines_first: list = []
        for _, cookie_id, session_id, _, text in day_events:
            lines_all.append(text)
            first = not late_sessions or (cookie_id, session_id) not in late_sessions
            if first:
                lines_first.append(text)
            if random() < 0.01:  # at-least-once delivery: a second copy
                lines_all.append(text)
                if first:
                    lines_first.append(text)
        del day_events
        name = f"events_{event_date:%Y%m%d}.jsonl"
        if not broken_done and len(lines_first) > 2 and landing % 6 == 4:
            # The export stopped mid-line: a partial event after the last full one.
            copy = rng.choice(lines_first[:-1]).decode("utf-8")
            lines_first = lines_first + [BrokenLine(copy[: len(copy) // 2], "truncated last line", final_newline=False)]
            broken_done = True
        if lines_first:
            out.write_lines("web", start + timedelta(days=landing), name, lines_first)
        if redelivery is not None and lines_all:
            out.write_lines("web", start + timedelta(days=redelivery), name, lines_all)
