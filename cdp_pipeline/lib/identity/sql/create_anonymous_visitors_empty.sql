-- No web events with a cookie and a user_id: no anonymous visitors.
CREATE OR REPLACE TABLE identity.anonymous_visitors (user_pseudo_id VARCHAR, events BIGINT)
