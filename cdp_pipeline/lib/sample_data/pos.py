"""Point of sale: Shopify-style online orders (one row per line item, order-level fields on
the first row only); the store receipts' header, stores and products (receipts.py writes them)."""

import random
from datetime import date, timedelta

from .fastrandom import FastRandom
from .output import BrokenLine, Output
from .people import Person
from .records import IdRecord, choose_email, choose_phone, person_name, poisson
from .timeutil import local_moment, with_offset
from .variation import format_phone, format_postcode

ORDER_HEADER = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem sku",
    "Billing Name",
    "Billing Street",
    "Billing City",
    "Billing Zip",
    "Billing Country",
    "Billing Phone",
    "Cancelled at",
    "Refunded Amount",
    "Id",
    "Tags",
    "Source",
]
RECEIPT_HEADER = [
    "receipt_id",
    "store_id",
    "ts_local",
    "tz",
    "loyalty_card_id",
    "line_no",
    "sku",
    "qty",
    "unit_price",
    "discount",
    "vat_rate",
]
# (sku, name, price SEK, VAT %)
PRODUCTS = (
    ("NH-1001", "Ullfilt grå", 899.0, 25),
    ("NH-1002", "Kökshandduk 2-pack", 129.0, 25),
    ("NH-1003", "Vantar, stickade", 249.0, 25),
    ("NH-1004", "Doftljus Höstäng", 179.0, 25),
    ("NH-1005", "Kaffe Mörkrost 450 g", 89.0, 12),
    ("NH-1006", "Linneduk vit 150×250", 649.0, 25),
    ("NH-1007", "Skärbräda ek", 399.0, 25),
    ("NH-1008", "Ullsockor 3-pack", 199.0, 25),
    ("NH-1009", "Te Rooibos Äpple", 59.0, 12),
    ("NH-1010", "Fåtöljplæd alpacka", 1299.0, 25),
    ("NH-1011", "Glasburk med lock", 69.0, 25),
    ("NH-1012", "Knäckebröd råg", 35.0, 12),
)
STORES = {
    "S01": "Europe/Stockholm",
    "S02": "Europe/Stockholm",
    "S03": "Europe/Stockholm",
    "S04": "Europe/Stockholm",
    "S05": "Europe/Stockholm",
    "K01": "Europe/Copenhagen",
}
STORE_IDS = tuple(sorted(STORES))
NAME_WEIGHTS = {"initial": 0.05, "nickname": 0.04, "typo": 0.03, "upper": 0.03, "swapped": 0.01}


# Every (sku, name, price, VAT %, quantity) a line can be, made once: millions of receipts and
# orders share these few dozen tuples instead of holding a copy per line.
_LINES = {(product, qty): (*product, qty) for product in PRODUCTS for qty in (1, 2)}


def _items(rng: FastRandom, max_lines: int) -> list[tuple]:
    """rng.sample(PRODUCTS, rng.choice((1, 1, 1, 2, 2, 3, max_lines))), each with a quantity
    rng.choice((1, 1, 1, 2)): the same draws, written out (sample's pool method, which it takes
    for a dozen products, with FastRandom's integer draw), on every order."""
    random = rng.random
    count = (1, 1, 1, 2, 2, 3, max_lines)[int(random() * 7)]
    pool = list(PRODUCTS)
    n = len(pool)
    chosen = []
    for i in range(count):
        j = int(random() * (n - i))
        chosen.append(pool[j])
        pool[j] = pool[n - i - 1]
    return [_LINES[product, (1, 1, 1, 2)[int(random() * 4)]] for product in chosen]


def build_orders(out: Output, people: list[Person], days: int, start: date) -> list[IdRecord]:
    main_rng, case_rng = out.rng("pos/orders"), out.rng("pos/orders/hardcases")
    orders: list[IdRecord] = []
    for p in people:
        if not p.online_buyer:
            continue
        # Hard-case people draw from their own stream, so everyone else's records stay as they were.
        rng = case_rng if p.hard_case else main_rng
        for number in range(max(1, poisson(rng, days / 30 * 1.4))):
            first, last, name_kind = person_name(rng, p, NAME_WEIGHTS, "order", more_nicknames=out.hard_cases)
            email, email_flag = choose_email(
                rng, p, {"primary": 0.85, "alt": 0.08, "shared": 0.04, "junk": 0.01, "missing": 0.02}
            )
            if p.email_typo and number == 0:
                email, email_flag = p.email_typo, None
            phone, phone_flag = choose_phone(rng, p, {"own": 0.55, "shared": 0.03, "junk": 0.01, "missing": 0.41})
            street, postcode, city = (
                p.old_address if p.old_address and rng.random() < 0.4 else (p.street, p.postcode, p.city)
            )
            rec = IdRecord(
                "pos",
                "order",
                "",
                p,
                first,
                last,
                email,
                email_flag,
                phone,
                phone_flag,
                street,
                postcode,
                city,
                p.country,
            )
            day = rng.randrange(days)
            created = local_moment(rng, start + timedelta(days=day), 7, 23)
            items = _items(rng, 4)
            subtotal = sum(price * qty for _, _, price, _, qty in items)
            discount = round(subtotal * 0.2, 2) if rng.random() < 0.1 else 0.0
            shipping = 0.0 if subtotal - discount >= 499 else 49.0
            total = subtotal - discount + shipping
            rec.data.update(
                name_kind=name_kind,
                day=day,
                created=created,
                items=items,
                subtotal=subtotal - discount,
                shipping=shipping,
                total=total,
                discount_code="HOST20" if discount else "",
                status=rng.choices(("paid", "refunded", "pending", "partially_refunded"), (0.93, 0.03, 0.02, 0.02))[0],
                accepts=rng.random() < 0.6,
                tags=rng.choice(("", "", "", "VIP", "Nyhetsbrev")),
            )
            orders.append(rec)
    rng = main_rng
    orders.sort(key=lambda r: (r.data["created"], r.person.person_id))
    shop_id = 5_900_000_000_000 + rng.randrange(10**9)
    for number, rec in enumerate(orders, start=1001):
        shop_id += rng.randint(1, 5000)
        rec.srid = f"order:#{number}"
        rec.data.update(name=f"#{number}", id=str(shop_id))
    return orders


def _money(value: float) -> str:
    return f"{value:.2f}"


def _order_rows(rng: random.Random, rec: IdRecord) -> list[list[str]]:
    d = rec.data
    created = d["created"]
    billing_name = " ".join(part for part in (rec.first, rec.last) if part)
    email = rec.email or ""
    if email and rec.email_flag != "junk" and rng.random() < 0.05:
        email = email.capitalize()
    phone = ""
    if rec.phone:
        phone = (
            rec.phone
            if rec.phone_flag == "junk"
            else (rec.phone if rng.random() < 0.5 else format_phone(rng, rec.phone))
        )
    refunded = (
        _money(d["total"])
        if d["status"] == "refunded"
        else (_money(round(d["total"] * 0.3, 2)) if d["status"] == "partially_refunded" else "")
    )
    rows = []
    for index, (sku, name, price, _vat, qty) in enumerate(d["items"]):
        if index:  # order-level fields on the first row only
            rows.append([d["name"], *_BLANK_11, str(qty), name, _money(price), sku, *_BLANK_11])
            continue
        # the columns of ORDER_HEADER in order (the draws too: paid, billing zip, cancelled)
        paid = with_offset(created + timedelta(seconds=rng.randrange(2, 90))) if d["status"] != "pending" else ""
        rows.append(
            [
                d["name"],
                email,
                d["status"],
                paid,
                "yes" if d["accepts"] else "no",
                "SEK",
                _money(d["subtotal"]),
                _money(d["shipping"]),
                _money(round(d["total"] * 0.2, 2)),
                _money(d["total"]),
                d["discount_code"],
                with_offset(created),
                str(qty),
                name,
                _money(price),
                sku,
                billing_name,
                rec.street or "",
                rec.city or "",
                format_postcode(rng, rec.postcode, rec.country, spreadsheet=True) if rec.postcode else "",
                rec.country or "",
                phone,
                with_offset(created + timedelta(hours=rng.randrange(1, 30)))
                if d["status"] == "refunded" and rng.random() < 0.5
                else "",
                refunded,
                d["id"],
                d["tags"],
                "web",
            ]
        )
    return rows


_BLANK_11 = ("",) * 11


def write_orders(out: Output, orders: list[IdRecord], days: int, start: date) -> None:
    rng = out.rng("pos/orders/write")
    by_day: dict[int, list[IdRecord]] = {d: [] for d in range(days)}
    for rec in orders:
        if not rec.dropped:
            by_day[rec.data["day"]].append(rec)
    for day in range(days):
        landing = start + timedelta(days=day)
        rows: list = []
        for rec in by_day[day]:
            order_rows = _order_rows(rng, rec)
            # A second line item whose name holds a comma, written without quotes.
            if (
                day % 5 == 1
                and len(order_rows) > 1
                and "," in order_rows[1][13]
                and not any(isinstance(r, BrokenLine) for r in rows)
            ):
                order_rows[1] = BrokenLine(",".join(order_rows[1]), "wrong number of fields")
            rows.extend(order_rows)
        out.write_csv("pos", landing, f"orders_export_{landing:%Y%m%d}.csv", ORDER_HEADER, rows)
