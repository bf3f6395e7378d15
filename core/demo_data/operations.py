"""The server's operational trail: sync jobs (one failing), webhooks, deletions and API calls."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import numpy as np

from core.demo_data.catalogue import Catalogue
from core.demo_data.people import People
from core.demo_data.randomness import as_uuids, uuid_words
from core.demo_data.timeline import DAY, HOUR, Timeline
from core.demo_data.titles import movie_titles

FAILING_INTEGRATION = "tautulli"
FAILING_ERROR = "Cannot connect to Tautulli at http://tautulli:8181: Connection refused"

# (source, event type, share); the first events of each source are the common ones.
_WEBHOOK_EVENTS = (
    ("plex", "media.play", 0.16),
    ("plex", "media.stop", 0.14),
    ("plex", "media.scrobble", 0.10),
    ("plex", "media.pause", 0.08),
    ("plex", "library.new", 0.05),
    ("jellyfin", "PlaybackStart", 0.08),
    ("jellyfin", "PlaybackStop", 0.07),
    ("jellyfin", "ItemAdded", 0.03),
    ("tautulli", "watched", 0.06),
    ("overseerr", "MEDIA_PENDING", 0.05),
    ("overseerr", "MEDIA_APPROVED", 0.04),
    ("overseerr", "MEDIA_AVAILABLE", 0.04),
    ("overseerr", "MEDIA_DECLINED", 0.02),
    ("radarr", "Download", 0.04),
    ("sonarr", "Download", 0.04),
)
_WEBHOOK_ERRORS = (
    "payload did not match the expected shape: missing 'Metadata'",
    "database unavailable while recording the event",
    "unknown item: not synced yet",
)
_API_ENDPOINTS = (
    ("plex", "GET", "/library/sections/all"),
    ("plex", "GET", "/status/sessions"),
    ("plex", "GET", "/status/sessions/history/all"),
    ("jellyfin", "GET", "/Users"),
    ("jellyfin", "GET", "/Items"),
    ("tautulli", "GET", "/api/v2?cmd=get_history"),
    ("overseerr", "GET", "/api/v1/request"),
    ("overseerr", "POST", "/api/v1/request"),
    ("anthropic", "POST", "/v1/messages"),
)
_API_ERRORS = {
    401: "Unauthorized: the token was rejected",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_DELETION_REASONS = (
    "Not watched in two years",
    "Replaced by a better copy",
    "Low rating and never finished",
    "Freeing disk space",
    "Season finished and nobody is watching",
)


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def sync_schedule_rows(rng: np.random.Generator, timeline: Timeline) -> list[tuple[object, ...]]:
    """(integration, enabled, interval_seconds, last_run_at, last_success_at, last_error, consecutive_failures)."""
    now = timeline.now
    rows: list[tuple[object, ...]] = []
    for integration, interval in (("plex", 900), ("jellyfin", 900), ("tautulli", 1800), ("overseerr", 600)):
        last_run = now - int(rng.integers(60, interval))
        if integration == FAILING_INTEGRATION:
            failures = int(rng.integers(6, 40))
            last_success = last_run - failures * interval - int(rng.integers(0, interval))
            rows.append(
                (integration, True, interval, _at(last_run), _at(last_success), FAILING_ERROR, failures)
            )
        else:
            rows.append((integration, True, interval, _at(last_run), _at(last_run), None, 0))
    return rows


def webhook_rows(rng: np.random.Generator, people: People, timeline: Timeline) -> list[tuple[object, ...]]:
    """(id, source, event_type, status, error, received_at, delivery_key) over the last weeks, today included."""
    days = min(30, (timeline.now - timeline.window_start) // DAY)
    per_day = max(8, min(400, people.count * 3))
    count = int(days * per_day)
    received = timeline.now - rng.integers(0, days * DAY, size=count)
    today_start = timeline.local_day_start(timeline.now)
    # Always something today, however early "now" is.
    todays = max(3, per_day // 4)
    received[:todays] = today_start + rng.integers(0, max(1, timeline.now - today_start), size=todays)
    shares = np.array([e[2] for e in _WEBHOOK_EVENTS])
    events = rng.choice(len(_WEBHOOK_EVENTS), size=count, p=shares / shares.sum())
    status_draw = rng.random(count)
    ids = as_uuids(uuid_words(rng, count))
    rows: list[tuple[object, ...]] = []
    for i in range(count):
        source, event, _ = _WEBHOOK_EVENTS[int(events[i])]
        event_type: str | None = event
        error: str | None = None
        if event_type == "media.pause":
            status = "ignored"
        elif status_draw[i] < 0.03:
            status, event_type = "rejected", None  # bad signature: never parsed
            error = "signature did not match the webhook secret"
        elif status_draw[i] < 0.06:
            status = "error"
            error = _WEBHOOK_ERRORS[i % len(_WEBHOOK_ERRORS)]
        else:
            status = "processed"
        key = hashlib.sha256(ids[i].bytes).hexdigest()[:32]
        rows.append((ids[i], source, event_type, status, error, _at(int(received[i])), key))
    return rows


def deletion_rows(
    rng: np.random.Generator, catalogue: Catalogue, timeline: Timeline
) -> list[tuple[object, ...]]:
    """(id, media_item_id, title, media_type, file_size_bytes, deleted_at, reason): mostly items long gone."""
    days = (timeline.now - timeline.window_start) // DAY
    count = max(6, min(2000, catalogue.count // 100 + int(days) // 10))
    titles = movie_titles(rng, count)
    deleted = timeline.now - rng.integers(HOUR, days * DAY, size=count)
    sizes = (rng.lognormal(22.5, 0.7, size=count)).astype(np.int64)
    ids = as_uuids(uuid_words(rng, count))
    movies = catalogue.title_item[catalogue.title_category == 0]
    rows: list[tuple[object, ...]] = []
    for i in range(count):
        reason = _DELETION_REASONS[int(rng.integers(len(_DELETION_REASONS)))]
        item_id: uuid.UUID | None = None
        title, media_type = titles[i], "movie"
        if reason == "Replaced by a better copy" and len(movies):
            # The item stays; only its old file went.
            item = int(movies[int(rng.integers(len(movies)))])
            item_id = as_uuids(catalogue.ids[item : item + 1])[0]
            title = catalogue.titles[item]
        elif i % 3 == 2:
            media_type = "episode"
            sizes[i] //= 4
        rows.append((ids[i], item_id, title, media_type, int(sizes[i]), _at(int(deleted[i])), reason))
    return rows


def api_log_rows(rng: np.random.Generator, people: People, timeline: Timeline) -> list[tuple[object, ...]]:
    """(id, user_id, endpoint, method, status_code, response_time_ms, error_message, created_at)."""
    days = min(30, (timeline.now - timeline.window_start) // DAY)
    per_day = max(20, min(1500, people.count * 10))
    count = int(days * per_day)
    created = timeline.now - rng.integers(0, days * DAY, size=count)
    endpoint = rng.integers(0, len(_API_ENDPOINTS), size=count)
    latency = rng.lognormal(np.log(120), 0.7, size=count).astype(np.int64)
    status_draw = rng.random(count)
    user = rng.integers(0, people.count, size=count)
    ids = as_uuids(uuid_words(rng, count))
    user_ids = as_uuids(people.ids)
    codes = list(_API_ERRORS)
    rows: list[tuple[object, ...]] = []
    for i in range(count):
        service, method, path = _API_ENDPOINTS[int(endpoint[i])]
        if status_draw[i] < 0.04:
            code = codes[int(status_draw[i] * 1000) % len(codes)]
            error = _API_ERRORS[code]
        else:
            code, error = (201 if method == "POST" else 200), None
        if service == FAILING_INTEGRATION and created[i] > timeline.now - 6 * HOUR:
            code, error = 503, FAILING_ERROR
        # Calls made for a member (a request, a chat answer) carry their id; sync calls do not.
        who = user_ids[int(user[i])] if service in ("overseerr", "anthropic") else None
        rows.append(
            (ids[i], who, f"{service} {path}", method, code, int(latency[i]), error, _at(int(created[i])))
        )
    return rows
