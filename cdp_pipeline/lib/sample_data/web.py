"""Web analytics (GA4 BigQuery export as JSON lines): events_<YYYYMMDD>.jsonl per event day,
delivered in the next day's landing folder; some days re-exported 1-2 days later with a few
late events; duplicated events (at-least-once delivery). Logged-in events carry user_id =
the person's CRM customer_id.

Cookies, sessions and events are drawn as columns (numpy, columns.py) and kept as numbers
until their day's file is written: a session's moments are whole UTC seconds, its events'
times integer microseconds."""

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

import numpy as np

from .columns import below, column_rng, poisson_counts
from .output import BrokenLine, Output
from .people import Person
from .records import BareRecord, IdRecord
from .timeutil import LOCAL, UTC

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


# event names; the writer orders a moment's events by name, as text
NAMES = ("session_start", "page_view", "login", "add_to_cart", "purchase")
_NAME_RANK = np.array([sorted(NAMES).index(name) for name in NAMES])
_START, _VIEW, _LOGIN, _CART, _PURCHASE = range(5)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch(moment: datetime) -> int:
    """Whole seconds since the epoch of an aware time."""
    return (moment - _EPOCH) // timedelta(seconds=1)


class Cookie(NamedTuple):
    """A browser's cookie. A tuple, not a dict: a large sample has millions, held from the
    draw until the web files are written."""

    id: str
    first_touch: int  # microseconds
    device: tuple[str, str, str]  # category, operating system, browser
    traffic: tuple[str, str, str]  # source, medium, campaign


@dataclass(slots=True)
class Sessions:
    """Every session (in the order drawn) and its events (session by session)."""

    cookie: list[Cookie]  # per session: its cookie
    person: list[Person]
    user_id: list  # the CRM customer id, or None when anonymous
    remembered: list[bool]  # logged in from the start (else a login event)
    order: list  # the order the session ends with, or None
    day: np.ndarray  # event day (the day drawn)
    begin: np.ndarray  # whole UTC seconds: the session id
    number: np.ndarray  # the cookie's session number
    offset: np.ndarray  # the local zone's UTC offset at the beginning, seconds
    first_event: np.ndarray  # session i's events are events[first_event[i]:first_event[i + 1]]
    name: np.ndarray  # per event, index into NAMES
    us: np.ndarray  # per event, microseconds since the epoch
    local_date: np.ndarray  # per event, days since the epoch of its local date (the time drawn)
    page: np.ndarray  # per event, index into PAGES


def _plan(views: int, login: bool, cart: bool, purchase: bool) -> tuple[int, ...]:
    plan = (_START,) + (_VIEW,) * views
    if login:
        plan += (_LOGIN, _VIEW)
    if purchase:
        plan += (_CART, _PURCHASE)
    elif cart:
        plan += (_CART,)
    return plan


_PLANS = {key: _plan(*key) for key in np.ndindex(4, 2, 2, 2) if key[0] >= 1}


def _cookies(rng, start: date, count: int) -> list[Cookie]:
    """count cookies: a first visit in the two years before the start, a device, a traffic source."""
    first_seen = _epoch(datetime.combine(start, datetime.min.time(), tzinfo=UTC)) - below(rng, 2 * 365 * 86400, count)
    number = 10**9 + below(rng, 10**9, count)
    device, traffic = below(rng, len(DEVICES), count), below(rng, len(TRAFFIC), count)
    return [
        Cookie(f"{n}.{s}", s * 1_000_000, DEVICES[d], TRAFFIC[t])
        for n, s, d, t in zip(number.tolist(), first_seen.tolist(), device.tolist(), traffic.tolist())
    ]


def _draw_sessions(rng, visitors: list, days: int, start: date) -> dict:
    """The sessions of one stream's visitors: (person, CRM record or None, first day, orders)."""
    last_event_day = days - 2  # events of day E land on E+1; the last landing day's events are not in yet
    count = len(visitors)
    cookie_count = np.where(below(rng, 3, count) == 2, 2, 1)
    logged = np.array([crm is not None for _, crm, _, _ in visitors], bool)
    visits = np.where(logged, np.maximum(1, poisson_counts(rng, days / 30 * 2.2, count)), cookie_count)
    cookie_count = np.where(logged, cookie_count, 1)  # an anonymous visitor keeps one cookie
    cookies = _cookies(rng, start, int(cookie_count.sum()))
    first_cookie = np.concatenate(([0], np.cumsum(cookie_count)[:-1]))
    first_day = np.array([day for _, _, day, _ in visitors], np.int64)
    # the visits: a cookie of the visitor's, a day from the first day on, remembered or not
    visitor = np.repeat(np.arange(count), visits)
    cookie = first_cookie[visitor] + below(rng, cookie_count[visitor], len(visitor))
    day = first_day[visitor] + below(rng, last_event_day + 1 - first_day[visitor], len(visitor))
    remembered = rng.random(len(visitor)) < 0.5
    # a logged-in visitor's orders of the period: most have a session ending with the order
    ordered = [(v, o) for v, (_, crm, first, orders) in enumerate(visitors) for o in orders]
    chosen = rng.random(len(ordered)) < 0.7
    ordered = [(v, o) for (v, o), keep in zip(ordered, chosen.tolist()) if keep]
    order_visitor = np.array([v for v, _ in ordered], np.int64)
    order_cookie = first_cookie[order_visitor] + below(rng, cookie_count[order_visitor], len(ordered))
    return {
        "visitor": np.concatenate((visitor, order_visitor)).tolist(),
        "cookie": [cookies[c] for c in np.concatenate((cookie, order_cookie)).tolist()],
        "day": np.concatenate((day, np.array([o.data["day"] for _, o in ordered], np.int64))),
        "remembered": np.concatenate((remembered & logged[visitor], np.ones(len(ordered), bool))),
        "order": [None] * len(visitor) + [o for _, o in ordered],
    }


def build(
    out: Output,
    people: list[Person],
    crm_by_person: dict[str, IdRecord],
    orders: list[IdRecord],
    days: int,
    start: date,
) -> tuple[list[BareRecord], Sessions]:
    """The web identity records (one per logged-in visitor) and every session with its events."""
    last_event_day = days - 2
    orders_by_person: dict[str, list[IdRecord]] = {}
    for order in orders:
        orders_by_person.setdefault(order.person.person_id, []).append(order)
    visitors: dict[bool, list] = {False: [], True: []}
    records: list[BareRecord] = []
    for p in people:
        crm = crm_by_person.get(p.person_id)
        if p.web_login and crm:
            first_day = crm.data["created_day"] if crm.data["created_day"] > 0 else -1
            if first_day > last_event_day:
                continue
            mine = [o for o in orders_by_person.get(p.person_id, ()) if first_day <= o.data["day"] <= last_event_day]
            visitors[bool(p.hard_case)].append((p, crm, first_day, mine))
            records.append(BareRecord("web", "web", crm.srid, p, crm_id=crm.srid))
        elif p.web_anonymous:
            visitors[bool(p.hard_case)].append((p, None, -1, ()))
    # Hard-case people draw from their own stream, so everyone else's sessions stay as they were.
    parts = []
    for hard, name in ((False, "web"), (True, "web/hardcases")):
        if visitors[hard]:
            rng = column_rng(f"{out.seed}/{name}")
            drawn = _draw_sessions(rng, visitors[hard], days, start)
            parts.append((rng, visitors[hard], drawn))
    return records, _with_events(parts, start)


def _with_events(parts: list, start: date) -> Sessions:
    """The sessions' events: a plan of names per session, a moment and a page per event."""
    cookie, person, user_id, remembered, order = [], [], [], [], []
    day, begin, offset, first_event, name, us, local_date, page = [], [], [], [], [], [], [], []
    events = 0
    for rng, visitors, drawn in parts:
        n = len(drawn["order"])
        views = 1 + below(rng, 3, n)
        cart = rng.random(n) < 0.25
        late = 60 + below(rng, 540, n)  # an order's session begins this long before len(plan) * 151 s
        wall = 6 * 3600 + below(rng, 17 * 3600, n)  # else a local time between 06 and 23
        s_person = [visitors[v][0] for v in drawn["visitor"]]
        s_user = [visitors[v][1].srid if visitors[v][1] else None for v in drawn["visitor"]]
        s_order = drawn["order"]
        plans = [
            _PLANS[v, bool(u) and not r, c and o is None, o is not None]
            for v, u, r, c, o in zip(views.tolist(), s_user, drawn["remembered"].tolist(), cart.tolist(), s_order)
        ]
        lengths = np.array([len(plan) for plan in plans], np.int64)
        s_day = drawn["day"]
        s_begin, s_offset = _begins(s_day, wall, s_order, lengths, late, start)
        # event times: 4 to 150 s (to the microsecond) between events, from the session's beginning
        count = int(lengths.sum())
        step = 4_000_000 + below(rng, 146_000_000, count)
        firsts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        since = np.cumsum(step) - step
        e_us = np.repeat(s_begin * 1_000_000, lengths) + since - np.repeat(since[firsts], lengths)
        e_local = (e_us // 1_000_000 + np.repeat(s_offset, lengths)) // 86400
        # the purchase at the order's own moment (its event date stays the one drawn)
        with_order = [i for i, o in enumerate(s_order) if o is not None]
        e_us[firsts[with_order] + lengths[with_order] - 1] = [
            _epoch(s_order[i].data["created"]) * 1_000_000 for i in with_order
        ]
        cookie += drawn["cookie"]
        person += s_person
        user_id += s_user
        remembered += drawn["remembered"].tolist()
        order += s_order
        day.append(s_day)
        begin.append(s_begin)
        offset.append(s_offset)
        first_event.append(firsts + events)
        name.append(np.fromiter((code for plan in plans for code in plan), np.int64, count))
        us.append(e_us)
        local_date.append(e_local)
        page.append(below(rng, len(PAGES), count))
        events += count
    first_event.append(np.array([events]))
    numbers = _session_numbers(cookie)
    join = lambda arrays: np.concatenate(arrays) if arrays else np.zeros(0, np.int64)  # noqa: E731
    return Sessions(
        cookie, person, user_id, remembered, order, join(day), join(begin), numbers, join(offset),
        np.concatenate(first_event), join(name), join(us), join(local_date), join(page),
    )  # fmt: skip


def _session_numbers(cookies: list[Cookie]) -> np.ndarray:
    """Each session's number on its cookie: 1, 2, ... in the order the sessions were drawn."""
    seen: dict[int, int] = {}
    numbers = []
    for cookie in cookies:
        numbers.append(seen.get(id(cookie), 0) + 1)
        seen[id(cookie)] = numbers[-1]
    return np.array(numbers, np.int64)


def _begins(day: np.ndarray, wall: np.ndarray, orders: list, lengths: np.ndarray, late: np.ndarray, start: date):
    """Each session's beginning (whole UTC seconds) and the local zone's offset then: a local
    time on its day, or, ending with an order, len(plan) * 151 s + late before the order's moment."""
    offsets = {}
    for d in set(day.tolist()):  # the sessions' hours (06-23) are never in a change of time
        noon = datetime.combine(start + timedelta(days=d), datetime.min.time(), tzinfo=LOCAL) + timedelta(hours=12)
        offsets[d] = (_epoch(noon.replace(tzinfo=UTC)) - _epoch(noon), _epoch(noon.replace(tzinfo=UTC)) - 12 * 3600)
    offset = np.array([offsets[d][0] for d in day.tolist()], np.int64)
    local_midnight = np.array([offsets[d][1] for d in day.tolist()], np.int64)
    begin = local_midnight + wall - offset
    for i, order in enumerate(orders):
        if order is not None:
            created = order.data["created"]
            begin[i] = _epoch(created) - (int(lengths[i]) * 151 + int(late[i]))
            offset[i] = int(created.utcoffset().total_seconds())
    return begin, offset


_dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_strings: dict[str, str] = {}


def _s(text: str) -> str:
    """A JSON string literal, as json.dumps(ensure_ascii=False) writes it, kept: the same few
    thousand strings recur (names of events, pages and products, devices, cities)."""
    out = _strings.get(text)
    if out is None:
        out = _strings[text] = _dump(text)
    return out


def _session_json(e: dict) -> tuple[str, str]:
    """The parts of an event's line that its whole session shares: the session parameters
    (before the page's) and the fields from the user's pseudo id to the traffic source."""
    cookie = e["cookie"]
    user_id = e["user_id"]
    traffic = cookie.traffic
    person = e["person"]
    head = (
        f',"event_params":[{{"key":"ga_session_id","value":{{"int_value":{e["session_id"]}}}}}'
        f',{{"key":"ga_session_number","value":{{"int_value":{e["session_number"]}}}}}'
    )
    rest = (
        f',"user_pseudo_id":{_dump(cookie.id)}'  # ids are many and seldom repeat: not kept
        f',"user_id":{"null" if user_id is None else _dump(user_id)}'
        f',"user_first_touch_timestamp":{cookie.first_touch}'
        f',"device":{_device(cookie.device)}'
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


def write(out: Output, sessions: Sessions, days: int, start: date) -> None:
    """One file per event day, delivered the next day; some days re-exported 1-2 days later
    with the events of a few late sessions added; about 1 % of events delivered twice; once a
    truncated last line."""
    rng = out.rng("web/write")
    random = rng.random
    broken_done = False
    cookie_rank = _cookie_ranks(sessions.cookie)
    session_of = np.repeat(np.arange(len(sessions.day)), np.diff(sessions.first_event))
    event_day = sessions.day[session_of]
    # a day's events by time, cookie id, session id and name (the order of their text), then as drawn
    order = np.lexsort(
        (
            np.arange(len(session_of)),
            _NAME_RANK[sessions.name],
            sessions.begin[session_of],
            cookie_rank[session_of],
            sessions.us,
            event_day,
        )
    )
    bounds = np.searchsorted(event_day[order], np.arange(-1, days)).tolist()
    # logged in: a user's session remembered from the start, else from its login event on
    logins = np.cumsum(sessions.name == _LOGIN)
    before = np.concatenate(([0], logins))[sessions.first_event[:-1]]
    has_user = np.array([user is not None for user in sessions.user_id], bool)
    logged = has_user[session_of] & (np.array(sessions.remembered, bool)[session_of] | (logins > before[session_of]))
    renderer = _Renderer(sessions)
    for event_day in range(-1, days - 1):
        day_events = order[bounds[event_day + 1] : bounds[event_day + 2]]
        event_date = start + timedelta(days=event_day)
        landing = event_day + 1
        redelivery = landing + rng.randint(1, 2)
        late_sessions: set[int] = set()
        day_sessions = sorted(
            set(session_of[day_events].tolist()),
            key=lambda s: (sessions.cookie[s].id, int(sessions.begin[s])),
        )
        if redelivery <= days - 1 and len(day_sessions) >= 2 and rng.random() < 0.35:
            # A re-export always carries a few events the first delivery lacked.
            late_sessions = {s for s in day_sessions if rng.random() < 0.05} or {rng.choice(day_sessions)}
        else:
            redelivery = None
        lines_all: list = []
        lines_first: list = []
        day_session_of = session_of[day_events].tolist()
        for text, session in zip(
            renderer.lines(day_events, day_session_of, logged[day_events].tolist()), day_session_of
        ):
            lines_all.append(text)
            first = session not in late_sessions
            if first:
                lines_first.append(text)
            if random() < 0.01:  # at-least-once delivery: a second copy
                lines_all.append(text)
                if first:
                    lines_first.append(text)
        renderer.forget_sessions()
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


def _cookie_ranks(cookies: list[Cookie]) -> np.ndarray:
    """Per session, its cookie id's place among all cookie ids as text."""
    ids = [cookie.id for cookie in cookies]
    rank = {cookie_id: r for r, cookie_id in enumerate(sorted(set(ids)))}
    return np.array([rank[cookie_id] for cookie_id in ids], np.int64)


class _Renderer:
    """The GA4 export line of an event, json.dumps(record, ensure_ascii=False,
    separators=(",", ":")) of its record (test_event_lines_are_what_json_dumps_writes), in
    UTF-8 and written from parts: what a session's events share (its parameters, cookie, user,
    device, place and traffic) once per session, the rest from kept renderings."""

    def __init__(self, sessions: Sessions):
        self.s = sessions
        self.days: dict[int, bytes] = {}
        self.pages = [
            (
                f',{{"key":"page_location","value":{{"string_value":{_s(url)}}}}}'
                f',{{"key":"page_title","value":{{"string_value":{_s(title)}}}}}]'
            ).encode("utf-8")
            for url, title in PAGES
        ]
        self.names = [f',"event_name":{_s(name)}'.encode("utf-8") for name in NAMES]
        self.sessions: dict[tuple[int, bool], tuple[bytes, bytes]] = {}
        self.orders: dict[tuple[int, bool], bytes] = {}

    def forget_sessions(self) -> None:
        """A day's sessions are done once its file is written."""
        self.sessions.clear()
        self.orders.clear()

    def lines(self, events: np.ndarray, session_of: list[int], logged: list[bool]) -> list[bytes]:
        """The lines of events (session_of and logged: each one's session and whether its user
        is logged in). Only these events' columns become Python values."""
        s = self.s
        name_parts, page_parts, day_parts, session_parts = self.names, self.pages, self.days, self.sessions
        no_order = b',"ecommerce":null,"items":[]}'
        out = []
        for us, name, page, local, session, logged_in in zip(
            s.us[events].tolist(),
            s.name[events].tolist(),
            s.page[events].tolist(),
            s.local_date[events].tolist(),
            session_of,
            logged,
        ):
            parts = session_parts.get((session, logged_in))
            if parts is None:
                e = {
                    "cookie": s.cookie[session],
                    "user_id": s.user_id[session] if logged_in else None,
                    "session_id": int(s.begin[session]),
                    "session_number": int(s.number[session]),
                    "person": s.person[session],
                }
                parts = session_parts[session, logged_in] = tuple(part.encode("utf-8") for part in _session_json(e))
            tail = no_order
            if name >= _CART and s.order[session] is not None:
                tail = self._order_tail(session, name == _PURCHASE)
            day = day_parts.get(local)
            if day is None:
                d = date(1970, 1, 1) + timedelta(days=local)
                day = day_parts[local] = (
                    f'{{"event_date":"{d.year:04d}{d.month:02d}{d.day:02d}","event_timestamp":'.encode()
                )
            out.append(b"".join((day, b"%d" % us, name_parts[name], parts[0], page_parts[page], parts[1], tail)))
        return out

    def _order_tail(self, session: int, purchase: bool) -> bytes:
        tail = self.orders.get((session, purchase))
        if tail is None:
            tail = self.orders[session, purchase] = _order_json(self.s.order[session], purchase).encode("utf-8")
        return tail
