"""A running webhook app on a real database, with one secret per source."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.http.server import WebhookConfig, build_app

PAYLOADS = Path(__file__).parent.parent / "media" / "payloads"
SECRETS = {source: f"{source}-secret" for source in
           ("plex", "jellyfin", "tautulli", "overseerr", "jellyseerr", "radarr", "sonarr")}  # fmt: skip
MAX_BODY = 64 * 1024


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


@pytest.fixture
async def client(db_pool: asyncpg.Pool) -> AsyncIterator[TestClient]:
    app = build_app(db_pool, WebhookConfig(secrets=SECRETS, max_body_bytes=MAX_BODY))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
