-- Summarise the consent ledger for the asset's metadata: identifiers and blocked ones per channel and deciding reason.
SELECT channel, count(*) AS identifiers, count(*) FILTER (WHERE blocked) AS blocked, reason
FROM golden.identifier_consent
GROUP BY channel, reason
ORDER BY channel, reason
