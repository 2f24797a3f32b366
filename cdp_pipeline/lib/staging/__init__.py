"""The staging layer: the builds of the staging tables (``build.py``, ``incremental.py``,
``accounting.py``, SQL in ``sql/``) and the standardisation functions they run, pure functions
that turn what sources send into comparable values.

Each normaliser returns the standardised value or None; the ``check_*`` variants
return a ``Checked(value, flags)`` with the data-quality flags that staging
writes to ``dq_flags``. ``udfs.register_udfs`` exposes them to DuckDB SQL.
"""

from ._common import Checked
from .address import (
    check_postcode,
    match_street,
    standardise_city,
    standardise_country,
    standardise_postcode,
    standardise_street,
)
from .consent import parse_bool, sms_keyword
from .dates import check_birth_date, parse_birth_date, parse_date, parse_timestamp
from .email import check_email, email_flags, standardise_email
from .junk import is_junk_email, is_junk_name, is_junk_phone
from .money import parse_money
from .names import display_name, match_name, split_full_name
from .phone import check_phone, phone_flags, standardise_phone

__all__ = [
    "Checked",
    "check_birth_date",
    "check_email",
    "check_phone",
    "check_postcode",
    "display_name",
    "email_flags",
    "is_junk_email",
    "is_junk_name",
    "is_junk_phone",
    "match_name",
    "match_street",
    "parse_birth_date",
    "parse_bool",
    "parse_date",
    "parse_money",
    "parse_timestamp",
    "phone_flags",
    "sms_keyword",
    "split_full_name",
    "standardise_city",
    "standardise_country",
    "standardise_email",
    "standardise_phone",
    "standardise_postcode",
    "standardise_street",
]
