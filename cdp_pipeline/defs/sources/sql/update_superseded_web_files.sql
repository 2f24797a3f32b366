-- Marks in the ledger the older deliveries of a GA4 events day that a newer delivery replaces.
UPDATE audit.files
SET status = 'superseded',
    message = 'events day ' || $events_day || ' replaced by ' || $file
WHERE source = 'web'
  AND status = 'loaded'
  AND file IN (
      SELECT DISTINCT _file
      FROM raw.web_events
      WHERE events_day = $events_day
        AND (_landing_date < CAST($landing_date AS DATE) OR (_landing_date = CAST($landing_date AS DATE) AND _file < $file))
  )
