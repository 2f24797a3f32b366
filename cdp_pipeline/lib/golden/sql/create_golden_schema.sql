-- Make sure the golden layer's schema exists before its tables are rebuilt.
CREATE SCHEMA IF NOT EXISTS golden
