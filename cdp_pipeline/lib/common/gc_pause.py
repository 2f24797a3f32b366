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


@contextmanager
def heap_frozen() -> Iterator[None]:
    """The objects alive when the block starts are left out of the cyclic collector's passes
    until it ends (``gc.freeze``), and given back to it after (``gc.unfreeze``), also on an
    error. For one step of a long-lived process whose own work makes the collector run full
    passes: each pass walks every object of the process, most of them not the step's. A heap
    some caller froze before is left frozen (``gc.unfreeze`` would give back its objects too)."""
    outer = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not outer:
            gc.unfreeze()
