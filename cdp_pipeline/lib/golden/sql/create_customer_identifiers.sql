-- Every identifier on a customer's records, one row per customer of {records}: a view the survived view
-- (survivorship_sql's carry) is driven by, so the profiles need no DISTINCT of the customers and no join of these.
-- Each list is the customer's distinct non-NULL values, sorted ([] without any).
CREATE OR REPLACE TEMP VIEW _golden_customer_identifiers AS
WITH firsts AS MATERIALIZED (
    -- Most customers carry at most one distinct value of each identifier (at 1M records 18,099 of 290,391 carry
    -- two or more of any, and 1 customer two cookie lists): the smallest and largest value tell, and when they are
    -- equal the list is that value, with no list gathered. Lists are gathered below only for the other customers (at
    -- 1M records this view 1.14-1.19 CPU s against 1.55-1.67 with a list of every identifier of every customer).
    SELECT customer_id,
           min(email) AS email_min, max(email) AS email_max,
           min(phone) AS phone_min, max(phone) AS phone_max,
           min(loyalty_card_id) AS loyalty_card_min, max(loyalty_card_id) AS loyalty_card_max,
           min(crm_customer_id) AS crm_customer_min, max(crm_customer_id) AS crm_customer_max,
           min(web_user_id) AS web_user_min, max(web_user_id) AS web_user_max,
           count(cookies) AS cookie_lists, max(cookies) AS cookies_max,
           -- Sources: one bit per source (its position in temp._golden_record_sources), the list made after from the
           -- bits set, in that list's order: the same sorted distinct list as list_sort(list_distinct(list(source))) without
           -- a list of every record's source per customer (at 1M records this aggregate 1.18-1.21 CPU s against 1.44-1.56).
           bit_or(1::UBIGINT << (list_position((SELECT sources FROM temp._golden_record_sources), source) - 1)) AS source_mask,
           list(source) FILTER (WHERE (SELECT sources FROM temp._golden_record_sources) IS NULL) AS all_sources,
           count(*) AS record_count
    FROM {records}
    GROUP BY customer_id
),
gathered AS (
    -- The lists of the customers with two distinct values of an identifier, or two cookie lists. Each gathers only
    -- the non-NULL values; one list sorted per customer costs less than array_agg(DISTINCT ... ORDER BY ...).
    SELECT customer_id,
           list(email) FILTER (WHERE email IS NOT NULL) AS emails,
           list(phone) FILTER (WHERE phone IS NOT NULL) AS phones,
           list(loyalty_card_id) FILTER (WHERE loyalty_card_id IS NOT NULL) AS loyalty_card_ids,
           list(crm_customer_id) FILTER (WHERE crm_customer_id IS NOT NULL) AS crm_customer_ids,
           list(web_user_id) FILTER (WHERE web_user_id IS NOT NULL) AS web_user_ids,
           flatten(list(cookies) FILTER (WHERE cookies IS NOT NULL)) AS cookies
    FROM {records}
    SEMI JOIN (SELECT customer_id FROM firsts
               WHERE email_min <> email_max OR phone_min <> phone_max OR loyalty_card_min <> loyalty_card_max
                  OR crm_customer_min <> crm_customer_max OR web_user_min <> web_user_max OR cookie_lists > 1)
         USING (customer_id)
    GROUP BY customer_id
)
-- Not the cookies of one list: a record's cookie list may hold duplicates or NULLs, so it is made distinct and sorted.
SELECT f.customer_id,
       CASE WHEN f.email_min IS NULL THEN [] WHEN f.email_min = f.email_max THEN [f.email_min]
            ELSE list_sort(list_distinct(g.emails)) END AS emails,
       CASE WHEN f.phone_min IS NULL THEN [] WHEN f.phone_min = f.phone_max THEN [f.phone_min]
            ELSE list_sort(list_distinct(g.phones)) END AS phones,
       CASE WHEN f.loyalty_card_min IS NULL THEN [] WHEN f.loyalty_card_min = f.loyalty_card_max THEN [f.loyalty_card_min]
            ELSE list_sort(list_distinct(g.loyalty_card_ids)) END AS loyalty_card_ids,
       CASE WHEN f.crm_customer_min IS NULL THEN [] WHEN f.crm_customer_min = f.crm_customer_max THEN [f.crm_customer_min]
            ELSE list_sort(list_distinct(g.crm_customer_ids)) END AS crm_customer_ids,
       CASE WHEN f.web_user_min IS NULL THEN [] WHEN f.web_user_min = f.web_user_max THEN [f.web_user_min]
            ELSE list_sort(list_distinct(g.web_user_ids)) END AS web_user_ids,
       CASE WHEN f.cookie_lists = 0 THEN []
            WHEN f.cookie_lists = 1 THEN list_sort(list_distinct(f.cookies_max))
            ELSE list_sort(list_distinct(g.cookies)) END AS cookies,
       CASE WHEN (SELECT sources FROM temp._golden_record_sources) IS NULL THEN list_sort(list_distinct(f.all_sources))
            ELSE list_filter((SELECT sources FROM temp._golden_record_sources),
                             lambda s, i: ((f.source_mask >> (i - 1)) & 1) = 1) END AS sources,
       f.record_count
FROM firsts AS f
LEFT JOIN gathered AS g USING (customer_id)
