"""Webhooks never 500 on bad input, and a flood of unauthenticated requests writes nothing.

Each attack is sent with the right secret (Overseerr, Tautulli and the others send it with
every delivery, so anyone who can edit a payload field can send any payload) except the flood,
which has none.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from http_server.conftest import MAX_BODY, SECRETS, payload

from adapters.http.server import WebhookConfig, build_app
from adapters.media.payload import MAX_JSON_DEPTH


@pytest.fixture
async def client(db_pool: asyncpg.Pool) -> AsyncIterator[TestClient]:
    """The webhook app with a secret for every source, as in tests/http_server."""
    app = build_app(db_pool, WebhookConfig(secrets=SECRETS, max_body_bytes=MAX_BODY))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def url(source: str, token: str | None = None) -> str:
    return f"/webhooks/{source}?token={SECRETS[source] if token is None else token}"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def nested_in(sample: dict[str, Any], levels: int) -> bytes:
    """A real payload with one more field holding ``levels`` nested arrays."""
    return json.dumps(sample)[:-1].encode() + f', "extra": {deep(levels)}}}'.encode()


def plex_form(body: bytes) -> FormData:
    form = FormData()
    form.add_field("payload", body.decode(), content_type="application/json")
    return form


async def rows(pool: asyncpg.Pool) -> list[tuple[str, str]]:
    return [(r["source"], r["status"]) for r in await pool.fetch("SELECT source, status FROM webhook_log")]


DEEP = 20_000  # far past Python's recursion limit, well under the body limit


@pytest.mark.parametrize(
    ("source", "sample", "content_type"),
    [
        ("tautulli", "tautulli-webhook-watched.json", "application/json"),
        ("overseerr", "overseerr-webhook-media-approved.json", "application/json"),
        ("jellyfin", "jellyfin-webhook-playback-stop.json", "text/plain"),
        ("radarr", "radarr-webhook-movie-file-delete.json", "application/json"),
        ("plex", "plex-webhook-media-play.json", None),
    ],
)
async def test_json_nested_too_deep_is_a_4xx_with_a_rejected_row(
    client: TestClient, db_pool: asyncpg.Pool, source: str, sample: str, content_type: str | None
) -> None:
    body = nested_in(payload(sample), DEEP)
    if content_type is None:
        response = await client.post(url(source), data=plex_form(body))
    else:
        response = await client.post(url(source), data=body, headers={"Content-Type": content_type})
    assert response.status == 400, await response.text()
    assert "nested" in (await response.json())["detail"]
    assert await rows(db_pool) == [(source, "rejected")]


async def test_reasonable_nesting_still_passes(client: TestClient, db_pool: asyncpg.Pool) -> None:
    body = nested_in(payload("tautulli-webhook-watched.json"), MAX_JSON_DEPTH - 2)
    response = await client.post(url("tautulli"), data=body, headers={"Content-Type": "application/json"})
    assert response.status == 200, await response.text()


@pytest.mark.parametrize("year", [2**40, -(2**40), 2**70, "99999999999999999999"])
async def test_a_year_out_of_range_is_a_4xx_with_a_rejected_row(
    client: TestClient, db_pool: asyncpg.Pool, year: Any
) -> None:
    body = payload("tautulli-webhook-watched.json")
    body["year"] = year
    response = await client.post(url("tautulli"), json=body)
    assert 400 <= response.status < 500, await response.text()
    assert await rows(db_pool) == [("tautulli", "rejected")]
    assert await db_pool.fetchval("SELECT count(*) FROM media_items") == 0


async def test_jellyfin_year_out_of_range_is_a_4xx(client: TestClient, db_pool: asyncpg.Pool) -> None:
    body = payload("jellyfin-webhook-item-added.json")
    body["Year"] = str(2**40)
    response = await client.post(
        url("jellyfin"), data=json.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert 400 <= response.status < 500, await response.text()
    assert await rows(db_pool) == [("jellyfin", "rejected")]


async def test_a_huge_body_is_a_413_with_a_rejected_row(client: TestClient, db_pool: asyncpg.Pool) -> None:
    response = await client.post(
        url("overseerr"),
        data=b'{"x": "' + b"a" * (4 * MAX_BODY) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413
    assert await rows(db_pool) == [("overseerr", "rejected")]


async def test_plex_multipart_with_many_parts_is_refused(client: TestClient, db_pool: asyncpg.Pool) -> None:
    form = FormData()
    form.add_field(
        "payload", json.dumps(payload("plex-webhook-media-play.json")), content_type="application/json"
    )
    for n in range(50):
        form.add_field(f"part{n}", "x")
    response = await client.post(url("plex"), data=form)
    assert response.status == 400, await response.text()
    assert await rows(db_pool) == [("plex", "rejected")]


async def test_an_unauthenticated_flood_writes_no_rows_and_is_counted(
    client: TestClient, db_pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="adapters.http.server")
    for n in range(40):
        response = await client.post(url("radarr", f"guess-{n}"), json={"eventType": "Test"})
        assert response.status == 401
    for _ in range(5):
        assert (await client.post("/webhooks/sonarr", json={})).status == 401  # no token at all
        assert (await client.post("/webhooks/emby?token=x", json={})).status == 404

    assert await db_pool.fetchval("SELECT count(*) FROM webhook_log") == 0
    assert await db_pool.fetchval("SELECT count(*) FROM api_logs") == 0
    metrics = await (await client.get("/metrics")).text()
    assert 'marquee_webhook_unauthenticated_total{source="radarr"} 40.0' in metrics
    assert 'marquee_webhook_unauthenticated_total{source="sonarr"} 5.0' in metrics
    assert 'marquee_webhook_unauthenticated_total{source="unknown"} 5.0' in metrics
    refusals = [r for r in caplog.records if "unauthenticated" in r.getMessage()]
    # At most one line a minute per source: the first of each source, the rest only counted.
    assert sorted(r.getMessage().split(" to ")[1].split()[0] for r in refusals) == [
        "radarr",
        "sonarr",
        "unknown",
    ]
    assert all("guess" not in r.getMessage() for r in refusals)


async def test_a_source_without_a_secret_is_counted_not_written(db_pool: asyncpg.Pool) -> None:
    app = build_app(db_pool, WebhookConfig(secrets={"plex": "p"}))
    async with TestClient(TestServer(app)) as other:
        for _ in range(3):
            response = await other.post("/webhooks/radarr?token=", json={})
            assert response.status == 403
        metrics = await (await other.get("/metrics")).text()
    assert await db_pool.fetchval("SELECT count(*) FROM webhook_log") == 0
    assert 'marquee_webhook_unauthenticated_total{source="radarr"} 3.0' in metrics
