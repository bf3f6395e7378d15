"""The generated world as table rows: records for COPY of the smaller tables, text lines for media_items."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from core.demo_data.catalogue import LIBRARIES, MEDIA_TYPES, SHOW, Catalogue
from core.demo_data.content_requests import STATUSES, UNSET, Requests
from core.demo_data.people import People
from core.demo_data.randomness import as_uuids
from core.demo_data.text_copy import NULL, encode_lines, json_field, text_field, timestamps
from core.demo_data.timeline import DAY, Timeline

Record = tuple[object, ...]

USER_COLUMNS = [
    "id",
    "username",
    "display_name",
    "email",
    "role",
    "created_at",
    "last_login_at",
    "login_count",
    "share_activity_with_admins",
]
MEDIA_ITEM_COLUMNS = [
    "id",
    "title",
    "media_type",
    "year",
    "parent_id",
    "season_number",
    "episode_number",
    "library_name",
    "metadata",
    "duration_seconds",
    "file_size_bytes",
    "added_at",
]
REQUEST_COLUMNS = [
    "id",
    "title",
    "media_type",
    "media_item_id",
    "requested_by_user_id",
    "status",
    "requested_at",
    "approved_at",
    "approved_by_user_id",
    "declined_at",
    "decline_reason",
    "available_at",
    "source",
    "source_request_id",
    "tmdb_id",
    "tvdb_id",
]


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


def _maybe_at(seconds: int) -> datetime | None:
    return None if seconds == UNSET else _at(seconds)


def user_records(people: People) -> list[Record]:
    ids = as_uuids(people.ids)
    return [
        (
            ids[i],
            people.usernames[i],
            people.display_names[i],
            people.emails[i],
            "admin" if people.is_admin[i] else "user",
            _at(people.created_at[i]),
            _at(people.last_login_at[i]),
            int(people.login_count[i]),
            bool(people.shares_activity[i]),
        )
        for i in range(people.count)
    ]


def chat_account_records(people: People, timeline: Timeline) -> list[Record]:
    """The console identity of every member is their username."""
    ids = as_uuids(people.ids)
    linked = np.minimum(people.created_at + DAY, timeline.now)
    return [("console", people.usernames[i], ids[i], _at(linked[i])) for i in range(people.count)]


def user_external_id_records(rng: np.random.Generator, people: People) -> list[Record]:
    ids = as_uuids(people.ids)
    plex_ids = 1_000_000 + np.cumsum(rng.integers(1, 5000, size=people.count))
    return [("plex", str(int(plex_ids[i])), ids[i]) for i in range(people.count)]


def media_item_lines(catalogue: Catalogue, start: int, stop: int) -> bytes:
    """Items ``start``..``stop`` as COPY text lines (free text and jsonb are simplest in the text format)."""
    rows = range(start, stop)
    ids = [str(u) for u in as_uuids(catalogue.ids[start:stop])]
    parents = catalogue.parent[start:stop]
    parent_ids = [str(u) for u in as_uuids(catalogue.ids[np.maximum(parents, 0)])]
    added = timestamps(catalogue.added_at[start:stop])
    kind = catalogue.kind[start:stop].tolist()
    season = catalogue.season[start:stop].tolist()
    episode = catalogue.episode[start:stop].tolist()
    year = catalogue.year[start:stop].tolist()
    library = catalogue.library[start:stop].tolist()
    duration = catalogue.duration[start:stop].tolist()
    size = catalogue.file_size[start:stop].tolist()
    size_null = catalogue.file_size_null[start:stop].tolist()
    is_episode = (parents >= 0).tolist()
    return encode_lines(
        (
            ids[j],
            text_field(catalogue.titles[i]),
            MEDIA_TYPES[kind[j]],
            str(year[j]),
            parent_ids[j] if is_episode[j] else NULL,
            str(season[j]) if is_episode[j] else NULL,
            str(episode[j]) if is_episode[j] else NULL,
            LIBRARIES[library[j]],
            json_field(catalogue.metadata[i]),
            str(duration[j]),
            NULL if size_null[j] else str(size[j]),
            added[j],
        )
        for j, i in enumerate(rows)
    )


def media_external_id_records(catalogue: Catalogue) -> list[Record]:
    item_ids = as_uuids(catalogue.ids[catalogue.title_item])
    records: list[Record] = []
    for t in range(catalogue.title_count):
        records.append(("tmdb", str(int(catalogue.tmdb_ids[t])), item_ids[t]))
        if catalogue.kind[catalogue.title_item[t]] == SHOW:
            records.append(("tvdb", str(int(catalogue.tvdb_ids[t])), item_ids[t]))
        else:
            records.append(("imdb", f"tt{int(catalogue.imdb_numbers[t]):07d}", item_ids[t]))
    return records


def request_records(requests: Requests, people: People, catalogue: Catalogue) -> list[Record]:
    ids = as_uuids(requests.ids)
    user_ids = as_uuids(people.ids)
    records: list[Record] = []
    for r in range(requests.count):
        title = int(requests.title[r])
        item_id = as_uuids(catalogue.ids[catalogue.title_item[title]][None, :])[0] if title >= 0 else None
        approver = int(requests.approver[r])
        records.append(
            (
                ids[r],
                requests.titles[r],
                requests.media_types[r],
                item_id,
                user_ids[int(requests.requester[r])],
                STATUSES[int(requests.status[r])],
                _at(requests.requested_at[r]),
                _maybe_at(int(requests.approved_at[r])),
                user_ids[approver] if approver != UNSET else None,
                _maybe_at(int(requests.declined_at[r])),
                requests.decline_reasons[r],
                _maybe_at(int(requests.available_at[r])),
                "overseerr",
                str(r + 1),
                int(requests.tmdb_ids[r]),
                int(requests.tvdb_ids[r]) or None,
            )
        )
    return records
