"""The landing-day partitions of the raw layer: one partition per day that has landed.

A dynamic partitions definition, not a daily calendar: the UI's partition bar then shows
the days that delivered files, rather than every calendar day since some start date with
all but a few "missing". A day becomes a partition when the landing-file sensor, the nightly
schedule or `cdp run` first sees files in a ``<landing>/<source>/<YYYY-MM-DD>/`` folder
(``add_landing_days``); partitions are never removed, so history stays visible.

Dagster orders dynamic partitions by when they were added, not by name, and resolves a
partition range in that order. Days normally arrive in date order; a folder dropped later
for an older day is added after newer days, so ``partition_range`` builds the range that
covers the wanted days in Dagster's order, and the raw assets load their days sorted.
"""

from collections.abc import Iterable

import dagster as dg

LANDING_DAYS = "landing_days"
# The latest landing day a run loads, when the run is launched by the sensor, the schedule or
# `cdp run` (see ``partition_range_tags`` in automation.py).
LAST_LANDING_DAY_TAG = "cdp/last_landing_day"

landing_date_partitions = dg.DynamicPartitionsDefinition(name=LANDING_DAYS)


def new_landing_days(instance: dg.DagsterInstance, days: Iterable[str]) -> list[str]:
    """The days that are not partitions yet, in date order."""
    known = set(instance.get_dynamic_partitions(LANDING_DAYS))
    return sorted(set(days) - known)


def add_landing_days(instance: dg.DagsterInstance, days: Iterable[str]) -> list[str]:
    """Make each day a partition (idempotent); the days that were new."""
    new = new_landing_days(instance, days)
    if new:
        instance.add_dynamic_partitions(LANDING_DAYS, new)
    return new


def partition_range(known_keys: list[str], days: Iterable[str]) -> tuple[str, str]:
    """First and last partition of the shortest range (in Dagster's order of ``known_keys``)
    that holds every one of ``days``; each day must be a partition already."""
    positions = sorted(known_keys.index(d) for d in set(days))
    return known_keys[positions[0]], known_keys[positions[-1]]
