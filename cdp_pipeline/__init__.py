"""cdp_pipeline: an open-source batch Customer Data Platform (Dagster + DuckDB + Splink)."""

__version__ = "0.1.0"
