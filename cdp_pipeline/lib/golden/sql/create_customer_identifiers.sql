-- Every identifier on a customer's records, one row per customer of {records}: a view the survived view
-- (survivorship_sql's carry) is driven by, so the profiles need no DISTINCT of the customers and no join of these.
CREATE OR REPLACE TEMP VIEW _golden_customer_identifiers AS
WITH gathered AS (
    -- Each list gathers only the non-NULL values (most records carry no loyalty card, CRM id, web user or
    -- cookies): at 1M records 2.3 CPU s against 3.6 for list() of every value, NULLs then dropped by
    -- list_distinct. A customer without any value gets [] (the coalesce). One list sorted per customer
    -- costs less than array_agg(DISTINCT ... ORDER BY ...), which keeps a sorted set per group.
    SELECT customer_id,
           list(email) FILTER (WHERE email IS NOT NULL) AS emails,
           list(phone) FILTER (WHERE phone IS NOT NULL) AS phones,
           list(loyalty_card_id) FILTER (WHERE loyalty_card_id IS NOT NULL) AS loyalty_card_ids,
           list(crm_customer_id) FILTER (WHERE crm_customer_id IS NOT NULL) AS crm_customer_ids,
           list(web_user_id) FILTER (WHERE web_user_id IS NOT NULL) AS web_user_ids,
           coalesce(list_sort(list_distinct(flatten(list(cookies) FILTER (WHERE cookies IS NOT NULL)))), []) AS cookies,
           -- Sources: one bit per source (its position in temp._golden_record_sources), the list made after from the
           -- bits set, in that list's order: the same sorted distinct list as list_sort(list_distinct(list(source))) without
           -- a list of every record's source per customer (at 1M records this aggregate 1.18-1.21 CPU s against 1.44-1.56).
           bit_or(1::UBIGINT << (list_position((SELECT sources FROM temp._golden_record_sources), source) - 1)) AS source_mask,
           list(source) FILTER (WHERE (SELECT sources FROM temp._golden_record_sources) IS NULL) AS all_sources,
           count(*) AS record_count
    FROM {records}
    GROUP BY customer_id
)
-- A list of one value (most customers' email, phone, card, CRM id and web user) is already distinct
-- and sorted, so only longer lists are made distinct and sorted (at 1M records -0.1 CPU s). Not the
-- cookies: one record's cookie list may hold duplicates or NULLs.
SELECT customer_id,
       CASE WHEN len(emails) > 1 THEN list_sort(list_distinct(emails)) ELSE coalesce(emails, []) END AS emails,
       CASE WHEN len(phones) > 1 THEN list_sort(list_distinct(phones)) ELSE coalesce(phones, []) END AS phones,
       CASE WHEN len(loyalty_card_ids) > 1 THEN list_sort(list_distinct(loyalty_card_ids)) ELSE coalesce(loyalty_card_ids, []) END AS loyalty_card_ids,
       CASE WHEN len(crm_customer_ids) > 1 THEN list_sort(list_distinct(crm_customer_ids)) ELSE coalesce(crm_customer_ids, []) END AS crm_customer_ids,
       CASE WHEN len(web_user_ids) > 1 THEN list_sort(list_distinct(web_user_ids)) ELSE coalesce(web_user_ids, []) END AS web_user_ids,
       cookies,
       CASE WHEN (SELECT sources FROM temp._golden_record_sources) IS NULL THEN list_sort(list_distinct(all_sources))
            ELSE list_filter((SELECT sources FROM temp._golden_record_sources),
                             lambda s, i: ((source_mask >> (i - 1)) & 1) = 1) END AS sources,
       record_count
FROM gathered
