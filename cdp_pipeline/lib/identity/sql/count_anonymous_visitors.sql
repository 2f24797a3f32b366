-- How many anonymous visitors identity.anonymous_visitors holds.
SELECT count(*) FROM identity.anonymous_visitors
