-- Count golden.customer_timeline rows per channel for the materialisation's metadata.
SELECT channel, count(*) AS rows FROM golden.customer_timeline GROUP BY channel ORDER BY channel
