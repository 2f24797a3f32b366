-- Segment names currently defined, to warn about destinations naming unknown ones.
SELECT segment FROM segments.definitions ORDER BY segment
