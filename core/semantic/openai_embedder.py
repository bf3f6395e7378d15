"""Embedding texts through an OpenAI-compatible ``/v1/embeddings`` endpoint (Ollama, llama.cpp, vLLM, OpenAI).

The official ``openai`` SDK talks to it: it retries 429 and 5xx answers itself,
honouring ``retry-after``. What still fails becomes an ``EmbeddingError`` whose
message names the endpoint (never a key) and what to change.
"""

from __future__ import annotations

from collections.abc import Sequence

import openai

from core.engines.health import public_endpoint
from core.semantic.embedder import EmbeddingConfig, EmbeddingError


class OpenAIEmbedder:
    """An ``Embedder`` over the openai SDK; ``max_retries`` is the SDK's (429/5xx, with backoff)."""

    def __init__(self, config: EmbeddingConfig, *, max_retries: int = 3) -> None:
        self.model = config.model
        self.dimension = config.dimension
        self.endpoint = public_endpoint(config.base_url)
        self.tokens_used = 0
        self._client = openai.AsyncOpenAI(
            base_url=config.base_url,
            # local servers want no key, but the SDK insists on one; they ignore the placeholder
            api_key=config.api_key or "none",
            max_retries=max_retries,
            timeout=config.timeout_seconds,
        )

    async def close(self) -> None:
        await self._client.close()

    @property
    def closed(self) -> bool:
        return self._client.is_closed()

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        try:
            response = await self._client.embeddings.create(
                model=self.model, input=list(texts), encoding_format="float"
            )
        except openai.RateLimitError as exc:
            raise EmbeddingError(
                f"{self.endpoint} kept refusing with 429 (rate limited) after retries: {_message(exc)}"
            ) from None
        except openai.APIStatusError as exc:
            raise EmbeddingError(
                f"{self.endpoint} answered HTTP {exc.status_code} for model {self.model!r}: {_message(exc)}"
            ) from None
        except openai.APITimeoutError:
            raise EmbeddingError(f"{self.endpoint} did not answer in time") from None
        except openai.APIConnectionError:
            raise EmbeddingError(f"cannot reach the embeddings endpoint {self.endpoint}") from None
        if response.usage is not None:
            self.tokens_used += response.usage.total_tokens or response.usage.prompt_tokens or 0
        vectors = [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
        if len(vectors) != len(texts):
            raise EmbeddingError(f"{self.endpoint} returned {len(vectors)} vectors for {len(texts)} texts")
        for vector in vectors:
            if len(vector) != self.dimension:
                raise EmbeddingError(
                    f"model {self.model!r} returns {len(vector)}-dimensional vectors, but "
                    f"MARQUEE_EMBEDDINGS_DIMENSION is {self.dimension}: set it to {len(vector)}"
                )
        return vectors


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])[:300]
        if isinstance(error, str):
            return error[:300]
    return str(exc.message)[:300]
