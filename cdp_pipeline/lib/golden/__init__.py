"""The golden layer: survivorship, traits, consent, timeline, lookup and the single customer view.

Public entry points:

- ``build_golden(con, as_of_date, tz=...)``: (re)build golden.customer_timeline and golden.customers.
- ``customer_profile(con, identifier, default_region=...)`` / ``format_profile(profile)`` / ``profile_json(profile)``:
  what ``cdp customer IDENTIFIER [--json]`` prints.
"""

from cdp_pipeline.lib.golden.build import GoldenBuild, build_golden, latest_event_date
from cdp_pipeline.lib.golden.customer_view import customer_profile, format_profile, profile_json
from cdp_pipeline.lib.golden.lookup import CustomerMatch, find_customer, find_customers

__all__ = [
    "GoldenBuild",
    "build_golden",
    "latest_event_date",
    "customer_profile",
    "format_profile",
    "profile_json",
    "CustomerMatch",
    "find_customer",
    "find_customers",
]
