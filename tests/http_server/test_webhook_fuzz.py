"""Whatever arrives, the webhook endpoint answers 2xx or 4xx: never a 5xx, never a traceback."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.http.server import WebhookConfig, build_app, start_http_server
from bot.database import with_database
from core.db import create_pool

from .conftest import SECRETS, payload

SOURCES = [*SECRETS, "unknown"]
CONTENT_TYPES = [
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=b0undary",
    "application/xml",
    "",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
# Real payloads with fields knocked out or replaced: closer to the parsers' edges than pure noise.
SAMPLES = [
    payload(name)
    for name in (
        "jellyfin-webhook-playback-stop.json",
        "tautulli-webhook-watched.json",
        "overseerr-webhook-media-approved.json",
        "radarr-webhook-movie-file-delete.json",
        "sonarr-webhook-episode-file-delete.json",
        "plex-webhook-media-play.json",
    )
]


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    sample: dict[str, Any] = dict(draw(st.sampled_from(SAMPLES)))
    for key in draw(st.lists(st.sampled_from(sorted(sample)), max_size=3)):
        if draw(st.booleans()):
            sample.pop(key, None)
        else:
            sample[key] = draw(json_values)
    return json.dumps(sample).encode()


def as_multipart(body: bytes) -> bytes:
    return (
        b'--b0undary\r\nContent-Disposition: form-data; name="payload"\r\nContent-Type: application/json\r\n\r\n'
        + body
        + b"\r\n--b0undary--\r\n"
    )


bodies = st.one_of(
    st.binary(max_size=512),
    json_values.map(lambda value: json.dumps(value).encode()),
    mutated_samples(),
    mutated_samples().map(as_multipart),
)


class ServerThread:
    """The app on its own event loop in a thread, so hypothesis can drive it with plain blocking calls."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _start(self) -> None:
        self.pool = await create_pool(self.dsn, max_size=4)
        self.server = await start_http_server(
            build_app(self.pool, WebhookConfig(secrets=SECRETS, max_body_bytes=4096)), "127.0.0.1", 0
        )
        self.port = self.server.port

    async def _stop(self) -> None:
        await self.server.stop()
        await self.pool.close()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def server(postgres_admin_dsn: str, template_database: str) -> Iterator[ServerThread]:
    import asyncpg

    name = f"marquee_fuzz_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(postgres_admin_dsn)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    try:
        with ServerThread(with_database(postgres_admin_dsn, name)) as running:
            yield running
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def post(port: int, source: str, body: bytes, content_type: str, token: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/{source}?token={token}", data=body, method="POST"
    )
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    source=st.sampled_from(SOURCES),
    body=bodies,
    content_type=st.sampled_from(CONTENT_TYPES),
    right_token=st.booleans(),
)
def test_random_bodies_only_get_2xx_or_4xx(
    server: ServerThread, source: str, body: bytes, content_type: str, right_token: bool
) -> None:
    token = SECRETS.get(source, "x") if right_token else "wrong"
    status = post(server.port, source, body, content_type, token)
    assert 200 <= status < 300 or 400 <= status < 500, status
