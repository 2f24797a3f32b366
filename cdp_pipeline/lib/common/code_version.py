"""A fingerprint of the code that produced kept state, so a deployment that changes it
invalidates the state instead of mixing old and new results.

Incremental nights keep results between runs (staging rows of untouched keys, the identity
model, the identity graph). If the code that computes them changes, yesterday's rows are no
longer what today's code would produce, so the next night must rebuild them whole. Hashing
the source files catches every change, cosmetic ones included (they cost one full night).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=None)
def source_hash(*relative_paths: str) -> str:
    """SHA-256 (16 hex) of the given files and folders (``.py`` and ``.sql``) under the package."""
    h = hashlib.sha256()
    for rel in relative_paths:
        path = PACKAGE / rel
        files = sorted(p for p in path.rglob("*") if p.suffix in (".py", ".sql")) if path.is_dir() else [path]
        for f in files:
            h.update(f.relative_to(PACKAGE).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]
