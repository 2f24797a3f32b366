"""Make the truth fair: every record of a person can be linked to the person's other records.

A record's strong evidence is a set of tokens: a non-junk, non-household email or phone, a
loyalty card, a CRM id (the CRM's own key or a web user_id), name + birth date, or name +
street + postcode (not for a same-name parent and child at one address, who share it).
Within one person, records sharing a token are connected. When a person's records fall
apart into several groups, the generator adds an identifier the person really has (email
or phone) to a record that can carry it, as a real system would have captured it; when
nothing can carry one, the stray records are dropped from the sample.
"""

from itertools import islice

from .records import IdRecord
from .variation import match_key

# Which identifier fields a record kind can be given by the repair.
ACCEPTS = {"crm": ("phone", "email"), "order": ("email", "phone"), "esp": ("phone",)}


def tokens(rec: IdRecord) -> set[tuple]:
    found: set[tuple] = set()
    if rec.email and rec.email_flag is None:
        found.add(("email", rec.email))
    if rec.phone and rec.phone_flag is None:
        found.add(("phone", rec.phone))
    if rec.card:
        found.add(("card", rec.card))
    if rec.crm_id:
        found.add(("crm", rec.crm_id))
    if not (rec.first and rec.last):  # no name (receipts, web, sms): no name token
        return found
    first, last = match_key(rec.first), match_key(rec.last)
    if len(first) > 1 and last:
        if rec.birth_date:
            found.add(("name_dob", first, last, rec.birth_date))
        # A parent and child of one name at one address: there, name + address is nobody's own.
        if rec.street and rec.postcode and not rec.person.namesake_at_address:
            found.add(("name_address", first, last, match_key(rec.street), rec.postcode.replace(" ", "")))
    return found


def _components(records: list[IdRecord]) -> list[list[IdRecord]]:
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple, int] = {}
    for index, rec in enumerate(records):
        for token in tokens(rec):
            if token in owner:
                parent[find(index)] = find(owner[token])
            else:
                owner[token] = index
    groups: dict[int, list[IdRecord]] = {}
    for index, rec in enumerate(records):
        groups.setdefault(find(index), []).append(rec)
    if len(groups) == 1:  # most people: nothing to order
        return list(groups.values())
    # The group holding the CRM master record comes first: web and receipt records hang on it,
    # so it is never the one dropped.
    return sorted(
        groups.values(),
        key=lambda g: (not any(r.kind == "crm" and "dupe_of" not in r.data for r in g), -len(g), records.index(g[0])),
    )


def _give(rec: IdRecord, field: str, value: str) -> None:
    if field == "email":
        rec.email, rec.email_flag = value, None
    else:
        rec.phone, rec.phone_flag = value, None


def _can_take(rec: IdRecord, field: str, value: str) -> bool:
    """Only fill a blank, junk or household value: never overwrite the record's own evidence."""
    if field not in ACCEPTS.get(rec.kind, ()):
        return False
    current, flag = (rec.email, rec.email_flag) if field == "email" else (rec.phone, rec.phone_flag)
    return current is None or flag is not None or current == value


def _connect(group: list[IdRecord], main: list[IdRecord]) -> bool:
    """Give one record an identifier the other side already carries."""
    for receivers, donors in ((group, main), (main, group)):
        offers = [(f, v) for d in donors for (f, v, *_) in sorted(tokens(d), key=str) if f in ("email", "phone")]
        for rec in receivers:
            for field, value in offers:
                if _can_take(rec, field, value):
                    _give(rec, field, value)
                    return True
    # Neither side carries an email or phone the other can take: use the person's own.
    person = group[0].person
    for field, value in (("phone", person.phone), ("email", person.email)):
        if not value:
            continue
        left = next((r for r in group if _can_take(r, field, value)), None)
        right = next((r for r in main if _can_take(r, field, value)), None)
        if left and right:
            _give(left, field, value)
            _give(right, field, value)
            return True
    return False


def make_linkable(records: list[IdRecord]) -> dict[str, int]:
    """Repair or drop records in place; returns counts of what was done."""
    by_person: dict[str, list[IdRecord]] = {}
    for rec in records:
        if not rec.dropped:
            by_person.setdefault(rec.person.person_id, []).append(rec)
    repaired = dropped = 0
    for person_id in sorted(by_person):
        recs = by_person[person_id]
        if len(recs) < 2:
            continue
        while True:
            groups = _components(recs)
            if len(groups) == 1:
                break
            main = groups[0]
            for group in groups[1:]:
                if _connect(group, main):
                    repaired += 1
                else:
                    for rec in group:
                        rec.dropped = True
                        dropped += 1
                    recs = [r for r in recs if not r.dropped]
                break  # recompute components after every change
    return {"repaired": repaired, "dropped": dropped}


def truth_rows(records: list[IdRecord]) -> list[tuple[str, str, str]]:
    rows = sorted([(r.source, r.srid, r.person.person_id) for r in records if not r.dropped])
    # Sorted, the rows of one record are neighbours: no set of millions of rows is needed.
    repeated = False
    for previous, row in zip(rows, islice(rows, 1, None)):
        if row[1] == previous[1] and row[0] == previous[0]:
            if row[2] != previous[2]:
                raise AssertionError(f"two people share the record {row[0]}:{row[1]}")
            repeated = True
    if repeated:
        rows = [row for index, row in enumerate(rows) if index == 0 or row != rows[index - 1]]
    return rows
