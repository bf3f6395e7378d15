"""The HTTP side shared by the media-service clients: timeouts, retries and clear errors.

Only transient failures are retried (connection errors, timeouts, 5xx, 429);
a refused token or an answer that is not what the service documents fails at
once with a message naming the service, never the token.

Errors are classified into short messages ("Tautulli refused the API key",
"Tautulli answered something that is not JSON", "too many redirects", "could not
connect", "timed out"): the text of aiohttp's exceptions carries the request URL,
and with it a key sent as a query parameter (Tautulli's ``apikey``), so it is
never copied into an error.
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

# A service's own way of saying "wrong key" on a status that is not 401/403 (Tautulli: a 400
# with ``{"response": {"result": "error", "message": "Invalid apikey"}}``): True means refused.
RefusalCheck = Callable[[int, bytes], bool]


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
        label: str | None = None,
        credential: str = "API key",
        is_refusal: RefusalCheck | None = None,
        key_setting: str | None = None,
    ) -> None:
        self.service = service
        # How people write the service's name, what its secret is called, and the setting that
        # holds it: a refused key names the setting to fix.
        self.label = label or service.capitalize()
        self.credential = credential
        self.key_setting = key_setting
        self._is_refusal = is_refusal
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
                    if response.status in (401, 403):
                        raise SyncError(self._refused_on(response.status, path))
                    if response.status in RETRYABLE_STATUS and attempt < self._retries:
                        raise _Transient(f"HTTP {response.status}")
                    if response.status >= 400:
                        body = await response.content.read(65536)
                        if self._is_refusal is not None and self._is_refusal(response.status, body):
                            raise SyncError(self._refused_on(response.status, path))
                        raise SyncError(f"{self.label} answered HTTP {response.status} on {path}")
                    return await response.read()
            except aiohttp.TooManyRedirects:
                raise SyncError(f"{self.label} on {path}: too many redirects") from None
            except (
                _Transient,
                aiohttp.ClientConnectionError,
                aiohttp.ClientPayloadError,
                TimeoutError,
            ) as exc:
                reason = _describe(exc)
                if attempt >= self._retries:
                    raise SyncError(f"{self.label} is unreachable on {path}: {reason}") from None
                attempt += 1
                log.info("%s %s: %s; retry %d of %d", self.label, path, reason, attempt, self._retries)
                await asyncio.sleep(self._retry_delay * 2 ** (attempt - 1))
            except aiohttp.ClientError as exc:
                # Any other client error (a bad redirect target, an invalid URL): its text names the URL.
                raise SyncError(f"{self.label} on {path}: request failed ({type(exc).__name__})") from None

    def _refused_on(self, status: int, path: str) -> str:
        # "Tautulli refused the API key (HTTP 400 on /api/v2); check MARQUEE_TAUTULLI_API_KEY"
        message = f"{self.label} refused the {self.credential} (HTTP {status} on {path})"
        return f"{message}; check {self.key_setting}" if self.key_setting else message

    def refused(self) -> str:
        fix = f"; check {self.key_setting}" if self.key_setting else ""
        return f"{self.label} refused the {self.credential}{fix}"

    async def get_model(
        self, path: str, adapter: TypeAdapter[ModelT], params: Mapping[str, Any] | None = None
    ) -> ModelT:
        return self.parse(path, adapter, await self.get_bytes(path, params))

    def parse(self, path: str, adapter: TypeAdapter[ModelT], body: bytes) -> ModelT:
        """Validate an answer of ``path`` against its model; a mismatch is a SyncError naming the field."""
        try:
            return adapter.validate_json(body)
        except ValidationError as exc:
            if exc.errors()[0]["type"] == "json_invalid":
                raise SyncError(f"{self.label} answered something that is not JSON on {path}") from None
            raise SyncError(
                f"{self.label} answered {path} with something unexpected ({first_validation_error(exc)})"
            ) from None


class _Transient(Exception):
    pass


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, _Transient):
        return str(exc)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the answer was cut off"
    return "could not connect"
