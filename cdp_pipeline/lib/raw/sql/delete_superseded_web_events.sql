-- Removes the rows of older deliveries of a GA4 events day that a newer delivery replaces (same ranking as select_later_events_day_delivery).
DELETE FROM raw.web_events
WHERE events_day = $events_day
  AND (CASE WHEN regexp_matches(lower(_file), 'events_intraday_[0-9]{8}') THEN 0 ELSE 1 END, _landing_date)
      < (CASE WHEN $intraday THEN 0 ELSE 1 END, CAST($landing_date AS DATE))
