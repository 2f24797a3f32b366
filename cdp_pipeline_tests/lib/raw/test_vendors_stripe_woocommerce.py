"""Customer exports of Stripe and WooCommerce and the Shopify customers export as written since
2024, dropped in crm/, Stripe's payments export the platform does not read and a WooCommerce order
export it reads (fixtures/vendors/README.md): each customer export through ingest and staging gives
known keys, names split from a one-field ``Name``, addresses, phones and consent; the unread export
is rejected whole with a reason that names it, the night going on."""

import json
from pathlib import Path

import pytest

from cdp_pipeline.lib.raw.file_kinds import classify_csv, normalise_header
from cdp_pipeline.lib.raw.ledger import ledger_balance
from cdp_pipeline_tests.lib.raw.vendor_landing import q, staged_landing_day

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
DAY = "2026-10-01"

DROPS = {
    ("crm", "unified_customers.csv"): VENDORS / "stripe" / "unified_customers.csv",
    ("crm", "unified_payments.csv"): VENDORS / "stripe" / "unified_payments.csv",
    ("crm", "customers-report-2026-10-01.csv"): VENDORS / "woocommerce" / "customers-report-2026-10-01.csv",
    ("crm", "customers_export_2025.csv"): VENDORS / "shopify" / "customers_export_2025.csv",
    ("pos", "orders-2026-10-01.csv"): VENDORS / "woocommerce" / "orders-2026-10-01.csv",
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = staged_landing_day(tmp_path_factory.mktemp("vendors_stripe_woocommerce"), DAY, DROPS)
    yield c
    c.close()


def test_each_file_is_read_as_its_kind_or_rejected_naming_its_export(con):
    files = {
        Path(file).name: rest
        for file, *rest in q(con, "SELECT file, status, file_kind, rows_read, rows_loaded FROM audit.files")
    }
    assert files == {
        # before: rejected whole, "missing required column(s): customer_id"
        "unified_customers.csv": ["loaded", "stripe_customers", 3, 3],
        # before: rejected whole, "missing required column(s): customer_id"
        "customers-report-2026-10-01.csv": ["loaded", "woocommerce_customers", 3, 3],
        "customers_export_2025.csv": ["loaded", "crm_customers", 3, 3],
        # before: each payment a CRM customer keyed by its Customer ID (no name, no address)
        "unified_payments.csv": ["rejected", None, 0, 0],
        # s45-vendors: rejected naming it; before: rejected for a missing lineitem_name, as a
        # Shopify orders export (its name says orders). Read since s45-woo-orders (its own test:
        # test_woocommerce_orders.py); one broken line quarantined
        "orders-2026-10-01.csv": ["loaded", "woocommerce_orders", 7, 6],
    }
    reasons = dict(q(con, "SELECT file, reason FROM audit.quarantine"))
    assert reasons["crm/2026-10-01/unified_payments.csv"].startswith(
        "unknown file kind for source 'crm': Stripe's payments export, which the platform does not read"
    )
    assert reasons["pos/2026-10-01/orders-2026-10-01.csv"] == "wrong number of fields: expected 48, found 4"
    assert len(reasons) == 2
    for source, table in (("crm", "crm_customers"), ("pos", "pos_orders")):
        assert ledger_balance(con, source, table)["balanced"], table


def test_stripe_customers_are_keyed_by_the_stripe_id_and_their_name_is_split(con):
    records = q(
        con,
        """SELECT source_record_id, crm_customer_id, first_name, last_name, email
           FROM staging.identity_records WHERE source_record_id LIKE 'cus_%' ORDER BY 1""",
    )
    assert records == [
        ("cus_RkT2pXa9LmQ4vB", "cus_RkT2pXa9LmQ4vB", "Maja", "Lind", "maja.lind@fjordpost.se"),
        ("cus_RkT3wZc1NnE7yD", "cus_RkT3wZc1NnE7yD", "Olof", "Ek", "olof.ek@fjordpost.se"),  # "Ek, Olof"
        ("cus_RkT5hJd8PqS2uF", "cus_RkT5hJd8PqS2uF", None, None, None),  # a customer with an id only
    ]
    # the whole name is kept in raw as written; Stripe's other columns are in _extra
    full_name, extra = q(
        con, "SELECT full_name, _extra FROM raw.crm_customers WHERE customer_id = 'cus_RkT3wZc1NnE7yD'"
    )[0]
    assert full_name == "Ek, Olof"
    assert json.loads(extra)["Created (UTC)"] == "2026-09-20 17:02"
    assert json.loads(extra)["Total Spend"] == "120.00"


def test_woocommerce_customers_are_keyed_by_address_with_split_names_and_their_country(con):
    records = q(
        con,
        """SELECT source_record_id, crm_customer_id, first_name, last_name, email, postcode, city, country
           FROM staging.identity_records WHERE source_record_id LIKE 'email:%' ORDER BY 1""",
    )
    assert records == [
        # "Svensson, Anna"; a Swedish postcode in its own form
        ("email:anna.svensson@fjordpost.se", None, "Anna", "Svensson", "anna.svensson@fjordpost.se", "211 19",
         "Malmö", "SE"),
        # a guest (no username); the particles go with the surname
        ("email:jan.vdberg@fjordpost.nl", None, "Jan", "van der Berg", "jan.vdberg@fjordpost.nl", "3511AB",
         "Utrecht", "NL"),
        ("email:lea.nilsson@fjordpost.se", None, "Lea", "Nilsson", "lea.nilsson@fjordpost.se", None, None, None),
    ]  # fmt: skip
    extra = json.loads(q(con, "SELECT _extra FROM raw.crm_customers WHERE email = 'anna.svensson@fjordpost.se'")[0][0])
    assert (extra["Username"], extra["Sign Up"], extra["Total Spend"]) == ("anna_s", "2025-03-01 09:12:40", "1497.00")


def test_shopify_customers_export_of_2025_reads_its_phones_and_keeps_whatsapp_consent_in_raw(con):
    records = q(
        con,
        """SELECT source_record_id, first_name, last_name, email, phone, street, city, country
           FROM staging.identity_records WHERE source_record_id LIKE '99803%' ORDER BY 1""",
    )
    assert records == [
        # '+573158173380: the spreadsheet's apostrophe before the number is not part of it
        ("9980311896380", "Ana", "Gómez", "ana.gomez@cafeteria.co", "+573158173380", "Carrera 27A, 36sur -150",
         "Envigado", "CO"),
        # no Phone: the Default Address Phone, read in the address's country (CO)
        ("9980311929148", "Luis", "Pardo", "luis.pardo@cafeteria.co", "+573163746288", None, "Bogotá", "CO"),
        ("9980311994684", None, None, "pat.kim@mailbox.us", None, None, None, "US"),
    ]  # fmt: skip
    # Accepts Email/SMS Marketing "no" opt out (dated by the landing day; "yes" without a time grants
    # nothing); SMS consent is about Phone only, so Luis's "yes" with no Phone makes no event.
    # "Accepts WhatsApp Marketing" is no SMS consent (the CDP has no WhatsApp channel): kept in raw.
    assert q(
        con,
        """SELECT source_record_id, channel, state, reason FROM staging.consent_events
           WHERE source_record_id LIKE '99803%' ORDER BY ALL""",
    ) == [
        ("9980311896380", "sms", "revoked", "crm_opt_out"),
        ("9980311929148", "email", "revoked", "crm_opt_out"),
    ]
    extra = json.loads(q(con, "SELECT _extra FROM raw.crm_customers WHERE customer_id = '''9980311929148'")[0][0])
    assert extra["Accepts WhatsApp Marketing"] == "no"
    assert extra["Tipo de Cliente (customer.metafields.custom.tipo_de_cliente)"] == "Mayorista"


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        # Stripe's customers export needs its id, its "Created (UTC)" and an Email
        ("id,Email,Name,Created (UTC)", "stripe_customers"),
        # a CRM extract with an "id" and nothing of Stripe's stays the CRM contract (id is no key there)
        ("id,email,first_name", "crm_customers"),
        # a customer_id wins over every vendor's marks
        ("customer_id,id,Email,Created (UTC),Username,Sign Up", "crm_customers"),
        ("Name,Username,Last Active,Sign Up,Email", "woocommerce_customers"),
        # the legacy Shopify export: no id, an address and an e-mail consent column
        ("First Name,Email,Accepts Marketing", "shopify_customers_legacy"),
    ],
)
def test_crm_file_kinds_by_their_vendors_marks(header, kind):
    keys = {normalise_header(h) for h in header.split(",")}
    assert classify_csv("crm", "export.csv", keys).name == kind


def test_cdp_forget_erases_these_customers_and_a_redelivery_is_suppressed_at_ingest(cdp_env):
    """A Stripe customer and a WooCommerce customer erased by their address: their raw rows go (the
    whole name with them), and the same exports delivered the next day load the others only."""
    import duckdb

    from cdp_pipeline.lib.audit import queue_erasure, run_pending_erasures
    from cdp_pipeline.lib.raw import load_partition
    from cdp_pipeline_tests.lib.raw.vendor_landing import build_staging

    files = {
        "unified_customers.csv": VENDORS / "stripe" / "unified_customers.csv",
        "customers-report-2026-10-01.csv": VENDORS / "woocommerce" / "customers-report-2026-10-01.csv",
    }
    con = duckdb.connect(str(cdp_env.build_db))
    for day in (DAY, "2026-10-02"):
        folder = cdp_env.landing_dir / "crm" / day
        folder.mkdir(parents=True)
        for name, path in files.items():
            # the second delivery differs by a byte (the same bytes are a duplicate, never re-read)
            (folder / name).write_bytes(path.read_bytes() + (b"\n" if day != DAY else b""))
    load_partition(con, cdp_env.landing_dir, "crm", DAY, settings=cdp_env)
    build_staging(con)
    for email in ("olof.ek@fjordpost.se", "anna.svensson@fjordpost.se"):
        queue_erasure(email, cdp_env.inbox_dir)
    run_pending_erasures(con, cdp_env)
    names = "SELECT full_name FROM raw.crm_customers WHERE _landing_date = ? ORDER BY 1"
    assert q(con, names, [DAY]) == [("",), ("Jan van der Berg",), ("Lea Nilsson",), ("Maja Lind",)]

    load_partition(con, cdp_env.landing_dir, "crm", "2026-10-02", settings=cdp_env)
    assert q(con, names, ["2026-10-02"]) == [("",), ("Jan van der Berg",), ("Lea Nilsson",), ("Maja Lind",)]
    assert q(
        con, "SELECT file_kind, rows_read, rows_loaded, rows_suppressed, rows_erased FROM audit.files ORDER BY file"
    ) == [
        ("woocommerce_customers", 3, 3, 0, 1),  # erased after the load: counted against its file
        ("stripe_customers", 3, 3, 0, 1),
        ("woocommerce_customers", 3, 2, 1, 0),  # the redelivery: suppressed at ingest
        ("stripe_customers", 3, 2, 1, 0),
    ]
    assert ledger_balance(con, "crm", "crm_customers")["balanced"]
    con.close()
