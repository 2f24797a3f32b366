"""Store receipts (';'-separated, decimal comma, Windows-1252, CRLF), drawn and written as
columns: the largest group of records, made with a handful of numpy draws for all of them.

A receipt with a loyalty card is an identity record (the card ties it to the person's CRM
record); about 0.6 anonymous receipts per carded one fill the files too. Receipts are numbered
per store in order of (time, card), from a random start per store."""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from .columns import below, clock, column_rng, distinct_picks, poisson_counts
from .output import BrokenLine, Output
from .people import Person
from .pos import PRODUCTS, RECEIPT_HEADER, STORE_IDS, STORES
from .records import BareRecord, IdRecord

_LINE_COUNTS = np.array((1, 1, 1, 2, 2, 3, 5))  # rng.choice((1, 1, 1, 2, 2, 3, max_lines)), max_lines 5
_ANONYMOUS_LINE_COUNTS = np.array((1, 1, 1, 2, 2, 3, 4))
_QUANTITIES = np.array((1, 1, 1, 2))
_OPEN, _CLOSE = 9 * 3600, 20 * 3600  # a receipt's moment: the store's local time between these


@dataclass(slots=True)
class Receipts:
    """Every receipt, carded and anonymous, in file order (day, store, time, card), and its
    lines; receipt i's lines are lines[first_line[i]:first_line[i + 1]]."""

    day: np.ndarray
    store: np.ndarray  # index into STORE_IDS
    seconds: np.ndarray  # local second of the day
    card: list[str]  # "" when anonymous
    number: np.ndarray
    first_line: np.ndarray
    product: np.ndarray  # per line, index into PRODUCTS
    quantity: np.ndarray  # per line


def _draw(rng, home_store: np.ndarray, first_day: np.ndarray, days: int, line_counts: np.ndarray):
    """(day, store, seconds, line count) of receipts, one per entry of home_store (-1: none,
    any store) and first_day."""
    n = len(home_store)
    elsewhere = (rng.random(n) >= 0.8) | (home_store < 0)
    store = np.where(elsewhere, below(rng, len(STORE_IDS), n), home_store)
    day = first_day + below(rng, days - first_day, n)
    seconds = _OPEN + below(rng, _CLOSE - _OPEN, n)
    lines = line_counts[below(rng, len(line_counts), n)]
    return day, store, seconds, lines


def build(
    out: Output, people: list[Person], crm_by_person: dict[str, IdRecord], days: int, start: date
) -> tuple[list[BareRecord], Receipts]:
    """The receipts with a loyalty card (identity records, numbered) and the table of every
    receipt for write()."""
    shoppers: dict[bool, list[tuple[Person, IdRecord]]] = {False: [], True: []}
    for p in people:
        crm = crm_by_person.get(p.person_id)
        if p.store_shopper and crm and crm.card:
            shoppers[bool(p.hard_case)].append((p, crm))
    store_index = {store: i for i, store in enumerate(STORE_IDS)}
    columns = []
    owners: list[tuple[Person, str]] = []
    # Hard-case people draw from their own stream, so everyone else's receipts stay as they were.
    main_rng, case_rng = column_rng(f"{out.seed}/pos/receipts"), column_rng(f"{out.seed}/pos/receipts/hardcases")
    for hard, rng in ((False, main_rng), (True, case_rng)):
        group = shoppers[hard]
        if not group:
            continue
        counts = np.maximum(1, poisson_counts(rng, days / 30 * 4, len(group)))
        home = np.repeat(np.array([store_index[p.home_store] for p, _ in group]), counts)
        first_day = np.repeat(np.array([crm.data["created_day"] for _, crm in group]), counts)
        columns.append(_draw(rng, home, first_day, days, _LINE_COUNTS))
        owners += [(p, crm.card) for (p, crm), count in zip(group, counts.tolist()) for _ in range(count)]
    carded = len(owners)
    anonymous = int(carded * 0.6) + 3
    columns.append(_draw(main_rng, np.full(anonymous, -1), np.zeros(anonymous, np.int64), days, _ANONYMOUS_LINE_COUNTS))
    day, store, seconds, line_count = (np.concatenate(parts) for parts in zip(*columns))
    cards = [card for _, card in owners] + [""] * anonymous

    # file order; within a store it is (time, card) order, the order of the numbers
    distinct_cards = sorted(set(cards))
    card_rank = np.array([rank for rank in map({c: r for r, c in enumerate(distinct_cards)}.get, cards)])
    order = np.lexsort((np.arange(len(cards)), card_rank, seconds, store, day))
    day, store, seconds, line_count = day[order], store[order], seconds[order], line_count[order]
    starts = 20000 + below(main_rng, 5000, len(STORE_IDS))
    number = np.empty(len(order), np.int64)
    for s in range(len(STORE_IDS)):
        mine = store == s
        number[mine] = starts[s] + np.arange(1, int(mine.sum()) + 1)
    records = [None] * carded
    for index, s, n in zip(order.tolist(), store.tolist(), number.tolist()):
        if index < carded:
            p, card = owners[index]
            records[index] = BareRecord("pos", "receipt", f"receipt:{STORE_IDS[s]}:{n}", p, card=card)

    _, product = distinct_picks(main_rng, len(PRODUCTS), line_count)
    quantity = _QUANTITIES[below(main_rng, len(_QUANTITIES), len(product))]
    first_line = np.concatenate(([0], np.cumsum(line_count)))
    table = Receipts(day, store, seconds, [cards[i] for i in order.tolist()], number, first_line, product, quantity)
    return records, table


def _decimal_comma(value: float) -> str:
    whole, cents = f"{value:.2f}".split(".")
    if len(whole) > 3:
        whole = whole[:-3] + " " + whole[-3:]
    return f"{whole},{cents}"


def _line_tails() -> dict[tuple[int, int, int, bool], str]:
    """(line number, product, quantity, discounted) → the line's fields from line_no on: the
    same few hundred on every receipt, rendered once."""
    tails = {}
    for line_no in range(1, 6):
        for index, (sku, _name, price, vat) in enumerate(PRODUCTS):
            for qty in (1, 2):
                discount = _decimal_comma(round(price * qty * 0.1, 2))
                for discounted in (False, True):
                    shown = discount if discounted else _decimal_comma(0.0)
                    tails[line_no, index, qty, discounted] = (
                        f"{line_no};{sku};{qty};{_decimal_comma(price)};{shown};{vat}"
                    )
    return tails


def write(out: Output, receipts: Receipts, days: int, start: date) -> None:
    """One file per store and day (a header-only file when the store sold nothing); on every
    fourth day the till drops the discount column of one carded receipt's second line; S02's
    file of every tenth day is sent again the next day under a new name."""
    rng = column_rng(f"{out.seed}/pos/receipts/write")
    tails = _line_tails()
    line_count = np.diff(receipts.first_line)
    receipt_of_line = np.repeat(np.arange(len(line_count)), line_count)
    line_no = np.arange(len(receipt_of_line)) - receipts.first_line[receipt_of_line] + 1
    discounted = rng.random(len(receipt_of_line)) < 0.08
    line_tail = list(
        map(
            tails.__getitem__,
            zip(line_no.tolist(), receipts.product.tolist(), receipts.quantity.tolist(), discounted.tolist()),
        )
    )
    day_texts = [(start + timedelta(days=d)).isoformat() for d in range(days)]
    zones = [STORES[s] for s in STORE_IDS]
    heads = [
        f"{n};{STORE_IDS[s]};{day_texts[d]} {clock(t)};{zones[s]};{c};"
        for n, s, d, t, c in zip(
            receipts.number.tolist(),
            receipts.store.tolist(),
            receipts.day.tolist(),
            receipts.seconds.tolist(),
            receipts.card,
        )
    ]
    # receipts are in (day, store) order: each file's receipts are one slice
    file_key = receipts.day * len(STORE_IDS) + receipts.store
    bounds = np.searchsorted(file_key, np.arange(days * len(STORE_IDS) + 1)).tolist()
    first_line = receipts.first_line.tolist()
    written: dict[tuple[int, str], str] = {}
    for day in range(days):
        landing = start + timedelta(days=day)
        broken_done = day % 4 != 3
        for s, store in enumerate(STORE_IDS):
            lo, hi = bounds[day * len(STORE_IDS) + s], bounds[day * len(STORE_IDS) + s + 1]
            lines: list = []
            for r in range(lo, hi):
                head = heads[r]
                lines += [head + line_tail[k] for k in range(first_line[r], first_line[r + 1])]
                if not broken_done and first_line[r + 1] - first_line[r] >= 2 and receipts.card[r]:
                    # The till dropped the discount column on one line.
                    fields = lines[-(first_line[r + 1] - first_line[r]) + 1].split(";")
                    broken = ";".join(fields[:9] + fields[10:])
                    lines[-(first_line[r + 1] - first_line[r]) + 1] = BrokenLine(broken, "wrong number of fields")
                    broken_done = True
            written[(day, store)] = out.write_joined_csv(
                "pos",
                landing,
                f"receipts_{store}_{landing:%Y%m%d}.csv",
                RECEIPT_HEADER,
                lines,
                delimiter=";",
                encoding="cp1252",
                newline="\r\n",
            )
    # A store's file sent again the next day under a new name.
    for day in range(1, days - 1, 10):
        original = written[(day, "S02")]
        landing = start + timedelta(days=day + 1)
        out.copy_file(original, "pos", landing, f"receipts_S02_{start + timedelta(days=day):%Y%m%d}_resend.csv")
