-- Finds a newer delivery of the same GA4 events day already in raw (then this file is superseded).
SELECT _file, _landing_date
FROM raw.web_events
WHERE events_day = $events_day
  AND (_landing_date > CAST($landing_date AS DATE) OR (_landing_date = CAST($landing_date AS DATE) AND _file > $file))
LIMIT 1
