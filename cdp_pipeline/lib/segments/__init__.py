"""Segments: marketer-written definitions, a guard that keeps their SQL harmless, a sandbox
that evaluates them, and the membership history kept across runs."""
