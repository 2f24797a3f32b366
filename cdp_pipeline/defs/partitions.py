"""The daily landing-date partitions of the raw layer."""

import dagster as dg

from cdp_pipeline.settings import get_settings

# end_offset=1 makes today's partition available: files land during the day and
# the night's run loads them.
landing_date_partitions = dg.DailyPartitionsDefinition(
    start_date=get_settings().partition_start, timezone=get_settings().timezone, end_offset=1
)
