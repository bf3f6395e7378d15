"""Watch history: who played what, when, and how far.

Viewing is generated as *engagements* — a member taking up a movie or a show —
expanded into playback sessions with numpy: series are watched from S1E1 in
sittings (weekend binges of several episodes in a row for bingers, an episode
or two on weeknights for others), evenings are the peak, some series are
finished, some dropped after an episode or three, and whatever runs past
"now" is simply still in progress. Movies are sometimes resumed after a
partial play, rewatched months later, or given up on.

Each member gets an exact number of sessions (their share of the total), so
the total is exact; sessions that would fall outside their active period,
before the item arrived or after now are dropped and replaced by more
engagements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.demo_data.catalogue import CATEGORY_ANIME, CATEGORY_MOVIE, Catalogue
from core.demo_data.content_requests import AVAILABLE, Requests
from core.demo_data.people import People
from core.demo_data.timeline import DAY, HOUR, SATURDAY, Timeline, sample_hours, weekday

FAVOURITE_GENRE_SHARE = 0.5  # engagements chosen from one of the member's favourite genres
SERIES_FINISHED, SERIES_ABANDONED, SERIES_DROPPED = 0, 1, 2
_SERIES_PLAN_SHARES = [0.45, 0.25, 0.30]
MOVIE_RESUMED_SHARE = 0.08  # a partial play, finished the next day
MOVIE_REWATCHED_SHARE = 0.07
MOVIE_GIVEN_UP_SHARE = 0.06
MAX_ROUNDS = 12


@dataclass(frozen=True)
class Sessions:
    """Playback sessions, one array entry per watch_history row."""

    user: np.ndarray
    item: np.ndarray
    started_at: np.ndarray  # Unix seconds
    stopped_at: np.ndarray
    watched_seconds: np.ndarray
    percent_tenths: np.ndarray  # percent_complete × 10

    @property
    def count(self) -> int:
        return len(self.user)

    def sorted_by_user_item_start(self) -> Sessions:
        return _take(self, np.lexsort((self.started_at, self.item, self.user)))


@dataclass(frozen=True)
class Engagements:
    user: np.ndarray
    title: np.ndarray
    start: np.ndarray  # Unix seconds


class TitleChooser:
    """Draws titles by popularity, per category and optionally per favourite genre."""

    def __init__(self, catalogue: Catalogue, genres: list[str]) -> None:
        self._catalogue = catalogue
        self._genre_index = {g: i for i, g in enumerate(genres)}
        self._pools: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def _pool(self, category: int, genre: int) -> tuple[np.ndarray, np.ndarray]:
        key = (category, genre)
        if key not in self._pools:
            mask = self._catalogue.title_category == category
            if genre >= 0:
                with_genre = mask & self._catalogue.title_genres[:, genre]
                mask = with_genre if with_genre.any() else mask
            titles = np.flatnonzero(mask)
            if len(titles) == 0:  # a tiny library may lack a category: fall back to everything
                titles = np.arange(self._catalogue.title_count)
            cdf = np.cumsum(self._catalogue.title_popularity[titles])
            self._pools[key] = (titles, cdf / cdf[-1])
        return self._pools[key]

    def choose(self, rng: np.random.Generator, category: np.ndarray, genre: np.ndarray) -> np.ndarray:
        chosen = np.zeros(len(category), dtype=np.int64)
        draws = rng.random(len(category))
        for key in set(zip(category.tolist(), genre.tolist(), strict=True)):
            rows = np.flatnonzero((category == key[0]) & (genre == key[1]))
            titles, cdf = self._pool(*key)
            chosen[rows] = titles[
                np.minimum(np.searchsorted(cdf, draws[rows], side="right"), len(titles) - 1)
            ]
        return chosen

    def genre_number(self, name: str) -> int:
        return self._genre_index[name]


def user_quotas(rng: np.random.Generator, people: People, total: int) -> np.ndarray:
    """Sessions per member: more for keen and long-standing members, exact in sum."""
    span_days = np.maximum((people.active_to - people.active_from) / DAY, 1.0)
    weights = people.activity * span_days
    return rng.multinomial(total, weights / weights.sum()).astype(np.int64)


def request_engagements(
    rng: np.random.Generator, people: People, requests: Requests, timeline: Timeline
) -> Engagements:
    """Requested titles get watched: by their requester soon after arrival (unless they never do), and by others."""
    users: list[int] = []
    titles: list[int] = []
    starts: list[int] = []
    others_per_request = 0.5 + 1.5 * min(1.0, people.count / 20)
    for r in np.flatnonzero((requests.status == AVAILABLE) & (requests.title >= 0)).tolist():
        arrived = int(requests.available_at[r])
        if not requests.never_watched[r]:
            users.append(int(requests.requester[r]))
            titles.append(int(requests.title[r]))
            starts.append(arrived + int(rng.integers(2 * HOUR, 10 * DAY)))
        for other in rng.choice(people.count, size=int(rng.poisson(others_per_request))).tolist():
            if other != requests.requester[r]:
                users.append(other)
                titles.append(int(requests.title[r]))
                starts.append(arrived + int(rng.integers(DAY, 60 * DAY)))
    return Engagements(
        np.array(users, dtype=np.int64), np.array(titles, dtype=np.int64), np.array(starts, dtype=np.int64)
    )


def never_watched_keys(requests: Requests, title_count: int) -> np.ndarray:
    """user × title keys of requesters who never played what they asked for (sorted)."""
    rows = np.flatnonzero(requests.never_watched & (requests.title >= 0))
    return np.sort(requests.requester[rows] * title_count + requests.title[rows])


class ViewingGenerator:
    def __init__(
        self,
        people: People,
        catalogue: Catalogue,
        timeline: Timeline,
        chooser: TitleChooser,
        forbidden_keys: np.ndarray,
    ) -> None:
        self.people = people
        self.catalogue = catalogue
        self.timeline = timeline
        self.chooser = chooser
        self.forbidden_keys = forbidden_keys
        self.expected_rows_per_engagement = _expected_rows_per_engagement(catalogue)
        self.favourite_genre_numbers = np.array(
            [[chooser.genre_number(g) for g in pair] for pair in people.favourite_genres], dtype=np.int64
        )

    def random_engagements(
        self, rng: np.random.Generator, users: np.ndarray, counts: np.ndarray
    ) -> Engagements:
        people = self.people
        user = np.repeat(users, counts)
        mix = np.cumsum(people.category_mix[user], axis=1)
        category = (rng.random(len(user))[:, None] > mix).sum(axis=1).clip(0, 2)
        favourite = (category != CATEGORY_ANIME) & (rng.random(len(user)) < FAVOURITE_GENRE_SHARE)
        which = rng.integers(0, 2, size=len(user))
        genre = np.where(favourite, self.favourite_genre_numbers[user, which], -1)
        title = self.chooser.choose(rng, category, genre)
        span = people.active_to[user] - people.active_from[user]
        start = people.active_from[user] + (rng.random(len(user)) * span).astype(np.int64)
        return Engagements(user, title, start)

    def expand(self, rng: np.random.Generator, engagements: Engagements) -> Sessions:
        """The sessions of each engagement, in engagement order, invalid ones dropped."""
        catalogue, people, timeline = self.catalogue, self.people, self.timeline
        e_user, e_title = engagements.user, engagements.title
        count = len(e_user)
        episodes = catalogue.title_episode_count[e_title]
        is_series = catalogue.title_category[e_title] != CATEGORY_MOVIE

        plan = rng.choice(3, size=count, p=_SERIES_PLAN_SHARES)
        few = np.minimum(3, np.maximum(episodes - 1, 1))
        series_rows = np.where(
            plan == SERIES_FINISHED,
            episodes,
            np.where(
                plan == SERIES_ABANDONED,
                1 + (rng.random(count) * few).astype(np.int64),
                1 + (rng.random(count) * episodes).astype(np.int64),
            ),
        )
        movie_draw = rng.random(count)
        resumed = movie_draw < MOVIE_RESUMED_SHARE
        given_up = (movie_draw >= MOVIE_RESUMED_SHARE) & (
            movie_draw < MOVIE_RESUMED_SHARE + MOVIE_GIVEN_UP_SHARE
        )
        rewatched = ~given_up & (rng.random(count) < MOVIE_REWATCHED_SHARE)
        movie_rows = 1 + resumed + rewatched
        rows_per = np.where(is_series, np.maximum(series_rows, 1), movie_rows).astype(np.int64)

        eng = np.repeat(np.arange(count), rows_per)
        offsets = np.concatenate([[0], np.cumsum(rows_per)[:-1]])
        k = np.arange(len(eng)) - offsets[eng]
        user = e_user[eng]
        title = e_title[eng]
        series = is_series[eng]
        item = np.where(series, catalogue.title_first_episode[title] + k, catalogue.title_item[title])
        rows = len(eng)
        row_draw = rng.random((4, rows))

        # Sittings: bingers watch 3-6 episodes in a row on weekends, weekly; others 1-2 every few days.
        binge = rng.random(count) < people.binge_chance[e_user]
        per_sitting = np.where(binge, rng.integers(3, 7, size=count), rng.integers(1, 3, size=count))[eng]
        gap_days = np.where(binge, 7.0, rng.uniform(1.0, 4.0, size=count))[eng]
        sitting = np.where(series, k // per_sitting, 0)
        in_sitting = np.where(series, k % per_sitting, 0)
        sitting_row = np.arange(rows) - in_sitting  # the sitting's first row carries its random draws
        start_day = timeline.to_local(engagements.start)[eng] // DAY
        day = start_day + np.floor(sitting * gap_days + row_draw[0][sitting_row] * 0.3 * gap_days).astype(
            np.int64
        )
        # Movie sessions: a resumed movie is finished the next day; a rewatch comes months later.
        movie_shift = np.where(resumed[eng] & (k >= 1), 1, 0) + np.where(
            rewatched[eng] & (k == rows_per[eng] - 1), rng.integers(30, 400, size=count)[eng], 0
        )
        day = np.where(series, day, start_day + movie_shift)
        to_weekend = series & binge[eng]
        sunday = (row_draw[1][sitting_row] < 0.4).astype(np.int64)
        day = np.where(to_weekend, day + (SATURDAY + sunday - weekday(day)) % 7, day)
        weekend = weekday(day) >= SATURDAY
        hour = sample_hours(rng, weekend)[sitting_row]
        minute = (row_draw[2][sitting_row] * 60).astype(np.int64)
        runtime = catalogue.title_runtime[title]
        local_start = (
            day * DAY
            + (hour + people.late_shift_hours[user]) * HOUR
            + minute * 60
            + in_sitting * (runtime + 60 + (row_draw[3] * 240).astype(np.int64))
        )
        started = timeline.to_utc(local_start)

        # How far each session got.
        last_of_engagement = k == rows_per[eng] - 1
        partial = np.where(
            series,
            (last_of_engagement & (plan[eng] == SERIES_ABANDONED) & (row_draw[1] < 0.5))
            | (row_draw[2] < 0.04),
            (resumed[eng] & (k == 0)) | given_up[eng],
        )
        complete_fraction = np.where(rng.random(rows) < 0.35, 1.0, rng.uniform(0.93, 1.0, size=rows))
        fraction = np.where(partial, rng.uniform(0.05, 0.85, size=rows), complete_fraction)
        duration = catalogue.duration[item]
        watched = np.round(duration * fraction).astype(np.int64)
        # Tenths of a percent, rounded half up as PostgreSQL's round() does.
        percent_tenths = (watched * 2000 + duration) // (2 * duration)
        pauses = np.where(
            rng.random(rows) < 0.4, (watched * rng.uniform(0.0, 0.15, size=rows)).astype(np.int64), 0
        )
        stopped = started + watched + pauses

        valid = (
            (started >= people.active_from[user])
            & (started < people.active_to[user])
            & (stopped <= timeline.now)
            & (started >= catalogue.added_at[item])
        )
        if len(self.forbidden_keys):
            keys = user * catalogue.title_count + title
            position = np.minimum(np.searchsorted(self.forbidden_keys, keys), len(self.forbidden_keys) - 1)
            valid &= self.forbidden_keys[position] != keys
        keep = np.flatnonzero(valid)
        return Sessions(
            user[keep], item[keep], started[keep], stopped[keep], watched[keep], percent_tenths[keep]
        )

    def sessions_for(
        self, rng: np.random.Generator, users: np.ndarray, quotas: np.ndarray, first: Engagements
    ) -> Sessions:
        """Exactly ``quotas[i]`` sessions for each of ``users`` (sorted; as far as their active period allows)."""
        deficit = quotas.copy()
        parts: list[Sessions] = []
        rows_per_engagement = self.expected_rows_per_engagement
        engagements = first
        for _ in range(MAX_ROUNDS):
            needy = deficit > 0
            if not needy.any():
                break
            counts = np.ceil(deficit[needy] / rows_per_engagement * 1.15).astype(np.int64) + 1
            extra = self.random_engagements(rng, users[needy], counts)
            engagements = Engagements(
                np.concatenate([engagements.user, extra.user]),
                np.concatenate([engagements.title, extra.title]),
                np.concatenate([engagements.start, extra.start]),
            )
            sessions = self.expand(rng, engagements)
            rows_per_engagement = max(1.0, sessions.count / max(1, len(engagements.user)))
            # Keep each member's first sessions (request-driven engagements come first) up to their deficit.
            local = np.searchsorted(users, sessions.user)
            order = np.argsort(local, kind="stable")
            local_sorted = local[order]
            group_start = np.searchsorted(local_sorted, local_sorted, side="left")
            rank = np.arange(len(order)) - group_start
            kept = order[rank < deficit[local_sorted]]
            kept.sort()
            parts.append(_take(sessions, kept))
            deficit -= np.bincount(local[kept], minlength=len(users))
            engagements = Engagements(*(np.zeros(0, dtype=np.int64) for _ in range(3)))
        return _concat(parts)


def _expected_rows_per_engagement(catalogue: Catalogue) -> float:
    """A first guess of the valid sessions one engagement yields, so the first round is about the right size."""
    series = catalogue.title_category != CATEGORY_MOVIE
    if not series.any():
        return 1.0
    weights = catalogue.title_popularity[series]
    episodes = float(np.average(catalogue.title_episode_count[series], weights=weights))
    shares = _SERIES_PLAN_SHARES
    series_rows = shares[0] * episodes + shares[1] * 2 + shares[2] * (episodes + 1) / 2
    # About half the engagements are series; some sessions fall outside the member's active time.
    return max(1.0, 0.6 * (0.5 * series_rows + 0.5 * 1.15))


def _take(sessions: Sessions, rows: np.ndarray) -> Sessions:
    return Sessions(
        sessions.user[rows],
        sessions.item[rows],
        sessions.started_at[rows],
        sessions.stopped_at[rows],
        sessions.watched_seconds[rows],
        sessions.percent_tenths[rows],
    )


def _concat(parts: list[Sessions]) -> Sessions:
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Sessions(empty, empty, empty, empty, empty, empty)
    return Sessions(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("user", "item", "started_at", "stopped_at", "watched_seconds", "percent_tenths")
        )
    )
