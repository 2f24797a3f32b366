"""Email service provider (Mailchimp-style): member exports per status and daily campaign
activity. Day 1 carries the full audience; later days carry members that joined or
changed status that day (subscribed_/unsubscribed_/cleaned_members_export_<listid>.csv)."""

import random
from datetime import date, datetime, time, timedelta

import numpy as np

from .columns import below, clock, column_rng
from .output import BrokenLine, Output, with_duplicate_rows
from .people import Person
from .records import IdRecord, choose_email, person_name, pick
from .timeutil import UTC, midnight, plain
from .variation import format_phone, format_postcode, vary_email

SYSTEM = [
    "MEMBER_RATING",
    "OPTIN_TIME",
    "OPTIN_IP",
    "CONFIRM_TIME",
    "CONFIRM_IP",
    "LATITUDE",
    "LONGITUDE",
    "GMTOFF",
    "DSTOFF",
    "TIMEZONE",
    "CC",
    "REGION",
]
TAIL = ["LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS"]
MERGE = ["Email Address", "First Name", "Last Name", "Phone Number", "Address", "Zip", "City", "Date of Birth"]
EXTRA = {
    "subscribed": [],
    "unsubscribed": ["UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON", "UNSUB_REASON_OTHER"],
    "cleaned": ["CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID"],
}
GEO = {
    "SE": (59.33, 18.07, "Europe/Stockholm", "AB"),
    "DK": (55.68, 12.57, "Europe/Copenhagen", "84"),
    "NO": (59.91, 10.75, "Europe/Oslo", "03"),
    "FI": (60.17, 24.94, "Europe/Helsinki", "18"),
    "DE": (52.52, 13.40, "Europe/Berlin", "BE"),
    "GB": (51.51, -0.13, "Europe/London", "ENG"),
}
UNSUB_REASONS = ("", "", "NORMAL", "NOSIGNUP", "INAPPROPRIATE", "SPAM", "OTHER")
ACTIVITY_HEADER = ["Email Address", "Action", "Timestamp", "Campaign ID", "Campaign Title", "URL"]
CAMPAIGN_TITLES = (
    "Höstnyheter",
    "Veckans erbjudande",
    "Mysiga kvällar – ullplagg",
    "Köksfavoriter",
    "Förhandsvisning Black Week",
    "Nytt i butik",
    "Sista chansen: 20 % på allt",
)
URLS = (
    "https://www.nordhem.se/nyheter",
    "https://www.nordhem.se/rea",
    "https://www.nordhem.se/kok",
    "https://www.nordhem.se/textil/ullfiltar",
    "https://www.nordhem.se/butiker",
)


def _ip(rng: random.Random) -> str:
    return f"{rng.choice((83, 90, 94, 155, 213))}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _member(
    rng, p: Person, email: str, flag: str | None, days: int, start: date, *, more_nicknames: bool = False
) -> IdRecord:
    rec = IdRecord("esp", "esp", "", p, email=email, email_flag=flag)
    family_subscription = flag == "shared" and p.family_inbox  # the family's inbox: nobody's name
    if not family_subscription and (p.former_last_name or rng.random() < 0.7):
        rec.first, rec.last, rec.data["name_kind"] = person_name(
            rng,
            p,
            {"lower": 0.05, "typo": 0.04, "nickname": 0.05, "missing_first": 0.03},
            "esp",
            more_nicknames=more_nicknames,
        )
    if p.phone and rng.random() < 0.35:
        rec.phone = p.phone
    if rng.random() < 0.25:
        street, postcode, city = (
            p.old_address if p.old_address and rng.random() < 0.4 else (p.street, p.postcode, p.city)
        )
        rec.street, rec.postcode, rec.city, rec.country = street, postcode, city, p.country
    if (rng.random() < 0.2 or p.former_last_name) and not p.hide_birth_date:
        rec.birth_date = p.birth_date
    joined_day = rng.randrange(1, days) if days > 1 and rng.random() < 0.1 else 0
    status0 = "subscribed" if joined_day else pick(rng, {"subscribed": 0.82, "unsubscribed": 0.12, "cleaned": 0.06})
    change = None
    if status0 == "subscribed" and days > joined_day + 1 and rng.random() < 0.06:
        change = (rng.randrange(joined_day + 1, days), "unsubscribed" if rng.random() < 0.8 else "cleaned")
    if joined_day:
        optin = midnight(start + timedelta(days=joined_day), UTC) + timedelta(
            seconds=rng.randrange(5 * 3600, 21 * 3600)
        )
    else:
        optin = midnight(start, UTC) - timedelta(seconds=rng.randrange(86400, 5 * 365 * 86400))
    rec.data.update(
        email_text=vary_email(rng, email),
        joined_day=joined_day,
        status0=status0,
        change=change,
        optin=optin,
        confirm=optin + timedelta(seconds=rng.randrange(30, 7200)) if rng.random() < 0.7 else None,
        rating=rng.choice((2, 2, 3, 4, 5)),
        optin_ip=_ip(rng) if rng.random() < 0.5 else "",
        euid=f"{rng.getrandbits(40):010x}",
        phone_text=format_phone(rng, p.phone) if p.phone else "",
        notes="",
        tags=rng.choice(("", "", '"Webshop"', '"Butik"', '"Webshop","VIP"')),
    )
    status_at_start = status0
    if status_at_start != "subscribed" and not joined_day:
        # Unsubscribed or cleaned some time between opting in and the first export.
        span = int((midnight(start, UTC) - optin).total_seconds())
        rec.data["status_time"] = optin + timedelta(seconds=rng.randrange(span // 10, span - 3600))
    return rec


def build(out: Output, people: list[Person], days: int, start: date) -> list[IdRecord]:
    main_rng, case_rng = out.rng("esp"), out.rng("esp/hardcases")
    more = out.hard_cases
    records: list[IdRecord] = []
    for p in people:
        # Hard-case people draw from their own stream, so everyone else's records stay as they were.
        rng = case_rng if p.hard_case else main_rng
        if not p.in_esp:
            continue
        weights = {"primary": 0.82, "alt": 0.12, "shared": 0.06 if p.household_owner else 0.0}
        if p.family_inbox and p.household_owner and p.shared_email:
            weights = {"shared": 1.0}
        email, flag = choose_email(rng, p, weights)
        records.append(_member(rng, p, email, flag, days, start, more_nicknames=more))
        if p.esp_second and p.alt_email and p.alt_email != email:
            records.append(_member(rng, p, p.alt_email, None, days, start, more_nicknames=more))
    rng = main_rng
    for rec, leid in zip(records, rng.sample(range(10_000_000, 999_999_999), len(records))):
        rec.srid = str(leid)
    return records


def _campaigns(rng: random.Random, days: int, start: date) -> list[dict]:
    result = []
    for d in range(days):
        if d % 7 in (1, 4):
            sent = datetime.combine(start + timedelta(days=d), time(7, 0), tzinfo=UTC)
            result.append(
                {
                    "day": d,
                    "sent": sent,
                    "id": f"{rng.getrandbits(40):010x}",
                    "title": f"{rng.choice(CAMPAIGN_TITLES)} v{sent.isocalendar()[1]}",
                }
            )
    return result


def _row(rec: IdRecord, status: str, when: datetime, campaign: dict | None, rng) -> list[str]:
    d = rec.data
    lat, lon, tz, region = GEO[rec.person.country]
    row = [
        d["email_text"],
        rec.first or "",
        rec.last or "",
        d["phone_text"] if rec.phone else "",
        rec.street or "",
        format_postcode(rng, rec.postcode, rec.country) if rec.postcode else "",
        rec.city or "",
        rec.birth_date.isoformat() if rec.birth_date else "",
        str(d["rating"]),
        plain(d["optin"]),
        d["optin_ip"],
        plain(d["confirm"]) if d["confirm"] else "",
        _ip(rng) if d["confirm"] else "",
        f"{lat + (-1 + 2 * rng.random()):.7f}",  # rng.uniform(-1, 1), without its call
        f"{lon + (-1 + 2 * rng.random()):.7f}",
        "1",
        "2",
        tz,
        rec.person.country if rng.random() < 0.9 else "",
        region,
    ]
    if status == "unsubscribed":
        row += [
            plain(when),
            campaign["title"] if campaign else "",
            campaign["id"] if campaign else "",
            rng.choice(UNSUB_REASONS),
            "",
        ]
    elif status == "cleaned":
        row += [plain(when), campaign["title"] if campaign else "", campaign["id"] if campaign else ""]
    row += [plain(when), rec.srid, d["euid"], d["notes"], d["tags"]]
    return row


def write(out: Output, records: list[IdRecord], days: int, start: date) -> None:
    rng = out.rng("esp/write")
    list_id = f"{rng.getrandbits(40):010x}"
    campaigns = _campaigns(rng, days, start)
    members = sorted((r for r in records if not r.dropped), key=lambda r: int(r.srid))
    last_campaign = lambda d: next((c for c in reversed(campaigns) if c["day"] <= d), None)  # noqa: E731

    per_day: dict[int, dict[str, list]] = {d: {s: [] for s in EXTRA} for d in range(days)}
    for rec in members:
        d = rec.data
        if d["joined_day"] == 0:
            when = d.get("status_time") or d["confirm"] or d["optin"]
            per_day[0][d["status0"]].append(_row(rec, d["status0"], when, last_campaign(-1), rng))
        else:
            when = d["confirm"] or d["optin"]
            per_day[d["joined_day"]]["subscribed"].append(_row(rec, "subscribed", when, None, rng))
        if d["change"]:
            day, status = d["change"]
            when = midnight(start + timedelta(days=day), UTC) + timedelta(seconds=rng.randrange(8 * 3600, 20 * 3600))
            d["change_time"] = when
            per_day[day][status].append(_row(rec, status, when, last_campaign(day), rng))

    delivered_subscribed = [r for r in per_day[0]["subscribed"]]
    for day in range(days):
        landing = start + timedelta(days=day)
        for status in ("subscribed", "unsubscribed", "cleaned"):
            rows = per_day[day][status]
            if status == "subscribed" and day == min(2, days - 1) and day > 0 and delivered_subscribed:
                # A note typed with an opening quote only: the rest of the file is one open field.
                fields = list(rng.choice(delivered_subscribed))
                fields[-2], fields[-1] = '"Ring efter kl 17, gärna sms', ""
                rows = rows + [
                    BrokenLine(
                        ",".join(
                            f if i >= len(fields) - 2 else f.replace(",", " ").replace('"', "")
                            for i, f in enumerate(fields)
                        ),
                        "unbalanced quote",
                    )
                ]
            out.write_csv(
                "esp", landing, f"{status}_members_export_{list_id}.csv", MERGE + SYSTEM + EXTRA[status] + TAIL, rows
            )

    actions = _activity(out, members, campaigns, last_campaign, days, start)
    activity_files = []
    for day in range(days):
        landing = start + timedelta(days=day)
        rows, pairs = with_duplicate_rows(out, rng, actions[day], 0.002)
        rel = out.write_csv("esp", landing, f"campaign_activity_{landing:%Y%m%d}.csv", ACTIVITY_HEADER, rows)
        for line, orig in pairs:
            out.note_duplicate_row("esp", rel, line, orig)
        activity_files.append(rel)
    if days >= 4:
        landing = start + timedelta(days=3)
        out.copy_file(activity_files[3], "esp", landing, f"campaign_activity_{landing:%Y%m%d} (1).csv")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ACTIONS = ("bounce", "open", "click")  # their text sorts as their index does


def _activity(out: Output, members: list[IdRecord], campaigns: list[dict], last_campaign, days: int, start: date):
    """Each day's campaign activity rows (email, action, time, campaign id and title, url),
    sorted by time, email and action: after every send, for each member subscribed then, a
    bounce (0.4 %), an open (35 %, an exponential 20,000 s on average after the send) and after
    an open a click (30 %, 5 to 300 s later), drawn per campaign as columns; and a bounce five
    minutes before each cleaned member's change. Times are whole UTC seconds; what falls after
    the period's end is not delivered."""
    rng = column_rng(f"{out.seed}/esp/activity")
    start_s = int((midnight(start, UTC) - _EPOCH).total_seconds())
    end_s = start_s + days * 86400
    joined, left, emails = [], [], []
    for d in (rec.data for rec in members):
        if d["status0"] == "subscribed":
            joined.append(d["joined_day"])
            left.append(d["change"][0] if d["change"] else days + 1)
            emails.append(d["email_text"].strip())
    joined_a, left_a = np.array(joined, np.int64), np.array(left, np.int64)
    # one row per action: (second, email index, action, campaign index, url index)
    parts = []
    for number, campaign in enumerate(campaigns):
        cday = campaign["day"]
        who = np.flatnonzero((joined_a <= cday) & (left_a > cday))
        n = len(who)
        sent = int((campaign["sent"] - _EPOCH).total_seconds())
        bounce = rng.random(n) < 0.004
        parts.append((sent + 5 + below(rng, 595, n)[bounce], who[bounce], 0, number, -1))
        opened = rng.random(n) < 0.35
        open_s = sent + (-np.log1p(-rng.random(n)) * 20000).astype(np.int64)
        clicked = opened & (rng.random(n) < 0.3)
        click_s = open_s + 5 + below(rng, 295, n)
        url = below(rng, len(URLS), n)
        keep = opened & (open_s < end_s)
        parts.append((open_s[keep], who[keep], 1, number, -1))
        keep = clicked & (open_s < end_s) & (click_s < end_s)
        parts.append((click_s[keep], who[keep], 2, number, url[keep]))
    campaign_number = {id(c): number for number, c in enumerate(campaigns)}
    for rec in members:
        if rec.data["change"] and rec.data["change"][1] == "cleaned":
            campaign = last_campaign(rec.data["change"][0])
            if campaign:
                when = int((rec.data["change_time"] - _EPOCH).total_seconds()) - 300
                emails.append(rec.data["email_text"].strip())
                parts.append(([when], [len(emails) - 1], 0, campaign_number[id(campaign)], -1))
    actions: dict[int, list[list[str]]] = {d: [] for d in range(days)}
    if not parts:  # no campaign in the period, no cleaned member
        return actions
    seconds = np.concatenate([np.asarray(s, np.int64) for s, *_ in parts])
    email_index = np.concatenate([np.asarray(w, np.int64) for _, w, *_ in parts])
    action = np.concatenate([np.full(len(s), a) for s, _, a, *_ in parts])
    campaign_of = np.concatenate([np.full(len(s), c) for s, _, _, c, _ in parts])
    url_of = np.concatenate([np.broadcast_to(np.asarray(u), len(s)) for s, _, _, _, u in parts])
    # by time, email (as text) and action, then as drawn
    rank = {email: r for r, email in enumerate(sorted(set(emails)))}
    email_rank = np.array([rank[email] for email in emails], np.int64)
    order = np.lexsort((np.arange(len(seconds)), action, email_rank[email_index], seconds))
    day, second = np.divmod(seconds[order] - start_s, 86400)
    day_texts = [(start + timedelta(days=d)).isoformat() for d in range(days)]
    urls = URLS + ("",)  # -1: none
    for d, s, e, a, c, u in zip(
        day.tolist(),
        second.tolist(),
        email_index[order].tolist(),
        action[order].tolist(),
        campaign_of[order].tolist(),
        url_of[order].tolist(),
    ):
        campaign = campaigns[c]
        actions[d].append(
            [emails[e], _ACTIONS[a], f"{day_texts[d]} {clock(s)}", campaign["id"], campaign["title"], urls[u]]
        )
    return actions
