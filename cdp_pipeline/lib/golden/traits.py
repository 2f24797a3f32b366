"""Traits of ``golden.customers``, all computed *as of* a date.

The as-of date is a business day in ``CDP_TIMEZONE``; only events before the cutoff
``as_of_date + 1 day`` at local midnight (converted to UTC, the time of every staging
timestamp) count, so rerunning an old day gives that day's answer. (Identity records
carry only their latest version, so survived attributes are the latest known.)

Trait definitions
-----------------
- ``first_seen`` / ``last_seen``: earliest / latest timeline event or identity-record
  time before the cutoff.
- ``orders_count``, ``online_orders_count``, ``store_orders_count``: orders and store
  receipts, excluding those cancelled before the cutoff, ``voided`` ones and fully refunded ones
  (``financial_status`` ``refunded``, or refunds of at least the total: a Square return): a purchase
  given back is not a purchase, so a customer whose only order was refunded is not a buyer (no
  RFM scores, ``prospect``). The same orders give ``first_order_at``, ``last_order_at`` (so recency)
  and ``preferred_store``; a refunded order's net amount (0, a return's negative) still counts in
  spend, and a web purchase or order followed by a refund still answers an add to cart.
- ``total_spend``, ``online_spend``, ``store_spend``: sum of ``total - refunded_amount``
  over those orders, floored at 0 (a return of a purchase made before the data starts
  must not give negative spend), in the warehouse currency (``CDP_CURRENCY``, SEK by default: what
  staging gives an amount written without a currency, and every store receipt).
- An order whose total (or refund) could not be read (``staging.orders.dq_flags``) is an order of unknown amount:
  counted in the order counts and times, adding nothing to spend (not a 0 in the average). So is an order
  in another currency (or an unreadable one): there is no rate to convert it with, and adding 100 EUR to
  SEK spend as 100 would give a meaningless sum. The golden check ``money_in_one_currency`` (WARN)
  counts those orders and the customers whose orders mix currencies.
- ``average_order_value``: ``total_spend`` / the counted orders whose amount is known, in DECIMAL, rounded half away from
  zero to the cent (NULL without such orders).
- ``first_order_at``, ``last_order_at``; ``days_since_last_order``: days from the
  last order's date in ``CDP_TIMEZONE`` (the as-of date's zone) to ``as_of_date``.
- ``preferred_store``: the store with most receipts (ties: latest visit, then store id).
- ``preferred_channel``: ``online`` or ``store`` by number of orders (ties: higher
  spend, then ``online``).
- ``email_opens_30d`` … ``email_clicks_90d``: ESP opens/clicks in the 30/90 days before the cutoff.
- ``sms_received``: outbound messages not reported ``failed``/``undelivered``;
  ``sms_replied``: inbound messages.
- ``web_sessions_30d``: sessions started in the last 30 days; ``last_web_visit``: latest session start.
- ``last_add_to_cart_at``; ``has_abandoned_cart``: an add_to_cart in the last 30 days
  with no purchase (web purchase event or any order) within 7 days after it.

RFM
---
Computed with ``days_since_last_order`` and ``as_of_date`` for every row by ``create_golden_ranks.sql``
(after the rest of the rows, which an incremental build recomputes only for some customers).
Over customers with at least one order: ``rfm_recency`` = ``1 + 5 * (rank() - 1) // buyers`` over
``last_order_at``, ``rfm_frequency`` over ``orders_count``, ``rfm_monetary`` over
``total_spend``, each ascending (5 = best): quintiles by value, so equal values share a score (the
one of the lowest place they hold) and two customers with the same orders count never get
different labels because of their ids.
Labels, first match wins:

=============  ==============================================
rfm_segment    rule
=============  ==============================================
prospect       no orders (scores NULL)
champions      R ≥ 4 and F ≥ 4 and M ≥ 4
loyal          R ≥ 3 and F ≥ 3
new            R ≥ 4 (recent, few orders)
potential      R = 3
at_risk        R ≤ 2 and F ≥ 3 (used to buy often, not lately)
hibernating    R = 2
lost           R = 1
=============  ==============================================
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from cdp_pipeline.lib.common.sql_files import run_sql

SQL_DIR = Path(__file__).parent / "sql"


def as_of_cutoff(as_of_date: date, tz: str = "UTC") -> datetime:
    """Naive UTC timestamp of local midnight after ``as_of_date``: events before it count."""
    local = datetime.combine(as_of_date + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz))
    return local.astimezone(dt_timezone.utc).replace(tzinfo=None)


def build_traits(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, str],
    as_of_date: date,
    cutoff: datetime,
    records: str = "_golden_records",
    timeline: str = "golden.customer_timeline",
    currency: str = "SEK",
) -> None:
    """Create temp table ``_golden_traits``: one row per customer with every behavioural trait.
    The money traits count the orders in ``currency``, the warehouse currency (``CDP_CURRENCY``):
    staging's for an amount written without one and for every store receipt. Orders in any other
    are orders of unknown amount to the traits (module docstring).

    ``timeline`` (the customers' ``golden.customer_timeline`` rows: customer_id, event_time, event_type)
    gives first and last seen with ``records``, and the email and web traits: each ESP activity, web
    session and key web event is a timeline row of its customer, so those staging tables are not joined
    to the map again. Orders and SMS are (the timeline holds neither amounts nor delivery status)."""
    run_sql(
        con,
        SQL_DIR,
        "create_customer_traits",
        {"cutoff": cutoff, "as_of_date": as_of_date, "currency": currency},
        records=records,
        timeline=timeline,
        **{k: tables[k] for k in ("customer_map", "orders", "sms_messages")},
    )
