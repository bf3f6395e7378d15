"""One real Synapse per test worker, shared by every Matrix test module that worker runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .synapse_server import SynapseServer, running_synapse


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    with running_synapse(tmp_path_factory.mktemp("synapse")) as server:
        yield server
