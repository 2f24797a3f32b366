"""CRM customer master extract: day 1 is the full extract, later days carry new and
updated customers (customers_<YYYYMMDD>.csv, Windows CRM export: CRLF, varying encodings)."""

from datetime import date, datetime, timedelta
from functools import cache
from types import MappingProxyType

from .output import BrokenLine, Output, with_duplicate_rows
from .people import Person
from .records import IdRecord, choose_email, choose_phone, person_name, pick
from .timeutil import LOCAL, local_moment, midnight, plain
from .variation import format_birth_date, format_country, format_phone, format_postcode, typo, vary_email

HEADER = [
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "birth_date",
    "loyalty_card_id",
    "created_at",
    "updated_at",
    "consent_email",
    "consent_sms",
    "consent_updated_at",
]
# Day 0 is a legacy full export in Windows-1252; later days rotate as the export tool changed.
ENCODINGS = ("cp1252", "utf-8-sig", "utf-8")
NAME_WEIGHTS = {"typo": 0.03, "nickname": 0.02, "upper": 0.015, "swapped": 0.015, "missing_first": 0.01}


def _new_record(out: Output, rng, p: Person, days: int, start: date, dupe: bool) -> IdRecord:
    more = out.hard_cases
    if dupe:
        first, last, name_kind = person_name(rng, p, {"nickname": 0.3, "typo": 0.3}, "crm", more_nicknames=more)
        email, email_flag = choose_email(rng, p, {"primary": 0.6, "alt": 0.1, "missing": 0.3})
        phone, phone_flag = choose_phone(rng, p, {"own": 0.8, "missing": 0.2})
    elif p.family_inbox:  # the household's inbox and landline are what the family gave the shop
        first, last, name_kind = person_name(rng, p, NAME_WEIGHTS, "crm", more_nicknames=more)
        email, email_flag = choose_email(rng, p, {"shared": 0.8, "primary": 0.2})
        phone, phone_flag = choose_phone(rng, p, {"shared": 0.6, "own": 0.4})
    else:
        first, last, name_kind = person_name(rng, p, NAME_WEIGHTS, "crm", more_nicknames=more)
        email, email_flag = choose_email(
            rng, p, {"primary": 0.84, "alt": 0.06, "shared": 0.04, "junk": 0.02, "missing": 0.04}
        )
        phone, phone_flag = choose_phone(rng, p, {"own": 0.82, "shared": 0.04, "junk": 0.015, "missing": 0.125})
    rec = IdRecord(
        "crm",
        "crm",
        "",
        p,
        first,
        last,
        email,
        email_flag,
        phone,
        phone_flag,
        None if rng.random() < 0.03 else p.street,
        p.postcode,
        p.city,
        p.country,
        p.birth_date if rng.random() < 0.88 and not p.hide_birth_date else None,
    )
    rec.data["name_kind"] = name_kind
    if days > 1 and rng.random() < (0.25 if dupe else 0.12):
        created_day = rng.randrange(1, days)
        created = local_moment(rng, start + timedelta(days=created_day), 6, 22)
    else:
        created_day = 0
        created = midnight(start, LOCAL) - timedelta(seconds=rng.randrange(86400, 6 * 365 * 86400))
    rec.data.update(
        created_day=created_day,
        created=created,
        updated=created,
        versions=_unchanged_since(created_day),
        consent_email=rng.random() < (0.8 if p.in_esp else 0.3),
        consent_sms=p.in_sms or rng.random() < 0.1,
    )
    if created_day == 0:
        rec.data["updated"] = created + timedelta(seconds=rng.randrange(0, 400 * 86400))
        if rec.data["updated"].date() >= start:
            rec.data["updated"] = created
    # One update during the period: a move, a consent change, a corrected name or an added phone.
    if days > created_day + 1:
        update = None
        if p.old_address and not dupe and rng.random() < 0.7:
            update = {"street": p.old_address[0], "postcode": p.old_address[1], "city": p.old_address[2]}
        elif rng.random() < 0.1:
            update = pick(rng, {"consent": 0.5, "name": 0.25, "phone": 0.25})
            if update == "consent":
                update = {"consent_email": not rec.data["consent_email"]}
            elif update == "name" and first:
                update = {"first": typo(rng, first)}
            elif update == "phone" and phone:
                update = {"phone": None, "phone_flag": None}
            else:
                update = None
        if update is not None:
            day = rng.randrange(created_day + 1, days)
            rec.data["versions"] = ((created_day, update), (day, _NO_CHANGE))
            rec.data["updated"] = local_moment(rng, start + timedelta(days=day), 6, 22)
    elif p.old_address and not dupe and rng.random() < 0.3:
        rec.street, rec.postcode, rec.city = p.old_address  # CRM never heard of the move
    return rec


def build(out: Output, people: list[Person], days: int, start: date) -> list[IdRecord]:
    main_rng, case_rng = out.rng("crm"), out.rng("crm/hardcases")
    records: list[IdRecord] = []
    for p in people:
        # Hard-case people draw from their own stream, so everyone else's records stay as they were.
        rng = case_rng if p.hard_case else main_rng
        if not p.in_crm:
            continue
        primary = _new_record(out, rng, p, days, start, dupe=False)
        if p.has_card:
            primary.card = "7350" + rng.digits(9)
        records.append(primary)
        if p.crm_dupe:
            dupe = _new_record(out, rng, p, days, start, dupe=True)
            dupe.data["dupe_of"] = primary
            records.append(dupe)
    rng = main_rng
    # Customer ids follow creation order, as a CRM's sequence would.
    records.sort(key=lambda r: (r.data["created"], r.person.person_id, "dupe_of" in r.data))
    next_id = 100000 + rng.randrange(1000)
    cards: set[str] = set()
    for rec in records:
        next_id += rng.randint(1, 3)
        rec.srid = rec.crm_id = str(next_id)
        while rec.card and rec.card in cards:
            rec.card = rec.card[:-1] + str(rng.randrange(10))
        if rec.card:
            cards.add(rec.card)
    return records


def primary_crm(records: list[IdRecord]) -> dict[str, IdRecord]:
    """person_id → the person's primary (non-duplicate) CRM record."""
    return {r.person.person_id: r for r in records if "dupe_of" not in r.data}


def _row(rng, rec: IdRecord, patch: dict, updated: datetime) -> list[str]:
    first = patch.get("first", rec.first)
    phone = patch.get("phone", rec.phone)
    phone_flag = patch.get("phone_flag", rec.phone_flag)
    street = patch.get("street", rec.street)
    postcode = patch.get("postcode", rec.postcode)
    city = patch.get("city", rec.city)
    consent_email = patch.get("consent_email", rec.data["consent_email"])
    yes = lambda v: "yes" if v else "no"  # noqa: E731
    return [
        rec.srid,
        first or "",
        rec.last or "",
        vary_email(rng, rec.email) if rec.email else "",
        (phone if phone_flag == "junk" else format_phone(rng, phone)) if phone else "",
        street or "",
        format_postcode(rng, postcode, rec.country) if postcode else "",
        city or "",
        format_country(rng, rec.country) if rng.random() < 0.95 else "",
        format_birth_date(rng, rec.birth_date) if rec.birth_date else "",
        rec.card or "",
        plain(rec.data["created"]),
        plain(updated),
        yes(consent_email),
        yes(rec.data["consent_sms"]),
        plain(updated),
    ]


_NO_CHANGE = MappingProxyType({})  # a version that changes nothing; read only, so one for every record


@cache
def _unchanged_since(created_day: int) -> tuple:
    """The versions of a record that is never updated: one per creation day, shared by the
    records created that day (not a list and a dict per record)."""
    return ((created_day, _NO_CHANGE),)


def write(out: Output, records: list[IdRecord], days: int, start: date) -> None:
    rng = out.rng("crm/write")
    by_day: dict[int, list[tuple[str, list[str]]]] = {d: [] for d in range(days)}
    for rec in records:
        if rec.dropped:
            continue
        versions = rec.data["versions"]
        for index, (day, patch) in enumerate(versions):
            updated = rec.data["updated"] if index == len(versions) - 1 else rec.data["created"]
            by_day[day].append((rec.srid, _row(rng, rec, patch, updated)))
    files: list[str] = []
    delivered: set[str] = set()
    for day in range(days):
        rows = [row for _, row in sorted(by_day[day], key=lambda item: int(item[0]))]
        rows, dup_pairs = with_duplicate_rows(out, rng, rows, 0.003)
        # Broken rows repeat customers already delivered, so no record is lost to quarantine.
        known = [r for r in rows if isinstance(r, list) and r[0] in delivered]
        if day % 4 == 1 and known:
            victim = rng.choice(known)
            fields = list(victim)
            fields[5] = (fields[5] or "Storgatan 1") + ", lgh 1102"  # unquoted comma: one field too many
            position = rng.randrange(len(rows) + 1)
            rows.insert(
                position,
                BrokenLine(
                    ",".join(f.replace(",", " ") if i != 5 else f for i, f in enumerate(fields)),
                    "wrong number of fields",
                ),
            )
            dup_pairs = [
                (line + (1 if line >= position + 2 else 0), orig + (1 if orig >= position + 2 else 0))
                for line, orig in dup_pairs
            ]
        if day % 7 == 2 and known:
            cut = ",".join(rng.choice(known))
            rows.append(BrokenLine(cut[: max(8, len(cut) // 2)], "truncated last line", final_newline=False))
        encoding = ENCODINGS[day % 3]
        rel = out.write_csv(
            "crm",
            start + timedelta(days=day),
            f"customers_{(start + timedelta(days=day)):%Y%m%d}.csv",
            HEADER,
            rows,
            encoding=encoding,
            newline="\r\n",
        )
        for line, orig in dup_pairs:
            out.note_duplicate_row("crm", rel, line, orig)
        files.append(rel)
        delivered.update(r[0] for r in rows if isinstance(r, list))
    # The CRM job ran twice one night: day 1's file delivered again on day 2.
    if days >= 3:
        out.copy_file(files[1], "crm", start + timedelta(days=2), f"customers_{(start + timedelta(days=1)):%Y%m%d}.csv")
