"""Pausing Python's cyclic garbage collector around work that allocates many small objects."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Work that allocates millions of small objects freed by reference counting (no cycles)
    still triggers the cyclic collector's full passes over the whole heap again and again; they
    find nothing. Paused for the block and resumed after (if it was on). Objects allocated while
    it is paused still count towards its next pass: free them before the block ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
