-- Finds a newer delivery of the same GA4 events day already in raw (then this file is superseded): a daily export outranks an intraday snapshot; between equals the later landing day wins; files of one landing day are shards of one delivery.
SELECT _file, _landing_date
FROM raw.web_events
WHERE events_day = $events_day
  AND (CASE WHEN regexp_matches(lower(_file), 'events_intraday_[0-9]{8}') THEN 0 ELSE 1 END, _landing_date)
      > (CASE WHEN $intraday THEN 0 ELSE 1 END, CAST($landing_date AS DATE))
LIMIT 1
