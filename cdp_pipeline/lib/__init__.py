"""Plain Python behind the assets: no Dagster imports here, so every piece is unit-testable."""
