-- Definitions are replaced wholesale each run: the YAML is the truth.
DELETE FROM segments.definitions
