"""Time helpers: local (Europe/Stockholm) and UTC renderings used by the sources.

The renderings are built from ``isoformat`` rather than ``strftime`` (several times faster,
and they run for every row); they give the same text as the strftime formats named in each
docstring for the four-digit years the sample has.
"""

import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Stockholm")
UTC = timezone.utc
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def local_moment(
    rng: random.Random, day: date, first_hour: int = 7, last_hour: int = 22, zone: ZoneInfo = LOCAL
) -> datetime:
    """A random aware local time on the day, between the hours."""
    seconds = rng.randrange(first_hour * 3600, last_hour * 3600)
    return midnight(day, zone) + timedelta(seconds=seconds)


_midnights: dict = {}


def midnight(day: date, zone: ZoneInfo = LOCAL) -> datetime:
    """datetime.combine(day, time(), tzinfo=zone), kept: a few dozen days and zones, millions of
    calls (aware arithmetic is on the wall clock, so adding to it gives what adding to a new one does)."""
    key = (day, zone)
    moment = _midnights.get(key)
    if moment is None:
        moment = _midnights[key] = datetime.combine(day, time(), tzinfo=zone)
    return moment


def plain(ts: datetime) -> str:
    """strftime("%Y-%m-%d %H:%M:%S")."""
    return ts.isoformat(" ", "seconds")[:19]


def with_offset(ts: datetime) -> str:
    """strftime("%Y-%m-%d %H:%M:%S %z") of an aware time: the offset as +HHMM."""
    text = ts.isoformat(" ", "seconds")
    if len(text) != 25:  # naive, or an offset with seconds: strftime knows how
        return ts.strftime("%Y-%m-%d %H:%M:%S %z")
    return f"{text[:19]} {text[19:22]}{text[23:]}"


def rfc2822(ts: datetime) -> str:
    """astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000") in the C locale."""
    utc = ts.astimezone(UTC)
    return (
        f"{_DAYS[utc.weekday()]}, {utc.day:02d} {_MONTHS[utc.month]} {utc.year:04d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} +0000"
    )


def micros(ts: datetime) -> int:
    return int(ts.timestamp()) * 1_000_000 + ts.microsecond


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def exact_micros(ts: datetime) -> int:
    """Microseconds since the epoch of an aware time, in integer arithmetic: orders as the times
    do (micros goes through a float timestamp, which can round)."""
    return (ts - _EPOCH) // _MICROSECOND
