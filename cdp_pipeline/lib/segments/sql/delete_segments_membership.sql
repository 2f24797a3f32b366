-- Membership is replaced as a whole inside the run's transaction.
DELETE FROM segments.membership
