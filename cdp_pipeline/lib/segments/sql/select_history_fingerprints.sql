-- The history check's fast figures: the number of current members and of open stays, the exact (HUGEINT) sums of the 64-bit
-- hashes of their (segment, customer_id), the open stays' distinct hashes, the rows with a NULL, and the stays that end before
-- they begin. Equal counts and sums, distinct hashes for every open stay, no NULL and no stay ending early mean every member has
-- exactly one open stay and every open stay is a member: select_history_mismatches.sql would find nothing (history_mismatches
-- runs it only when these figures say otherwise).
SELECT m.n AS members, m.h AS members_hash_sum, m.nulls AS members_nulls,
       o.n AS open_stays, o.h AS open_stays_hash_sum, o.distinct_hashes AS open_stays_distinct_hashes,
       o.nulls AS open_stays_nulls,
       (SELECT count(*) FROM segments.history WHERE exited_at < entered_at) AS stays_ending_before_they_begin
FROM (SELECT count(*) AS n, coalesce(sum(hash(segment, customer_id)), 0) AS h,
             count(*) FILTER (WHERE segment IS NULL OR customer_id IS NULL) AS nulls
      FROM segments.membership) AS m,
     (SELECT count(*) AS n, coalesce(sum(hash(segment, customer_id)), 0) AS h,
             count(DISTINCT hash(segment, customer_id)) AS distinct_hashes,
             count(*) FILTER (WHERE segment IS NULL OR customer_id IS NULL) AS nulls
      FROM segments.history WHERE exited_at IS NULL) AS o
