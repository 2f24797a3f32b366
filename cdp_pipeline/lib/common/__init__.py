"""What every layer shares: the build connection and transactions, the SQL runner,
table comments, previews, progress, run state and the code fingerprint. The publish copy
itself is the publish layer's (lib/publish)."""
