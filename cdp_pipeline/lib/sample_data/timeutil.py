"""Time helpers: local (Europe/Stockholm) and UTC renderings used by the sources."""

import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Stockholm")
UTC = timezone.utc


def local_moment(
    rng: random.Random, day: date, first_hour: int = 7, last_hour: int = 22, zone: ZoneInfo = LOCAL
) -> datetime:
    """A random aware local time on the day, between the hours."""
    seconds = rng.randrange(first_hour * 3600, last_hour * 3600)
    return datetime.combine(day, time(), tzinfo=zone) + timedelta(seconds=seconds)


def plain(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S")


def with_offset(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S %z")


def rfc2822(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def micros(ts: datetime) -> int:
    return int(ts.timestamp()) * 1_000_000 + ts.microsecond
