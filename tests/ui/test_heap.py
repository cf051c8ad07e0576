"""Server start: the pages' modules are imported and frozen out of the collector's full passes."""

from __future__ import annotations

import gc
import sys

from ui.server.heap import freeze_startup_heap


def test_freezing_imports_the_packages_and_leaves_full_passes_little_to_visit():
    cli = sys.modules.pop("model.__main__", None)  # an earlier CLI test may have imported it on purpose
    before = len(gc.get_objects())  # what a full collection (Streamlit's after every script run) visits
    try:
        frozen = freeze_startup_heap(("model",))  # model has a __main__, the CLI: imported, it would run
        # Frozen objects that die later leave the count (other threads of the test process free some): at most.
        assert 0 < gc.get_freeze_count() <= frozen
        assert len(gc.get_objects()) < before / 10
        assert "model.subspace" in sys.modules and "model.fast.batches" in sys.modules
        assert "model.__main__" not in sys.modules
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
        if cli is not None:
            sys.modules["model.__main__"] = cli
