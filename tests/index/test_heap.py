"""A large loaded index is frozen out of the garbage collector's full scans; a replaced one is still freed."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

import index.engine
from bot.wiring import open_engine
from index.embedder import HashEmbedder
from tests.helpers import DEMO, settings_for


def scanned(obj: object) -> bool:
    """Whether the collector's generations (not the frozen permanent one) hold `obj`."""
    return any(o is obj for o in gc.get_objects())


@pytest.fixture
def thawed():  # type: ignore[no-untyped-def]
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_small_indexes_are_left_to_the_collector(tmp_path: Path, thawed: None) -> None:
    engine = open_engine(settings_for(tmp_path), embedder=HashEmbedder())
    engine.ingest([DEMO])
    assert gc.get_freeze_count() == 0
    assert engine._state is not None and scanned(engine._state.meta)


def test_a_large_index_is_frozen_and_a_replaced_one_freed(tmp_path: Path, thawed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index.engine, "SETTLE_AT", 1)  # the demo corpus counts as large
    engine = open_engine(settings_for(tmp_path), embedder=HashEmbedder())
    engine.ingest([DEMO])
    first = engine._state
    assert first is not None and gc.get_freeze_count() > 0
    assert not scanned(first.meta) and not scanned(first.table)
    gone = weakref.ref(first)
    del first
    engine.reindex()
    assert gone() is None  # the old state is not kept alive by the freeze
    assert engine._state is not None and not scanned(engine._state.meta)
    assert not engine.ask("What did the Kremlin demand?").abstained  # answers as before

    reopened = open_engine(settings_for(tmp_path), embedder=HashEmbedder())  # loading a live index freezes it too
    assert reopened._state is not None and not scanned(reopened._state.meta)
