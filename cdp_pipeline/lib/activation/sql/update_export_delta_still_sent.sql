-- Ad platforms (meta_audience, google_customer_match): a gone row that shares a hash with a row sent
-- tonight is not a removal. Their row key is the pair of hashes ('<email hash>|<phone hash>',
-- create_export_rows_ad_platform.sql), so a customer whose phone changed or lost its consent is a gone
-- pair and a new one; the platforms remove the people a removal file matches, not its rows, so sending
-- the old pair would take out a customer still in the audience (as exporter.write_export leaves it out).
UPDATE export_delta SET change = 'still_sent'
WHERE change = 'removed'
  AND ((split_part(row_key, '|', 1) <> ''
        AND split_part(row_key, '|', 1) IN (SELECT split_part(row_key, '|', 1) FROM export_delta
                                           WHERE current_values IS NOT NULL))
    OR (split_part(row_key, '|', 2) <> ''
        AND split_part(row_key, '|', 2) IN (SELECT split_part(row_key, '|', 2) FROM export_delta
                                           WHERE current_values IS NOT NULL)))
