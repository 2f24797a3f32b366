"""Time-zone names as vendors write them, read as IANA zones.

Square's exports name a seller's zone the way Rails displays it (``Eastern Time (US & Canada)``):
neither zoneinfo nor tzdata knows those names, and no Python package keeps the list. Rails
does: ``rails_time_zones.json`` is ActiveSupport's ``TimeZone::MAPPING`` (rails/rails,
activesupport/lib/active_support/values/time_zone.rb, MIT licence), the table Rails itself reads
the names by, copied as data rather than written out by hand.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

RAILS_TIME_ZONES = Path(__file__).with_name("rails_time_zones.json")

# ActiveSupport::TimeZone#to_s writes "(GMT-05:00) Eastern Time (US & Canada)"
_GMT_PREFIX = re.compile(r"^\(GMT[+-]\d\d:\d\d\)\s*")


@lru_cache(maxsize=1)
def rails_zones() -> dict[str, str]:
    """Rails display name -> IANA zone."""
    return json.loads(RAILS_TIME_ZONES.read_text(encoding="utf-8"))["zones"]


@lru_cache(maxsize=256)
def iana_zone(raw: str | None) -> str | None:
    """``Eastern Time (US & Canada)`` -> ``America/New_York``; an IANA name stays itself; blank,
    or a name neither knows, -> None: the time is read in the default zone (``CDP_TIMEZONE``), as
    a store receipt without a zone is. An undated sale would drop out of the timeline and the
    recency traits; a few hours off moves neither much."""
    if raw is None or not raw.strip():
        return None
    name = _GMT_PREFIX.sub("", " ".join(raw.split()))
    by_lower = {k.lower(): v for k, v in rails_zones().items()}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name
