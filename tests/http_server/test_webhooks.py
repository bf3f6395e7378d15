"""Webhook deliveries from every source: what each writes, and every way a delivery is refused."""

from __future__ import annotations

import copy
import json
from typing import Any

import asyncpg
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from .conftest import MAX_BODY, SECRETS, payload


def url(source: str, token: str | None = None) -> str:
    return f"/webhooks/{source}?token={token if token is not None else SECRETS.get(source, 'x')}"


async def post_json(
    client: TestClient, source: str, body: Any, content_type: str = "application/json"
) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.post(url(source), data=data, headers={"Content-Type": content_type})


def plex_form(body: Any) -> FormData:
    form = FormData()
    form.add_field("payload", json.dumps(body), content_type="application/json")
    form.add_field("thumb", b"\xff\xd8\xff\xe0 jpeg bytes", filename="thumb.jpg", content_type="image/jpeg")
    return form


async def webhook_rows(pool: asyncpg.Pool) -> list[tuple[str, str, str | None]]:
    rows = await pool.fetch("SELECT source, status, event_type FROM webhook_log ORDER BY received_at")
    return [(r["source"], r["status"], r["event_type"]) for r in rows]


def plex_library_new() -> dict[str, Any]:
    body = payload("plex-webhook-media-play.json")
    body["event"] = "library.new"
    body["Metadata"].update(
        {"type": "movie", "title": "Arrival", "year": 2016, "ratingKey": "5000", "librarySectionType": "movie",
         "Guid": [{"id": "tmdb://329865"}], "duration": 6960000}
    )  # fmt: skip
    return body


# --- each source ---------------------------------------------------------------


async def test_plex_multipart_library_new_adds_the_item(client: TestClient, db_pool: asyncpg.Pool) -> None:
    response = await client.post(url("plex"), data=plex_form(plex_library_new()))
    assert response.status == 200, await response.text()
    assert (await response.json())["status"] == "processed"
    item = await db_pool.fetchrow("SELECT * FROM media_items WHERE title = 'Arrival'")
    assert item["media_type"] == "movie" and item["duration_seconds"] == 6960
    assert await webhook_rows(db_pool) == [("plex", "processed", "library.new")]


async def test_plex_media_rate_records_the_rating(client: TestClient, db_pool: asyncpg.Pool) -> None:
    body = plex_library_new()
    body["event"] = "media.rate"
    body["Metadata"]["userRating"] = 9
    response = await client.post(url("plex"), data=plex_form(body))
    assert response.status == 200
    rating = await db_pool.fetchval(
        "SELECT s.rating FROM user_stats s JOIN users u ON u.id = s.user_id WHERE u.username = 'elan'"
    )
    assert float(rating) == 9.0


async def test_plex_sample_play_event_is_logged_as_ignored(client: TestClient, db_pool: asyncpg.Pool) -> None:
    response = await client.post(url("plex"), data=plex_form(payload("plex-webhook-media-play.json")))
    assert response.status == 200 and (await response.json())["status"] == "ignored"
    assert await webhook_rows(db_pool) == [("plex", "ignored", "media.play")]
    assert await db_pool.fetchval("SELECT count(*) FROM media_items") == 0


async def test_jellyfin_playback_stop_sent_as_text_plain_records_a_play(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    response = await post_json(
        client, "jellyfin", payload("jellyfin-webhook-playback-stop.json"), "text/plain"
    )
    assert response.status == 200, await response.text()
    play = await db_pool.fetchrow(
        "SELECT w.*, m.title, m.season_number, p.title AS show, u.username FROM watch_history w "
        "JOIN media_items m ON m.id = w.media_item_id JOIN media_items p ON p.id = m.parent_id "
        "JOIN users u ON u.id = w.user_id"
    )
    assert (play["title"], play["show"], play["season_number"], play["username"]) == (
        "Pilot",
        "The 100",
        1,
        "alice",
    )
    assert play["watched_seconds"] == 2540 and float(play["percent_complete"]) == 100.0
    assert play["service_watched"] is True  # PlayedToCompletion: Jellyfin's own verdict
    assert await db_pool.fetchval("SELECT play_count FROM user_stats") == 1


async def test_jellyfin_ids_written_with_dashes_are_the_synced_user_and_items(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    # The plugin writes Guids as 8-4-4-4-12; the API (and so the sync) as 32 hex digits.
    async with db_pool.acquire() as conn:
        alice = await conn.fetchval("INSERT INTO users (username) VALUES ('Alice A.') RETURNING id")
        await conn.execute(
            "INSERT INTO user_external_ids (service, external_id, user_id) "
            "VALUES ('jellyfin', '5f4a3c2e9b1d4e6f8a7b6c5d4e3f2a1b', $1)",
            alice,
        )
    body = payload("jellyfin-webhook-playback-stop.json")
    for field in ("UserId", "ItemId", "SeriesId"):
        hex_id = body[field]
        body[field] = f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}".upper()
    assert (await post_json(client, "jellyfin", body, "text/plain")).status == 200
    assert await db_pool.fetchval("SELECT user_id FROM watch_history") == alice
    assert await db_pool.fetchval("SELECT count(*) FROM users") == 1
    assert (
        await db_pool.fetchval(
            "SELECT external_id FROM media_external_ids WHERE service = 'jellyfin' ORDER BY 1 LIMIT 1"
        )
        == "0f9e8d7c6b5a49382716a5b4c3d2e1f0"
    )


async def test_jellyfin_item_added_adds_the_movie(client: TestClient, db_pool: asyncpg.Pool) -> None:
    response = await post_json(client, "jellyfin", payload("jellyfin-webhook-item-added.json"), "text/plain")
    assert response.status == 200
    assert (
        await db_pool.fetchval(
            "SELECT m.title FROM media_items m JOIN media_external_ids e ON e.media_item_id = m.id "
            "WHERE e.service = 'imdb' AND e.external_id = 'tt2543164'"
        )
        == "Arrival"
    )


async def test_tautulli_watched_records_the_play_in_plex_ids(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    response = await post_json(client, "tautulli", payload("tautulli-webhook-watched.json"))
    assert response.status == 200, await response.text()
    play = await db_pool.fetchrow("SELECT * FROM watch_history")
    assert play["source"] == "tautulli" and play["source_id"] == "133788:153037:1732137000"
    assert play["watched_seconds"] == 2998 and float(play["percent_complete"]) == 96
    assert play["service_watched"] is True  # Tautulli sends "watched" once its own rule says so
    assert (
        await db_pool.fetchval(
            "SELECT count(*) FROM user_external_ids WHERE external_id = '133788' AND service IN ('plex', 'tautulli')"
        )
        == 2
    )


async def _synced_request(db_pool: asyncpg.Pool, source: str) -> asyncpg.Record:
    """Request 42 as a sync records it: with the requester it learned by Overseerr user id."""
    async with db_pool.acquire() as conn:
        alice = await conn.fetchval("INSERT INTO users (username) VALUES ('alice') RETURNING id")
        await conn.execute(
            "INSERT INTO content_requests (title, media_type, requested_by_user_id, status, source, "
            "source_request_id, tmdb_id) VALUES ('Arrival', 'movie', $1, 'pending', $2, '42', 329865)",
            alice,
            source,
        )
    return alice


async def test_overseerr_default_template_updates_the_synced_request_and_links_nobody(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    alice = await _synced_request(db_pool, "overseerr")
    response = await post_json(client, "overseerr", payload("overseerr-webhook-media-approved.json"))
    assert response.status == 200, await response.text()
    request = await db_pool.fetchrow("SELECT * FROM content_requests")
    assert (request["title"], request["status"], request["tmdb_id"]) == ("Arrival", "approved", 329865)
    assert request["approved_at"] is not None and request["requested_by_user_id"] == alice
    # The Discord id in the payload is the requester's own edit: it links nothing.
    assert await db_pool.fetchval("SELECT count(*) FROM chat_accounts") == 0


async def test_overseerr_request_unknown_to_the_sync_waits_for_it(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    response = await post_json(client, "overseerr", payload("overseerr-webhook-media-approved.json"))
    assert response.status == 200, await response.text()
    assert await db_pool.fetchval("SELECT count(*) FROM content_requests") == 0
    assert await db_pool.fetchval("SELECT count(*) FROM users") == 0


async def test_jellyseerr_available_marks_the_request_available(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    await _synced_request(db_pool, "jellyseerr")
    body = payload("overseerr-webhook-media-approved.json")
    assert (await post_json(client, "jellyseerr", body)).status == 200
    body["notification_type"] = "MEDIA_AVAILABLE"
    assert (await post_json(client, "jellyseerr", body)).status == 200
    request = await db_pool.fetchrow("SELECT * FROM content_requests")
    assert request["status"] == "available" and request["source"] == "jellyseerr"
    assert request["available_at"] is not None


async def test_radarr_movie_file_delete_logs_the_space_freed(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    response = await post_json(client, "radarr", payload("radarr-webhook-movie-file-delete.json"))
    assert response.status == 200
    deletion = await db_pool.fetchrow("SELECT * FROM deletion_log")
    assert (deletion["title"], deletion["media_type"], deletion["file_size_bytes"]) == (
        "Arrival",
        "movie",
        9876543210,
    )


async def test_radarr_deletion_matches_the_known_item(client: TestClient, db_pool: asyncpg.Pool) -> None:
    await client.post(url("plex"), data=plex_form(plex_library_new()))
    await post_json(client, "radarr", payload("radarr-webhook-movie-file-delete.json"))
    assert (
        await db_pool.fetchval(
            "SELECT m.title FROM deletion_log d JOIN media_items m ON m.id = d.media_item_id"
        )
        == "Arrival"
    )


async def test_sonarr_episode_file_delete_logs_the_episode(client: TestClient, db_pool: asyncpg.Pool) -> None:
    response = await post_json(client, "sonarr", payload("sonarr-webhook-episode-file-delete.json"))
    assert response.status == 200
    deletion = await db_pool.fetchrow("SELECT * FROM deletion_log")
    assert deletion["title"] == "The 100 S01E01" and deletion["file_size_bytes"] == 13400382


async def test_arr_test_event_is_ignored(client: TestClient, db_pool: asyncpg.Pool) -> None:
    response = await post_json(client, "sonarr", {"eventType": "Test", "instanceName": "Sonarr"})
    assert response.status == 200 and (await response.json())["status"] == "ignored"
    assert await webhook_rows(db_pool) == [("sonarr", "ignored", "Test")]


# --- repeated deliveries ---------------------------------------------------------


async def test_repeated_delivery_is_idempotent(client: TestClient, db_pool: asyncpg.Pool) -> None:
    body = payload("tautulli-webhook-watched.json")
    first = await post_json(client, "tautulli", body)
    second = await post_json(client, "tautulli", body)
    assert first.status == second.status == 200
    assert (await second.json())["status"] == "duplicate"
    assert await db_pool.fetchval("SELECT count(*) FROM watch_history") == 1
    assert await db_pool.fetchval("SELECT play_count FROM user_stats") == 1
    assert [row[1] for row in await webhook_rows(db_pool)] == ["processed", "ignored"]


async def test_stop_then_watched_of_one_play_is_one_row(client: TestClient, db_pool: asyncpg.Pool) -> None:
    body = payload("tautulli-webhook-watched.json")
    stop = copy.deepcopy(body) | {"action": "stop", "progress_percent": "97", "unixtime": "1732140001"}
    assert (await post_json(client, "tautulli", body)).status == 200
    assert (await post_json(client, "tautulli", stop)).status == 200
    assert await db_pool.fetchval("SELECT count(*) FROM watch_history") == 1
    assert float(await db_pool.fetchval("SELECT percent_complete FROM watch_history")) == 97
    # "stop" gives no verdict: the "watched" one stays.
    assert await db_pool.fetchval("SELECT service_watched FROM watch_history") is True


# --- bad input: 4xx, a rejected row, nothing else written ---------------------------


async def assert_rejected(response: Any, status: int, db_pool: asyncpg.Pool, source: str) -> None:
    assert response.status == status, await response.text()
    assert (await response.json())["status"] == "rejected"
    assert await db_pool.fetchval("SELECT status FROM webhook_log WHERE source = $1", source) == "rejected"
    for table in ("users", "media_items", "watch_history", "content_requests", "deletion_log"):
        assert await db_pool.fetchval(f"SELECT count(*) FROM {table}") == 0, table


async def assert_refused_without_a_row(response: Any, status: int, db_pool: asyncpg.Pool) -> None:
    """Unauthenticated: refused, counted in /metrics, and no row anywhere (a flood must not grow the database)."""
    assert response.status == status, await response.text()
    for table in ("webhook_log", "api_logs", "users", "media_items", "watch_history", "deletion_log"):
        assert await db_pool.fetchval(f"SELECT count(*) FROM {table}") == 0, table


async def test_wrong_secret_is_refused(client: TestClient, db_pool: asyncpg.Pool) -> None:
    response = await client.post(
        url("radarr", "guess"),
        data=json.dumps(payload("radarr-webhook-movie-file-delete.json")),
        headers={"Content-Type": "application/json"},
    )
    await assert_refused_without_a_row(response, 401, db_pool)
    assert (await response.json())["status"] == "rejected"


async def test_missing_secret_is_refused(client: TestClient, db_pool: asyncpg.Pool) -> None:
    response = await client.post("/webhooks/sonarr", data=b"{}", headers={"Content-Type": "application/json"})
    await assert_refused_without_a_row(response, 401, db_pool)


async def test_malformed_json_is_refused(client: TestClient, db_pool: asyncpg.Pool) -> None:
    await assert_rejected(
        await post_json(client, "overseerr", b'{"notification_type": '), 400, db_pool, "overseerr"
    )


async def test_json_that_is_not_an_object_is_refused(client: TestClient, db_pool: asyncpg.Pool) -> None:
    await assert_rejected(await post_json(client, "tautulli", [1, 2]), 400, db_pool, "tautulli")


async def test_wrong_content_type_is_refused(client: TestClient, db_pool: asyncpg.Pool) -> None:
    body = payload("radarr-webhook-movie-file-delete.json")
    await assert_rejected(await post_json(client, "radarr", body, "application/xml"), 415, db_pool, "radarr")


async def test_plex_without_multipart_is_refused(client: TestClient, db_pool: asyncpg.Pool) -> None:
    await assert_rejected(await post_json(client, "plex", plex_library_new()), 415, db_pool, "plex")


async def test_plex_multipart_without_payload_field_is_refused(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    form = FormData()
    form.add_field("other", "x")
    form.add_field("thumb", b"jpeg", filename="t.jpg", content_type="image/jpeg")
    await assert_rejected(await client.post(url("plex"), data=form), 422, db_pool, "plex")


async def test_missing_fields_are_refused(client: TestClient, db_pool: asyncpg.Pool) -> None:
    body = payload("radarr-webhook-movie-file-delete.json")
    del body["movieFile"]
    await assert_rejected(await post_json(client, "radarr", body), 422, db_pool, "radarr")


async def test_missing_event_type_is_refused(client: TestClient, db_pool: asyncpg.Pool) -> None:
    body = payload("jellyfin-webhook-playback-stop.json")
    del body["NotificationType"]
    await assert_rejected(await post_json(client, "jellyfin", body, "text/plain"), 422, db_pool, "jellyfin")


async def test_playback_without_user_is_refused_and_writes_nothing(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    body = payload("jellyfin-webhook-playback-stop.json")
    body["UserId"] = ""
    await assert_rejected(await post_json(client, "jellyfin", body, "text/plain"), 422, db_pool, "jellyfin")


async def test_oversized_body_is_refused(client: TestClient, db_pool: asyncpg.Pool) -> None:
    body = payload("overseerr-webhook-media-approved.json")
    body["message"] = "x" * (MAX_BODY + 1)
    await assert_rejected(await post_json(client, "overseerr", body), 413, db_pool, "overseerr")


async def test_values_the_schema_refuses_roll_back_the_whole_delivery(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    body = payload("radarr-webhook-movie-file-delete.json")
    body["movieFile"]["size"] = 2**70  # does not fit a bigint
    await assert_rejected(await post_json(client, "radarr", body), 422, db_pool, "radarr")


async def test_unknown_source_is_404_without_a_row(client: TestClient, db_pool: asyncpg.Pool) -> None:
    response = await post_json(client, "emby", {"Event": "x"})
    await assert_refused_without_a_row(response, 404, db_pool)


async def test_a_source_without_a_secret_is_not_enabled(db_pool: asyncpg.Pool) -> None:
    from aiohttp.test_utils import TestServer

    from adapters.http.server import WebhookConfig, build_app

    app = build_app(db_pool, WebhookConfig(secrets={"plex": "p"}))
    async with TestClient(TestServer(app)) as other:
        response = await other.post(
            "/webhooks/radarr?token=", data=b"{}", headers={"Content-Type": "application/json"}
        )
        await assert_refused_without_a_row(response, 403, db_pool)
        assert "not enabled" in (await response.json())["detail"]


# --- the rest of the server --------------------------------------------------------


async def test_every_authenticated_delivery_is_in_api_logs_without_the_token(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    await post_json(client, "radarr", payload("radarr-webhook-movie-file-delete.json"))
    await post_json(client, "radarr", b"{", "application/json")
    await client.get("/healthz")  # anyone can ask: counted in /metrics, not written
    rows = await db_pool.fetch("SELECT endpoint, method, status_code FROM api_logs ORDER BY created_at")
    assert [(r["endpoint"], r["method"], r["status_code"]) for r in rows] == [
        ("/webhooks/radarr", "POST", 200),
        ("/webhooks/radarr", "POST", 400),
    ]


async def test_healthz_and_metrics(client: TestClient) -> None:
    health = await client.get("/healthz")
    assert health.status == 200 and (await health.json()) == {"status": "ok"}
    await post_json(client, "sonarr", {"eventType": "Test"})
    metrics = await client.get("/metrics")
    text = await metrics.text()
    assert metrics.status == 200
    assert 'marquee_webhook_deliveries_total{source="sonarr",status="ignored"} 1.0' in text
    assert "marquee_http_requests_total" in text
