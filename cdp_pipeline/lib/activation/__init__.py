"""Activation: destinations a user configures, the consent gate, hashing for ad platforms,
formula-safe CSV writing, and full + delta export files with a manifest."""
