"""staging.identity_records is made in steps, each a temp table (create_identity_records.sql says
why). Step 2 (create_identity_records_named.sql) standardises a record's names, e-mail address,
birth date, street, city and country: it carries on only what the later steps read, not the raw
values it has standardised (each one more text column of every record to write, hold and, at
10M records, spill)."""

from cdp_pipeline.defs.staging.assets import SQL_DIR
from cdp_pipeline.lib.staging import incremental
from cdp_pipeline.lib.staging.build import build_staging_table
from cdp_pipeline.settings import get_settings
from cdp_pipeline_tests.lib.staging.build_db import insert_raw


def test_step_two_carries_no_raw_value_it_standardised(con, monkeypatch):
    insert_raw(
        con,
        "crm_customers",
        [
            {
                "customer_id": "c1",
                "first_name": " ANNA ",
                "last_name": "svensson",
                "email": " Anna@Firma.SE ",
                "phone": "070-123 45 67",
                "street": "STORGATAN 1",
                "postcode": "11453",
                "city": "STOCKHOLM",
                "country": "Sverige",
                "birth_date": "1980-03-12",
                "updated_at": "2026-09-01 10:00:00",
            }
        ],
    )
    columns: dict[str, list[str]] = {}
    run_sql = incremental.run_sql

    def recording(c, sql_dir, name, **identifiers):
        out = run_sql(c, sql_dir, name, **identifiers)
        if name.startswith("create_identity_records_"):
            table = name.removeprefix("create_")
            columns[table] = [r[0] for r in c.execute(f"DESCRIBE temp.{table}").fetchall()]
        return out

    monkeypatch.setattr(incremental, "run_sql", recording)
    build_staging_table(con, SQL_DIR, "identity_records", get_settings(), full_refresh=True)

    # step 1 keeps every raw value step 2 reads
    assert {"raw_first", "raw_last", "raw_email", "raw_street", "raw_city", "raw_country", "raw_birth_date"} <= set(
        columns["identity_records_located"]
    )
    # step 2 hands on only the raw number and postcode, which the steps after it read (in the
    # record's country)
    assert [c for c in columns["identity_records_named"] if c.startswith("raw_")] == ["raw_phone", "raw_postcode"]
    # and the record comes out standardised from them
    row = con.execute(
        "SELECT first_name, last_name, email, phone, street, postcode, city, country, birth_date::VARCHAR "
        "FROM staging.identity_records"
    ).fetchall()
    assert row == [
        ("Anna", "Svensson", "anna@firma.se", "+46701234567", "Storgatan 1", "114 53", "Stockholm", "SE", "1980-03-12")
    ]
