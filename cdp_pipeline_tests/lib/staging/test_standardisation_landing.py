"""Known answers of the s43 standardisation audit through the real path: files dropped in a
landing day, loaded into raw and staged on a DuckDB file, as a night does (vendor_landing.py)."""

from decimal import Decimal

import pytest

from cdp_pipeline_tests.lib.raw.vendor_landing import q, staged_landing_day

DAY = "2026-10-01"
CRM = (
    "customer_id,first_name,last_name,email,postcode,country\n"
    "c1,anna@firma.se,,bo@firma.se,2134,US\n"
    "c2,Anna,Svensson,anna.svensson@firma.se,021341234,United States\n"
    "c3,Therése,Koch II,therese.koch@firma.se,123 45,SE\n"
)
ORDERS = (
    "Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,"
    "Billing Name,Billing Zip,Billing Country,Currency,Total\n"
    "#1001,therese.koch@firma.se,paid,2026-10-01 09:50:26 +0200,1,Sockor,99.00,Therése Koch II,123 45,SE,SEK,99.00\n"
    "#1002,anna.svensson@firma.se,paid,2026-10-01 09:51:26 +0200,1,Sockor,99.00,Dr. Anna Svensson,2134,US,,99.00\n"
    "#1003,john.smith@firma.se,paid,2026-10-01 09:52:26 +0200,1,Sockor,99.00,Mr John Smith Jr.,90210,US,,"
    '"$1,234.50"\n'
    "#1004,bo@firma.se,paid,2026-10-01 09:53:26 +0200,1,Sockor,12.50,Bo Ek,,DE,,€12.50\n"
    '#1005,bo@firma.se,paid,2026-10-01 09:54:26 +0200,1,Sockor,12.50,Bo Ek,,DE,eur,"$12.50"\n'
    '#1006,bo@firma.se,paid,2026-10-01 09:55:26 +0200,1,Sockor,12.50,Bo Ek,,SE,,"1 234,50 kr"\n'
)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = staged_landing_day(
        tmp_path_factory.mktemp("std_landing"),
        DAY,
        {("crm", "customers_20261001.csv"): CRM, ("pos", "orders_export_20261001.csv"): ORDERS},
    )
    yield c
    c.close()


def _record(con, source_record_id):
    return q(
        con,
        "SELECT first_name, last_name, postcode, country, list_contains(dq_flags, 'junk_name') "
        "FROM staging.identity_records WHERE source_record_id = ?",
        [source_record_id],
    )


def test_billing_names_split_without_titles_and_with_suffixes(con):
    # the CRM's own columns and the order's split billing name agree, so the two records compare
    assert _record(con, "c3") == [("Therése", "Koch II", "123 45", "SE", False)]
    assert _record(con, "order:#1001") == [("Therése", "Koch II", "123 45", "SE", False)]
    assert _record(con, "order:#1002") == [("Anna", "Svensson", "02134", "US", False)]
    assert _record(con, "order:#1003") == [("John", "Smith Jr.", "90210", "US", False)]


def test_us_zip_codes_get_their_leading_zeros_and_hyphen_back(con):
    assert _record(con, "c2") == [("Anna", "Svensson", "02134-1234", "US", False)]


def test_an_email_address_in_a_name_field_is_a_junk_name_and_the_row_is_kept(con):
    assert _record(con, "c1") == [("Anna@firma.se", None, "02134", "US", True)]
    assert q(con, "SELECT count(*) FROM raw.crm_customers") == [(3,)]
    assert q(con, "SELECT count(*) FROM audit.quarantine") == [(0,)]


def test_an_orders_currency_is_its_column_else_the_symbol_of_its_total_else_sek(con):
    assert q(con, "SELECT order_id, currency, total FROM staging.orders ORDER BY order_id") == [
        ("order:#1001", "SEK", Decimal("99.00")),
        ("order:#1002", "SEK", Decimal("99.00")),  # no column value, no symbol
        ("order:#1003", "USD", Decimal("1234.50")),
        ("order:#1004", "EUR", Decimal("12.50")),
        ("order:#1005", "EUR", Decimal("12.50")),  # the column wins over the symbol
        ("order:#1006", "SEK", Decimal("1234.50")),
    ]
