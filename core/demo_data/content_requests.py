"""Requests through their whole lifecycle, as Overseerr would have recorded them.

Available requests point at library titles that arrived because of them (the
title's ``added_at`` is the request's ``available_at``); the others name
titles that are not in the library.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.demo_data.catalogue import CATEGORY_MOVIE, Catalogue, mark_arrival
from core.demo_data.people import People
from core.demo_data.randomness import uuid_words
from core.demo_data.timeline import DAY, HOUR, Timeline
from core.demo_data.titles import anime_titles, movie_titles, show_titles
from core.demo_data.vocabulary import DECLINE_REASONS

STATUSES = ("pending", "approved", "declined", "available", "failed")
PENDING, APPROVED, DECLINED, AVAILABLE, FAILED = range(5)
_STATUS_SHARES = np.array([0.08, 0.07, 0.15, 0.62, 0.08])
# Every lifecycle appears even on a tiny server.
_FIRST_STATUSES = (PENDING, APPROVED, DECLINED, AVAILABLE, AVAILABLE, FAILED, AVAILABLE, AVAILABLE)
NEVER_WATCHED_SHARE = 0.25  # available requests their requester never played
REQUESTS_PER_USER_YEAR = 2.5
UNSET = -1


@dataclass(frozen=True)
class Requests:
    ids: np.ndarray  # (n, 2) uint64
    titles: list[str]
    media_types: list[str]
    title: np.ndarray  # library title index, -1 when not in the library
    requester: np.ndarray
    status: np.ndarray
    requested_at: np.ndarray
    approved_at: np.ndarray  # UNSET when never approved
    approver: np.ndarray  # UNSET when none
    declined_at: np.ndarray
    decline_reasons: list[str | None]
    available_at: np.ndarray
    tmdb_ids: np.ndarray
    tvdb_ids: np.ndarray  # 0 when none
    never_watched: np.ndarray  # bool: the requester never played it

    @property
    def count(self) -> int:
        return len(self.titles)

    def request_of_title(self, title_count: int) -> np.ndarray:
        """For each library title, the available request that brought it, else -1."""
        mapping = np.full(title_count, UNSET, dtype=np.int64)
        available = np.flatnonzero((self.status == AVAILABLE) & (self.title >= 0))
        mapping[self.title[available]] = available
        return mapping


def _delay(rng: np.random.Generator, median_hours: float) -> int:
    hours = median_hours * float(rng.lognormal(0.0, 0.8))
    return int(np.clip(hours, 0.1, 6 * 24) * HOUR)


def generate_requests(
    rng: np.random.Generator, people: People, catalogue: Catalogue, timeline: Timeline
) -> Requests:
    now, start = timeline.now, timeline.window_start
    days = (now - start) / DAY
    count = max(len(_FIRST_STATUSES), round(people.count * days / 365 * REQUESTS_PER_USER_YEAR))
    status = np.concatenate(
        [np.array(_FIRST_STATUSES), rng.choice(5, size=count - len(_FIRST_STATUSES), p=_STATUS_SHARES)]
    )
    # Arrived titles must be distinct; a library has at most a third of its titles requested.
    available_rows = np.flatnonzero(status == AVAILABLE)
    limit = max(1, catalogue.title_count // 3)
    status[available_rows[limit:]] = DECLINED

    admins = np.flatnonzero(people.is_admin)
    request_weight = people.activity * rng.lognormal(0.0, 0.8, size=people.count)
    request_p = request_weight / request_weight.sum()
    recently_active = np.flatnonzero(people.active_to > now - 2 * DAY)
    recent_p = request_weight[recently_active] / request_weight[recently_active].sum()

    titles: list[str] = []
    media_types: list[str] = []
    title = np.full(count, UNSET, dtype=np.int64)
    requester = np.zeros(count, dtype=np.int64)
    requested_at = np.zeros(count, dtype=np.int64)
    approved_at = np.full(count, UNSET, dtype=np.int64)
    approver = np.full(count, UNSET, dtype=np.int64)
    declined_at = np.full(count, UNSET, dtype=np.int64)
    available_at = np.full(count, UNSET, dtype=np.int64)
    reasons: list[str | None] = [None] * count
    tvdb = np.zeros(count, dtype=np.int64)
    tmdb = np.zeros(count, dtype=np.int64)

    popularity = catalogue.title_popularity / catalogue.title_popularity.sum()
    wanted = rng.choice(
        catalogue.title_count, size=min(limit, int((status == AVAILABLE).sum())), replace=False, p=popularity
    )
    arrived = iter(wanted.tolist())
    new_movies = iter(movie_titles(rng, count))
    new_shows = iter(show_titles(rng, count))
    new_anime = iter(anime_titles(rng, count))
    next_outside_id = 2_000_000

    for r in range(count):
        s = int(status[r])
        recent = s in (PENDING, APPROVED)
        who = (
            int(rng.choice(recently_active, p=recent_p))
            if recent
            else int(rng.choice(people.count, p=request_p))
        )
        requester[r] = who
        earliest = max(int(people.active_from[who]), start)
        latest = int(people.active_to[who]) - DAY
        if recent:
            earliest = max(earliest, now - 12 * DAY)
            latest = now - 2 * HOUR
        latest = max(latest, earliest + HOUR)
        requested_at[r] = earliest + int(rng.integers(0, latest - earliest))
        admin = int(rng.choice(admins[admins != who])) if len(admins) > 1 else int(admins[0])

        if s in (APPROVED, AVAILABLE, FAILED):
            approved_at[r] = min(
                requested_at[r] + _delay(rng, float(people.approval_hours[admin])), now - HOUR
            )
            approver[r] = admin
        if s == DECLINED:
            declined_at[r] = min(
                requested_at[r] + _delay(rng, float(people.approval_hours[admin])), now - HOUR
            )
            reasons[r] = DECLINE_REASONS[int(rng.integers(len(DECLINE_REASONS)))]
        if s == AVAILABLE:
            t = next(arrived)
            title[r] = t
            # Movies download within hours; a season pack can take a day or two.
            available_at[r] = min(
                int(approved_at[r]) + int(rng.integers(HOUR // 2, 48 * HOUR)), now - HOUR // 2
            )
            mark_arrival(catalogue, t, int(available_at[r]))
            titles.append(catalogue.titles[int(catalogue.title_item[t])])
            is_movie = catalogue.title_category[t] == CATEGORY_MOVIE
            media_types.append("movie" if is_movie else "show")
            tmdb[r] = catalogue.tmdb_ids[t]
            tvdb[r] = catalogue.tvdb_ids[t]
        else:
            kind = int(rng.choice(3, p=[0.55, 0.35, 0.10]))
            titles.append(
                next(new_movies) if kind == 0 else next(new_shows) if kind == 1 else next(new_anime)
            )
            media_types.append("movie" if kind == 0 else "show")
            tmdb[r] = next_outside_id + r * 7
            tvdb[r] = 0 if kind == 0 else next_outside_id + r * 5

    never_watched = (status == AVAILABLE) & (rng.random(count) < NEVER_WATCHED_SHARE)
    available = np.flatnonzero(status == AVAILABLE)
    if len(available) and not never_watched.any():
        never_watched[available[0]] = True

    # Overseerr numbers its requests in the order they were made.
    order = np.argsort(requested_at, kind="stable")
    return Requests(
        ids=uuid_words(rng, count)[order],
        titles=[titles[i] for i in order],
        media_types=[media_types[i] for i in order],
        title=title[order],
        requester=requester[order],
        status=status[order],
        requested_at=requested_at[order],
        approved_at=approved_at[order],
        approver=approver[order],
        declined_at=declined_at[order],
        decline_reasons=[reasons[i] for i in order],
        available_at=available_at[order],
        tmdb_ids=tmdb[order],
        tvdb_ids=tvdb[order],
        never_watched=never_watched[order],
    )
