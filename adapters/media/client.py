"""The HTTP side shared by the media-service clients: timeouts, retries and clear errors.

Only transient failures are retried (connection errors, timeouts, 5xx, 429);
a refused token or an answer that is not what the service documents fails at
once with a message naming the service, never the token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import aiohttp
from pydantic import TypeAdapter, ValidationError

from adapters.media.payload import first_validation_error
from core.sync.jobs import SyncError

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT")

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


def refused_by_status(status: int, body: bytes) -> bool:
    """Most services refuse a key with 401 or 403."""
    return status in (401, 403)


class ServiceClient:
    """One service's base URL, auth headers and retry policy over a shared aiohttp session."""

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        timeout_seconds: float = 30.0,
        retries: int = 2,
        retry_delay_seconds: float = 1.0,
        key_setting: str | None = None,
        refusal: Callable[[int, bytes], bool] = refused_by_status,
    ) -> None:
        self.service = service
        # The setting a refused key sends the admin to, and how this service says "wrong key".
        self._key_setting = key_setting
        self._refusal = refusal
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers or {})
        # Query parameters sent on every request (Tautulli's apikey); never logged.
        self._params = dict(params or {})
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._retries = retries
        self._retry_delay = retry_delay_seconds
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ServiceClient:
        self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get_bytes(self, path: str, params: Mapping[str, Any] | None = None) -> bytes:
        """GET ``path`` and return the body of a 2xx answer, retrying transient failures."""
        if self._session is None:
            raise RuntimeError("use the client inside 'async with'")
        url = f"{self.base_url}{path}"
        query = {**self._params, **{k: str(v) for k, v in (params or {}).items()}}
        attempt = 0
        while True:
            try:
                async with self._session.get(url, params=query) as response:
                    if response.status >= 400 and self._refusal(response.status, await response.read()):
                        raise SyncError(self._refused_message(response.status, path))
                    if response.status in RETRYABLE_STATUS and attempt < self._retries:
                        raise _Transient(f"HTTP {response.status}")
                    if response.status >= 400:
                        raise SyncError(f"{self.service} answered HTTP {response.status} on {path}")
                    return await response.read()
            except (
                _Transient,
                aiohttp.ClientConnectionError,
                aiohttp.ClientPayloadError,
                TimeoutError,
            ) as exc:
                reason = _describe(exc)
                if attempt >= self._retries:
                    raise SyncError(f"{self.service} is unreachable on {path}: {reason}") from None
                attempt += 1
                log.info("%s %s: %s; retry %d of %d", self.service, path, reason, attempt, self._retries)
                await asyncio.sleep(self._retry_delay * 2 ** (attempt - 1))

    def _refused_message(self, status: int, path: str) -> str:
        fix = f"check {self._key_setting}" if self._key_setting else "check the API key or token"
        return f"{self.service} refused the credentials (HTTP {status} on {path}); {fix}"

    async def get_model(
        self, path: str, adapter: TypeAdapter[ModelT], params: Mapping[str, Any] | None = None
    ) -> ModelT:
        return self.parse(path, adapter, await self.get_bytes(path, params))

    def parse(self, path: str, adapter: TypeAdapter[ModelT], body: bytes) -> ModelT:
        """Validate an answer of ``path`` against its model; a mismatch is a SyncError naming the field."""
        try:
            return adapter.validate_json(body)
        except ValidationError as exc:
            raise SyncError(
                f"{self.service} answered {path} with something unexpected ({first_validation_error(exc)})"
            ) from None


class _Transient(Exception):
    pass


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    # aiohttp's connection errors name host and port, never the query string.
    return str(exc) or type(exc).__name__
