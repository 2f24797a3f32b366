"""A small synthetic ``staging.identity_records`` with known true persons.

Built independently of the real sample generator so the identity tests pin their
own known answers. Every hard case the identity layer must handle appears: name
typos, CRM duplicates, shared household emails, flagged junk emails shared by many,
an unflagged shop inbox and a store default phone shared by many, web records whose
user_id is a CRM customer id, SMS records with only a phone, store receipts with
only a loyalty card.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

FIRST = [
    "anna",
    "erik",
    "maria",
    "lars",
    "karin",
    "johan",
    "eva",
    "anders",
    "sofia",
    "per",
    "emma",
    "nils",
    "ingrid",
    "olof",
    "sara",
    "mikael",
    "lena",
    "jonas",
    "elin",
    "gustav",
    "astrid",
    "henrik",
    "maja",
    "oskar",
    "linnea",
    "fredrik",
    "klara",
    "viktor",
    "ida",
    "axel",
    "ahmed",
    "fatima",
    "ali",
    "noor",
    "marco",
    "giulia",
    "pierre",
    "chloe",
    "jan",
    "agnieszka",
    "thomas",
    "sanna",
    "petra",
    "ulf",
    "rolf",
]
LAST = [
    "andersson",
    "johansson",
    "karlsson",
    "nilsson",
    "eriksson",
    "larsson",
    "olsson",
    "persson",
    "svensson",
    "gustafsson",
    "pettersson",
    "jonsson",
    "jansson",
    "hansson",
    "bengtsson",
    "lindberg",
    "lindqvist",
    "berg",
    "lundgren",
    "holm",
    "hussein",
    "rossi",
    "dubois",
    "kowalski",
    "nguyen",
    "virtanen",
    "hansen",
    "sandberg",
    "ekstrom",
    "falk",
    "wallin",
    "nyberg",
    "sjoberg",
    "lund",
    "bjork",
    "forsberg",
    "hedlund",
]
STREETS = [
    "storgatan",
    "kungsgatan",
    "drottninggatan",
    "vasagatan",
    "skolgatan",
    "kyrkogatan",
    "parkvagen",
    "strandvagen",
    "sjovagen",
    "bergsgatan",
    "ringvagen",
    "industrigatan",
    "tradgardsgatan",
]
CITIES = [
    ("stockholm", "11"),
    ("goteborg", "41"),
    ("malmo", "21"),
    ("uppsala", "75"),
    ("lund", "22"),
    ("umea", "90"),
    ("orebro", "70"),
    ("linkoping", "58"),
]

COLUMNS = [
    "source",
    "source_record_id",
    "record_time",
    "first_name",
    "last_name",
    "first_name_match",
    "last_name_match",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "birth_date",
    "loyalty_card_id",
    "crm_customer_id",
    "web_user_id",
    "cookies",
    "email_is_junk",
    "phone_is_junk",
    "name_is_junk",
    "dq_flags",
]

DDL = """
CREATE SCHEMA IF NOT EXISTS staging;
CREATE OR REPLACE TABLE staging.identity_records (
    source VARCHAR, source_record_id VARCHAR, record_time TIMESTAMP,
    first_name VARCHAR, last_name VARCHAR, first_name_match VARCHAR, last_name_match VARCHAR,
    email VARCHAR, phone VARCHAR, street VARCHAR, postcode VARCHAR, city VARCHAR, country VARCHAR,
    birth_date DATE, loyalty_card_id VARCHAR, crm_customer_id VARCHAR, web_user_id VARCHAR,
    cookies VARCHAR[], email_is_junk BOOLEAN, phone_is_junk BOOLEAN, name_is_junk BOOLEAN, dq_flags VARCHAR[]
);
"""


def record(source: str, source_record_id: str, person_id: str | None = None, **fields) -> dict:
    """One identity record; names given in matching form also fill the display columns."""
    rec = {c: None for c in COLUMNS}
    rec.update(
        source=source,
        source_record_id=source_record_id,
        record_time=dt.datetime(2025, 6, 1, 12, 0),
        email_is_junk=False,
        phone_is_junk=False,
        name_is_junk=False,
        dq_flags=[],
        cookies=None,
    )
    for k in ("first_name", "last_name"):
        if k in fields and fields[k] is not None and f"{k}_match" not in fields:
            fields[f"{k}_match"] = fields[k].lower()
    rec.update(fields)
    for k in ("first_name", "last_name"):
        if rec[f"{k}_match"] and not rec[k]:
            rec[k] = rec[f"{k}_match"].title()
    rec["_person"] = person_id
    return rec


# The column types of DDL, for the Arrow table write_records inserts in one statement.
ARROW_TYPES = {
    **dict.fromkeys(COLUMNS, pa.string()),
    "record_time": pa.timestamp("us"),
    "birth_date": pa.date32(),
    "cookies": pa.list_(pa.string()),
    "dq_flags": pa.list_(pa.string()),
    "email_is_junk": pa.bool_(),
    "phone_is_junk": pa.bool_(),
    "name_is_junk": pa.bool_(),
}


def _is_exactly(value, arrow_type) -> bool:
    """Whether ``value`` is None or the Python type Arrow stores as ``arrow_type`` unchanged
    (a str given for a DATE, or an aware datetime, is left to DuckDB's own cast)."""
    if value is None:
        return True
    if arrow_type == pa.string():
        return isinstance(value, str)
    if arrow_type == pa.timestamp("us"):
        return isinstance(value, dt.datetime) and value.tzinfo is None
    if arrow_type == pa.date32():
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if arrow_type == pa.bool_():
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def write_records(con: duckdb.DuckDBPyConnection, records: list[dict]) -> None:
    """(Re)create ``staging.identity_records`` holding ``records``.

    The rows go in as one Arrow table in one statement: an INSERT per row on a database file
    commits (and syncs) per row, which made this the largest cost of the identity tests
    (about 9 s for 1,000 records on a busy machine against 0.5 s). Records holding a value
    of another type than its column's (a birth date given as a string) are inserted row by
    row, in one transaction, so that DuckDB casts them as before."""
    con.execute(DDL)
    if not records:
        return
    rows = [[r[c] for c in COLUMNS] for r in records]
    if all(_is_exactly(v, ARROW_TYPES[c]) for row in rows for c, v in zip(COLUMNS, row)):
        table = pa.table({c: pa.array([row[i] for row in rows], type=ARROW_TYPES[c]) for i, c in enumerate(COLUMNS)})
        con.register("_synthetic_records", table)
        try:
            con.execute("INSERT INTO staging.identity_records SELECT * FROM _synthetic_records")
        finally:
            con.unregister("_synthetic_records")
        return
    con.execute("BEGIN TRANSACTION")
    try:
        con.executemany(f"INSERT INTO staging.identity_records VALUES ({', '.join('?' * len(COLUMNS))})", rows)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def write_truth(records: list[dict], path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write("source,source_record_id,person_id\n")
        for r in records:
            f.write(f'{r["source"]},"{r["source_record_id"]}",{r["_person"]}\n')


def _typo(rng: random.Random, s: str) -> str:
    if len(s) < 4:
        return s
    i = rng.randrange(1, len(s) - 1)
    kind = rng.choice(["swap", "drop", "double", "sub"])
    if kind == "swap":
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    if kind == "drop":
        return s[:i] + s[i + 1 :]
    if kind == "double":
        return s[:i] + s[i] + s[i:]
    return s[:i] + rng.choice("aeiouns") + s[i + 1 :]


@dataclass
class Person:
    pid: str
    first: str
    last: str
    birth: dt.date | None
    street: str
    postcode: str
    city: str
    email: str
    phone: str
    records: list[dict] = field(default_factory=list)


def build_people(n_people: int = 300, seed: int = 7) -> list[dict]:
    """Records of ``n_people`` synthetic people across crm/esp/sms/web/pos, with truth in ``_person``."""
    rng = random.Random(seed)
    people: list[Person] = []
    for i in range(n_people):
        city, pc_prefix = rng.choice(CITIES)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        people.append(
            Person(
                pid=f"P{i:05d}",
                first=first,
                last=last,
                birth=dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 65)),
                street=f"{rng.choice(STREETS)} {rng.randrange(1, 80)}",
                postcode=f"{pc_prefix}{rng.randrange(100, 999)}",
                city=city,
                email=f"{first}.{last}{rng.randrange(1, 999)}@{rng.choice(['gmail.com', 'telia.se', 'hotmail.com'])}",
                phone=f"+4670{rng.randrange(1000000, 9999999)}",
            )
        )
    # households: a partner shares last name, address and (often) one email inbox
    for j in range(0, n_people // 10 * 2, 2):
        a, b = people[j], people[j + 1]
        b.last, b.street, b.postcode, b.city = a.last, a.street, a.postcode, a.city
        if j % 4 == 0:
            b.email = a.email = f"familjen.{a.last}{j}@telia.se"
        if b.first == a.first:
            b.first = "sanna" if a.first != "sanna" else "petra"

    out: list[dict] = []
    crm_n = card_n = 0
    for k, p in enumerate(people):

        def name(q=0.1):
            return _typo(rng, p.first) if rng.random() < q else p.first

        crm_id = card = None
        if rng.random() < 0.8:
            crm_n += 1
            crm_id = f"CRM{crm_n:06d}"
            card = f"L{card_n:07d}" if rng.random() < 0.6 else None
            card_n += card is not None
            out.append(
                record(
                    "crm",
                    crm_id,
                    p.pid,
                    first_name=p.first,
                    last_name=p.last,
                    email=p.email,
                    phone=p.phone if rng.random() < 0.8 else None,
                    street=p.street,
                    postcode=p.postcode,
                    city=p.city,
                    country="SE",
                    birth_date=p.birth if rng.random() < 0.85 else None,
                    loyalty_card_id=card,
                    crm_customer_id=crm_id,
                )
            )
            if rng.random() < 0.1:  # CRM duplicate: re-registered with a typo and a new phone
                crm_n += 1
                out.append(
                    record(
                        "crm",
                        f"CRM{crm_n:06d}",
                        p.pid,
                        first_name=name(0.5),
                        last_name=p.last,
                        email=p.email if rng.random() < 0.5 else None,
                        street=p.street,
                        postcode=p.postcode,
                        city=p.city,
                        country="SE",
                        birth_date=p.birth,
                        crm_customer_id=f"CRM{crm_n:06d}",
                    )
                )
            if rng.random() < 0.5:  # web login: user_id is the CRM customer id
                out.append(
                    record(
                        "web", crm_id, p.pid, web_user_id=crm_id, cookies=[f"ck{k}a", f"ck{k}b"][: rng.randrange(1, 3)]
                    )
                )
        if rng.random() < 0.6:
            email = p.email if rng.random() < 0.9 else p.email.replace("@", "1@")
            out.append(
                record(
                    "esp",
                    email,
                    p.pid,
                    first_name=name(),
                    last_name=p.last if rng.random() < 0.9 else None,
                    email=email,
                )
            )
        if rng.random() < 0.4:
            out.append(record("sms", p.phone, p.pid, phone=p.phone))
        if card and rng.random() < 0.7:
            for r in range(rng.randrange(1, 4)):
                out.append(record("pos", f"receipt:S{k % 5}:{k}-{r}", p.pid, loyalty_card_id=card))
        if rng.random() < 0.3:
            out.append(
                record(
                    "pos",
                    f"order:#{1000 + k}",
                    p.pid,
                    first_name=name(),
                    last_name=_typo(rng, p.last) if rng.random() < 0.1 else p.last,
                    email=p.email,
                    phone=p.phone,
                    street=p.street,
                    postcode=p.postcode,
                    city=p.city,
                    country="SE",
                )
            )

    # junk: test@test.com typed by many (flagged); an unflagged shop inbox and store phone shared by many
    for j in range(12):
        p = people[-24 + j]
        out.append(
            record(
                "pos",
                f"order:#J{j}",
                p.pid,
                first_name=p.first,
                last_name=p.last,
                email="test@test.com",
                email_is_junk=True,
                street=p.street,
                postcode=p.postcode,
                city=p.city,
            )
        )
        p = people[-12 + j]
        out.append(
            record(
                "pos",
                f"order:#K{j}",
                p.pid,
                first_name=p.first if j != 1 else people[-12].first,
                last_name=p.last,
                email="info@butiken.se",
                phone="+46812345678",
            )
        )
    # a source holds one record per key: a household's shared inbox is one ESP member
    seen, unique = set(), []
    for r in out:
        if (r["source"], r["source_record_id"]) not in seen:
            seen.add((r["source"], r["source_record_id"]))
            unique.append(r)
    return unique


def build_synthetic(con: duckdb.DuckDBPyConnection, n_people: int = 300, seed: int = 7) -> list[dict]:
    records = build_people(n_people, seed)
    write_records(con, records)
    return records


def build_synthetic_splink_input(con: duckdb.DuckDBPyConnection, config):
    """The synthetic records (``build_synthetic``) made into the model's input as a night makes it
    (records, first names, identifiers, the junk guard, ``build_splink_input``), registered with
    Splink: the Splink dataframe."""
    from splink import DuckDBAPI

    from cdp_pipeline.lib.identity.junk_guard import find_excluded_identifiers
    from cdp_pipeline.lib.identity.name_keys import write_first_name_table
    from cdp_pipeline.lib.identity.name_variants import load_name_variants
    from cdp_pipeline.lib.identity.records import RECORDS, build_identifiers, build_records
    from cdp_pipeline.lib.identity.splink_model import SPLINK_INPUT, build_splink_input

    build_synthetic(con)
    build_records(con, "staging.identity_records")
    write_first_name_table(con, f"SELECT DISTINCT first_name_match FROM {RECORDS}", load_name_variants())
    build_identifiers(con)
    find_excluded_identifiers(con, config)
    build_splink_input(con)
    return DuckDBAPI(connection=con).register(SPLINK_INPUT)
