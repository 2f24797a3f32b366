"""Over-merge guard on identifiers: junk and implausibly shared values are never used to link.

``test@test.com`` is flagged by the normalisers; a shop's default phone or a
``info@`` mailbox is not, but gives itself away by being shared by many different
people. Both land in ``identity.excluded_identifiers`` with the reason, and are
ignored by stitching and blanked in Splink's input.
"""

from __future__ import annotations

import duckdb

from cdp_pipeline.lib.identity.config import IDENTIFIER_KINDS, IdentityConfig
from cdp_pipeline.lib.identity.records import IDENTIFIERS

EXCLUDED = "temp._id_excluded"
USABLE = "temp._id_usable_identifiers"


def _limits_table(con: duckdb.DuckDBPyConnection, config: IdentityConfig) -> None:
    rows = [
        (k, config.max_people_per_identifier.get(k), config.max_records_per_identifier.get(k)) for k in IDENTIFIER_KINDS
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE _id_limits (kind VARCHAR, max_people BIGINT, max_records BIGINT)")
    con.executemany("INSERT INTO temp._id_limits VALUES (?, ?, ?)", rows)


def find_excluded_identifiers(con: duckdb.DuckDBPyConnection, config: IdentityConfig) -> int:
    """Write ``temp._id_excluded(kind, value, records, people, reason)`` and the usable rest."""
    _limits_table(con, config)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_excluded AS
        WITH counted AS (
            -- (rid, kind, value) is unique in IDENTIFIERS: count(*) counts records
            SELECT kind, value, count(*) AS records, min(first_name) AS first_name_a,
                   max(first_name) AS first_name_b, bool_or(is_junk) AS is_junk
            FROM {IDENTIFIERS} GROUP BY kind, value
        ), named_twice AS (
            -- distinct first names approximate distinct people (typos inflate it a little);
            -- counted only where there are two or more (a DISTINCT count over every value is
            -- three times slower)
            SELECT kind, value, count(DISTINCT first_name) AS people
            FROM {IDENTIFIERS}
            SEMI JOIN (SELECT kind, value FROM counted WHERE first_name_a <> first_name_b) USING (kind, value)
            GROUP BY kind, value
        ), stats AS (
            SELECT c.kind, c.value, c.records, c.is_junk,
                   coalesce(n.people, CASE WHEN c.first_name_a IS NULL THEN 0 ELSE 1 END) AS people
            FROM counted c LEFT JOIN named_twice n USING (kind, value)
        )
        SELECT s.kind, s.value, s.records, s.people,
               CASE WHEN s.is_junk THEN 'flagged_junk'
                    WHEN s.people > l.max_people
                        THEN 'shared_by_' || s.people || '_people_limit_' || l.max_people
                    ELSE 'shared_by_' || s.records || '_records_limit_' || l.max_records
               END AS reason
        FROM stats s LEFT JOIN temp._id_limits l USING (kind)
        WHERE s.is_junk OR s.people > l.max_people OR s.records > l.max_records
        ORDER BY s.kind, s.value
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_usable_identifiers AS
        SELECT i.* FROM {IDENTIFIERS} i ANTI JOIN {EXCLUDED} e USING (kind, value)
    """)
    return con.execute(f"SELECT count(*) FROM {EXCLUDED}").fetchall()[0][0]
