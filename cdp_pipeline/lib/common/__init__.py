"""What every layer shares: the build connection and transactions, the SQL runner,
table comments, previews, progress, run state and the code fingerprint."""
