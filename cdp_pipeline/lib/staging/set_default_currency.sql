-- The warehouse currency (CDP_CURRENCY): the currency of an amount written without one and of
-- every store receipt (create_orders.sql, create_web_events.sql read it). Set on each connection
-- by register_udfs.
SET VARIABLE default_currency = $currency;
