"""The mode of a run, read once from its tags: full refresh or not, whether `cdp run` found no new
landing files, and the landing day it is as of.

Tags are how every launcher passes the mode: the nightly schedule and the landing-file sensor
(``partition_range_tags`` in automation.py), `cdp run` (``--full-refresh``, its days), a run
launched from the UI's launchpad (add the tag ``cdp/full_refresh: true``), and a re-execution,
which copies its parent's tags. Every asset reads them through ``RunMode.of_run``, never by hand.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from cdp_pipeline.defs.partitions import LAST_LANDING_DAY_TAG

# `cdp run --full-refresh` (or this tag on a run launched from the UI): every layer is
# recomputed from every record instead of only what changed since the last night.
FULL_REFRESH_TAG = "cdp/full_refresh"
# `cdp run` that found no new or changed landing file: the night runs as of the latest day without
# loading it again where its files are as loaded (lib/raw/reload.py).
NO_NEW_FILES_TAG = "cdp/no_new_files"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
# The tags that name a run's landing day, the first present wins: the last landing day first
# (a range of partitions added out of date order does not end on its latest day), then the
# range's end, then a single partition.
AS_OF_TAGS = (LAST_LANDING_DAY_TAG, PARTITION_RANGE_END_TAG, PARTITION_TAG)

_TRUE = frozenset({"1", "true", "yes"})
_FALSE = frozenset({"", "0", "false", "no"})


class RunModeError(ValueError):
    """A run tag of the mode holds a value that does not say what it must."""


@dataclass(frozen=True)
class RunMode:
    """``full_refresh``: recompute every layer from every record. ``as_of``: the run's last
    landing day, when its tags name one (None: the golden layer picks the latest event);
    ``as_of_tag``: the tag it came from. ``no_new_files``: `cdp run` found no new landing file
    (raw loads again only the run's days whose files changed since)."""

    full_refresh: bool = False
    as_of: date | None = None
    as_of_tag: str | None = None
    no_new_files: bool = False

    @classmethod
    def of_tags(cls, tags: Mapping[str, str] | None) -> "RunMode":
        """The mode the tags say; ``RunModeError`` naming the tag when a value is malformed."""
        tags = tags or {}
        return cls(_flag(tags, FULL_REFRESH_TAG), *_as_of(tags), no_new_files=_flag(tags, NO_NEW_FILES_TAG))

    @classmethod
    def of_run(cls, run) -> "RunMode":
        """The mode of a ``DagsterRun`` (None, outside a run: the default mode)."""
        return cls.of_tags(run.tags if run is not None else None)


def _flag(tags: Mapping[str, str], tag: str) -> bool:
    value = str(tags.get(tag, "")).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise RunModeError(f"run tag {tag} is {tags[tag]!r}: write true or false (or 1/0, yes/no)")


def _as_of(tags: Mapping[str, str]) -> tuple[date | None, str | None]:
    for tag in AS_OF_TAGS:
        value = tags.get(tag)
        if value:
            try:
                return date.fromisoformat(value[:10]), tag
            except ValueError:
                raise RunModeError(f"run tag {tag} is {value!r}, not a day written YYYY-MM-DD") from None
    return None, None
