"""The service tests run as a server's code does, whatever ran before them in this process."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.conftest import PYTEST_MAIN


@pytest.fixture(scope="module", autouse=True)
def _main_is_pytest() -> Iterator[None]:
    """Undo an earlier AppTest's page left installed as __main__: the engine would take it for a page script.

    Module scope, so it is in place before the module-scoped cluster fixtures start their workers.
    """
    before = sys.modules.get("__main__")
    if PYTEST_MAIN is not None:
        sys.modules["__main__"] = PYTEST_MAIN
    yield
    if before is not None:
        sys.modules["__main__"] = before
