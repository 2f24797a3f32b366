"""Identity resolution: which source records are the same person, with a persistent customer ID.

The pipeline (``resolve.resolve_identities``) runs, in order:

1. ``records``      number the identity records and list their identifiers;
2. ``junk_guard``   exclude flagged junk and identifiers shared by implausibly many records;
3. ``stitching``    deterministic edges on shared strong identifiers (a star per identifier);
4. ``splink_model`` probabilistic edges from an unsupervised Splink model;
5. ``review``       must-link / cannot-link decisions from the inbox;
6. ``graph``        connected components, then ``cardinality`` splits offending clusters;
7. ``persistent_ids`` carries customer IDs over from the previous run and logs merges/splits.

``explain`` and ``evaluate`` read the resulting tables.
"""

from cdp_pipeline.lib.identity.config import IdentityConfig, load_identity_config
from cdp_pipeline.lib.identity.evaluate import evaluate_against_truth, format_evaluation
from cdp_pipeline.lib.identity.explain import explain_customer, format_explanation
from cdp_pipeline.lib.identity.resolve import IdentityResult, resolve_identities

__all__ = [
    "IdentityConfig",
    "IdentityResult",
    "evaluate_against_truth",
    "explain_customer",
    "format_evaluation",
    "format_explanation",
    "load_identity_config",
    "resolve_identities",
]
