"""The cyclic collector is paused (or the heap frozen) for the block and left as it was found, even on an error."""

import gc

import pytest

from cdp_pipeline.lib.common.gc_pause import cyclic_gc_paused, heap_frozen


@pytest.fixture
def collector_state():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_inside_and_resumed_after_even_on_an_error(collector_state):
    gc.enable()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), cyclic_gc_paused():
        raise ValueError("the block failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_state):
    gc.disable()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


@pytest.fixture
def unfrozen_heap():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_objects_alive_before_the_block_are_frozen_inside_and_given_back_after_even_on_an_error(unfrozen_heap):
    before = [[i] for i in range(1000)]  # lists: objects the collector tracks
    assert gc.get_freeze_count() == 0
    with heap_frozen():
        frozen = gc.get_freeze_count()
        assert frozen >= len(before)
        made_inside = [[i] for i in range(1000)]
        assert gc.get_freeze_count() == frozen  # the block's own objects stay collectable
        assert len(made_inside) == len(before)
    assert gc.get_freeze_count() == 0
    with pytest.raises(ValueError), heap_frozen():
        assert gc.get_freeze_count() >= len(before)
        raise ValueError("the block failed")
    assert gc.get_freeze_count() == 0


def test_a_heap_frozen_before_stays_frozen(unfrozen_heap):
    kept = [[i] for i in range(1000)]
    gc.freeze()
    frozen = gc.get_freeze_count()
    assert frozen >= len(kept)
    with heap_frozen():
        assert gc.get_freeze_count() >= frozen
    assert gc.get_freeze_count() >= frozen
