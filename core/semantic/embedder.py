"""What embedding texts means to the rest of Marquee: the settings, the interface, the error.

The client itself (``core.semantic.openai_embedder``) imports the openai SDK,
which only the processes that embed pay for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class EmbeddingError(Exception):
    """The endpoint could not embed; the message is safe to log and show to an admin."""


@dataclass(frozen=True)
class EmbeddingConfig:
    base_url: str
    model: str
    dimension: int
    api_key: str | None = None
    timeout_seconds: float = 60.0
    batch_size: int = 64


class Embedder(Protocol):
    model: str
    dimension: int

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order, each of ``dimension`` numbers."""
        ...
