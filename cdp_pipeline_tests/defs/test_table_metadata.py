"""Dagster's standard table metadata (row count badge, Columns section) and the model summary."""

import json

import dagster as dg
import duckdb

from cdp_pipeline.defs.table_metadata import rounded, table_metadata
from cdp_pipeline.lib.identity.splink_model import splink_model_markdown


def test_table_metadata_has_rows_columns_with_their_comments_and_the_table_name():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA golden")
    con.execute("CREATE TABLE golden.customers (customer_id VARCHAR, total_spend DECIMAL(12, 2))")
    con.execute("INSERT INTO golden.customers VALUES ('C-1', 10), ('C-2', 20.5)")
    con.execute("COMMENT ON COLUMN golden.customers.customer_id IS 'persistent customer id'")
    md = table_metadata(con, dg.AssetKey(["golden", "customers"]))
    assert md["dagster/table_name"] == dg.MetadataValue.text("golden.customers")
    assert md["dagster/row_count"] == dg.MetadataValue.int(2)
    columns = md["dagster/column_schema"].schema.columns
    assert [(c.name, c.type, c.description) for c in columns] == [
        ("customer_id", "VARCHAR", "persistent customer id"),
        ("total_spend", "DECIMAL(12,2)", None),
    ]
    assert table_metadata(con, ["golden", "missing"]) == {}


def test_floats_are_rounded_for_the_ui():
    assert rounded(0.123456789).value == 0.1235
    assert rounded(None).value == 0.0
    assert rounded(1.23456789e-4, 6).value == 0.000123


def test_the_model_charts_are_summarised_as_markdown(tmp_path):
    model = {
        "probability_two_random_records_match": 0.001,
        "comparisons": [
            {
                "output_column_name": "email",
                "comparison_levels": [
                    {"sql_condition": "email_l IS NULL", "is_null_level": True},
                    {
                        "sql_condition": "email_l = email_r",
                        "label_for_charts": "exact",
                        "m_probability": 0.8,
                        "u_probability": 0.0001,
                    },
                    {
                        "sql_condition": "ELSE",
                        "label_for_charts": "all other",
                        "m_probability": 0.2,
                        "u_probability": 0.8,
                    },
                ],
            }
        ],
    }
    path = tmp_path / "splink_model.json"
    path.write_text(json.dumps(model))
    text = splink_model_markdown(str(path))
    assert "Prior (two random records match): 0.001, weight -9.96" in text
    assert "| email | exact | 0.8 | 0.0001 | +12.97 |" in text
    assert "| email | all other | 0.2 | 0.8 | -2.00 |" in text
    assert "IS NULL" not in text
