-- Removes the rows of older deliveries of a GA4 events day that a newer delivery replaces.
DELETE FROM raw.web_events
WHERE events_day = $events_day
  AND (_landing_date < CAST($landing_date AS DATE) OR (_landing_date = CAST($landing_date AS DATE) AND _file < $file))
