"""user_stats and bandwidth_logs derived from the same sessions as watch_history.

user_stats definitions (asserted by the tests against watch_history):
``play_count`` = sessions with percent_complete ≥ 90; ``last_played_at`` = the
latest ``started_at`` of any session of that user and item;
``attributed_to_request_id`` = the available request that brought the item (or
its show) when the user's first play came after it arrived. A few rows carry
only a rating (rated, never played here): play_count 0, last_played_at NULL.
"""

from __future__ import annotations

import numpy as np

from core.demo_data.binary_copy import Column
from core.demo_data.catalogue import EPISODE, MOVIE, Catalogue
from core.demo_data.content_requests import Requests
from core.demo_data.people import People
from core.demo_data.randomness import uuid_words
from core.demo_data.timeline import DAY, Timeline
from core.demo_data.viewing import Sessions

COMPLETE_TENTHS = 900
MOVIE_RATED_SHARE = 0.35
EPISODE_RATED_SHARE = 0.03
RATED_UNPLAYED_PER_USER = 1.0
BANDWIDTH_DAYS = 45  # the bandwidth log keeps recent streams
BANDWIDTH_SAMPLED_SHARE = 0.35  # streams that went through the logging proxy


def watch_history_columns(
    rng: np.random.Generator, people: People, catalogue: Catalogue, s: Sessions
) -> list[Column]:
    return [
        Column("id", "uuid", uuid_words(rng, s.count)),
        Column("user_id", "uuid", people.ids[s.user]),
        Column("media_item_id", "uuid", catalogue.ids[s.item]),
        Column("started_at", "timestamptz", s.started_at),
        Column("stopped_at", "timestamptz", s.stopped_at),
        Column("watched_seconds", "int4", s.watched_seconds),
        Column("percent_complete", "tenths", s.percent_tenths),
    ]


def user_stats_columns(
    rng: np.random.Generator,
    people: People,
    catalogue: Catalogue,
    requests: Requests,
    request_of_title: np.ndarray,
    s: Sessions,
    users: np.ndarray,
) -> list[Column]:
    """One row per (user, item) with sessions, plus rating-only rows; ``users`` are the members covered."""
    key = s.user * catalogue.count + s.item
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = (
        np.flatnonzero(np.concatenate([[True], sorted_key[1:] != sorted_key[:-1]]))
        if len(key)
        else (np.zeros(0, dtype=np.int64))
    )
    played_keys = sorted_key[starts]
    user = played_keys // catalogue.count
    item = played_keys % catalogue.count
    complete = (s.percent_tenths[order] >= COMPLETE_TENTHS).astype(np.int64)
    play_count = np.add.reduceat(complete, starts) if len(starts) else np.zeros(0, dtype=np.int64)
    last_played = (
        np.maximum.reduceat(s.started_at[order], starts) if len(starts) else np.zeros(0, dtype=np.int64)
    )
    first_played = (
        np.minimum.reduceat(s.started_at[order], starts) if len(starts) else np.zeros(0, dtype=np.int64)
    )

    kind = catalogue.kind[item]
    rated_share = np.where(
        kind == MOVIE, MOVIE_RATED_SHARE, np.where(kind == EPISODE, EPISODE_RATED_SHARE, 0.0)
    )
    rated = (play_count > 0) & (rng.random(len(item)) < rated_share)

    request = request_of_title[catalogue.item_title[item]]
    arrived = np.where(request >= 0, requests.available_at[np.maximum(request, 0)], 0)
    attributed = (request >= 0) & (first_played >= arrived)

    # Rated without playing here: movies they saw elsewhere.
    extra_per_user = rng.poisson(RATED_UNPLAYED_PER_USER, size=len(users))
    extra_user = np.repeat(users, extra_per_user)
    movies = catalogue.title_item[catalogue.title_category == 0]
    extra_item = movies[rng.integers(0, len(movies), size=len(extra_user))] if len(movies) else extra_user * 0
    extra_key = np.unique(extra_user * catalogue.count + extra_item)
    extra_key = extra_key[~np.isin(extra_key, played_keys)]
    extra_user, extra_item = extra_key // catalogue.count, extra_key % catalogue.count

    # All rows in (user, item) order, which is also (user_id, media_item_id) order: a cheap unique-index build.
    order = np.argsort(np.concatenate([played_keys, extra_key]), kind="stable")
    all_user = np.concatenate([user, extra_user])[order]
    all_item = np.concatenate([item, extra_item])[order]
    unplayed = np.concatenate([np.zeros(len(user), dtype=bool), np.ones(len(extra_user), dtype=bool)])[order]
    has_rating = np.concatenate([rated, np.ones(len(extra_user), dtype=bool)])[order]
    play_count = np.concatenate([play_count, np.zeros(len(extra_user), dtype=np.int64)])[order]
    last_played = np.concatenate([last_played, extra_user * 0])[order]
    request = np.concatenate([request, extra_user * 0])[order]
    attributed = np.concatenate([attributed, np.zeros(len(extra_user), dtype=bool)])[order]
    score = catalogue.title_rating[catalogue.item_title[all_item]] + people.rating_bias[all_user]
    score = score + rng.normal(0.0, 1.2, size=len(all_user))
    rating_tenths = np.round(np.clip(score, 0.0, 10.0) * 10).astype(np.int64)
    return [
        Column("id", "uuid", uuid_words(rng, len(all_user))),
        Column("user_id", "uuid", people.ids[all_user]),
        Column("media_item_id", "uuid", catalogue.ids[all_item]),
        Column("play_count", "int4", play_count),
        Column("rating", "tenths", rating_tenths, null=~has_rating),
        Column("last_played_at", "timestamptz", last_played, null=unplayed),
        Column(
            "attributed_to_request_id",
            "uuid",
            requests.ids[np.maximum(request, 0)]
            if requests.count
            else np.zeros((len(all_user), 2), np.uint64),
            null=~attributed,
        ),
    ]


def bandwidth_columns(
    rng: np.random.Generator, people: People, catalogue: Catalogue, timeline: Timeline, s: Sessions
) -> list[Column]:
    """Recent streams: bytes follow the file's bitrate, lower when transcoded."""
    recent = s.started_at >= timeline.now - BANDWIDTH_DAYS * DAY
    rows = np.flatnonzero(recent & (rng.random(s.count) < BANDWIDTH_SAMPLED_SHARE))
    item = s.item[rows]
    transcode = np.where(rng.random(len(rows)) < 0.3, rng.uniform(0.3, 0.7, size=len(rows)), 1.0)
    sent = (s.watched_seconds[rows] * catalogue.bytes_per_second()[item] * transcode).astype(np.int64)
    return [
        Column("id", "uuid", uuid_words(rng, len(rows))),
        Column("user_id", "uuid", people.ids[s.user[rows]]),
        Column("media_item_id", "uuid", catalogue.ids[item]),
        Column("bytes_transferred", "int8", sent),
        Column("stream_duration_seconds", "int4", s.watched_seconds[rows]),
        Column("created_at", "timestamptz", s.stopped_at[rows]),
    ]
