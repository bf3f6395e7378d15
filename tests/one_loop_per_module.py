"""One event loop for every test of a module, so a module-scoped async fixture (a browser,
a server's client) can serve all its tests.

pytest-asyncio runs each test, and each function-scoped async fixture (``db_pool``...),
in the loop of its "function-scoped runner". A module that imports
``_function_scoped_runner`` from here replaces that runner with the module's, so its
tests, the shared fixtures of ``conftest.py`` and its own module-scoped fixtures
(declared with ``loop_scope="module"``) all run in one loop. Tests stay isolated:
each still gets its own database and fixtures; only the loop is shared.
"""

from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
def _function_scoped_runner(_module_scoped_runner: asyncio.Runner) -> asyncio.Runner:
    return _module_scoped_runner
