"""The server's members: names, roles, when they joined and how they watch.

User 0 is always ``alice`` (the first admin) and user 1 ``bob`` (an ordinary,
active member), so the demo can say "try --as bob".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.demo_data.randomness import sorted_uuid_words
from core.demo_data.timeline import DAY, HOUR, Timeline
from core.demo_data.vocabulary import FIRST_NAMES, SURNAMES

FIXED_MEMBERS = (("alice", "Alice", "Moreau"), ("bob", "Bob", "Lindqvist"))
EMAIL_DOMAIN = "example.net"


@dataclass(frozen=True)
class People:
    ids: np.ndarray  # (n, 2) uint64 uuid words
    usernames: list[str]
    display_names: list[str]
    emails: list[str | None]
    is_admin: np.ndarray  # bool
    created_at: np.ndarray  # Unix seconds
    active_from: np.ndarray  # first moment they may play something
    active_to: np.ndarray  # last moment they may play something (long ago for inactive members)
    last_login_at: np.ndarray
    login_count: np.ndarray
    shares_activity: np.ndarray  # bool
    activity: np.ndarray  # relative amount of viewing
    binge_chance: np.ndarray  # chance that a series is watched in weekend binges
    late_shift_hours: np.ndarray  # night owls watch an hour or two later
    category_mix: np.ndarray  # (n, 3) chance of a movie, a TV show, an anime per engagement
    favourite_genres: list[tuple[str, str]]
    rating_bias: np.ndarray  # how generous their ratings are
    approval_hours: np.ndarray  # admins: median hours before they act on a request

    @property
    def count(self) -> int:
        return len(self.usernames)


def _names(rng: np.random.Generator, count: int) -> tuple[list[str], list[str]]:
    usernames = [m[0] for m in FIXED_MEMBERS][:count]
    display_names = [f"{m[1]} {m[2]}" for m in FIXED_MEMBERS][:count]
    taken = set(usernames)
    firsts = [n for n in FIRST_NAMES if n.lower() not in taken]
    while len(usernames) < count:
        first = firsts[int(rng.integers(len(firsts)))]
        last = SURNAMES[int(rng.integers(len(SURNAMES)))]
        candidates = [first.lower(), f"{first.lower()}{last[0].lower()}", f"{first.lower()}.{last.lower()}"]
        username = next((c for c in candidates if c not in taken), None)
        if username is None:
            username = f"{first.lower()}{int(rng.integers(10, 100))}"
            if username in taken:
                continue
        taken.add(username)
        usernames.append(username)
        display_names.append(f"{first} {last}")
    return usernames, display_names


def generate_people(rng: np.random.Generator, count: int, timeline: Timeline, genres: list[str]) -> People:
    now, start = timeline.now, timeline.window_start
    span = now - start
    usernames, display_names = _names(rng, count)
    emails: list[str | None] = [
        None if i > 1 and rng.random() < 0.15 else f"{name}@{EMAIL_DOMAIN}"
        for i, name in enumerate(usernames)
    ]

    is_admin = np.zeros(count, dtype=bool)
    is_admin[0] = True
    admin_count = 2 if count < 30 else 3
    others = np.arange(2, count)
    is_admin[rng.choice(others, size=admin_count - 1, replace=False)] = True

    # Most members joined before the history window; some joined during it.
    created_at = start - rng.integers(0, 3 * 365 * DAY, size=count)
    ordinary = np.flatnonzero(~is_admin)
    ordinary = ordinary[ordinary != 1]  # bob is a long-standing, active member
    newcomer = np.zeros(count, dtype=bool)
    newcomer[ordinary[rng.random(len(ordinary)) < 0.12]] = True
    created_at[newcomer] = start + (rng.random(int(newcomer.sum())) * 0.6 * span).astype(np.int64)
    active_from = np.maximum(created_at, start)

    # Active members watched until the last day or so; inactive ones stopped long ago.
    active_to = now - rng.integers(0, 36 * HOUR, size=count)
    candidates = ordinary[~newcomer[ordinary]]
    inactive_count = max(1, round(0.15 * count))
    inactive = rng.choice(candidates, size=min(inactive_count, len(candidates)), replace=False)
    gap_days = rng.uniform(
        max(30.0, 0.3 * timeline_days(timeline)),
        max(31.0, 0.85 * timeline_days(timeline)),
        size=len(inactive),
    )
    gap_days = np.minimum(gap_days, 0.85 * timeline_days(timeline))
    active_to[inactive] = now - (gap_days * DAY).astype(np.int64)
    active_to = np.maximum(active_to, active_from + DAY)

    last_login_at = active_to + (rng.random(count) * np.minimum(now - active_to, DAY)).astype(np.int64)
    logins_per_day = rng.lognormal(-1.0, 0.6, size=count)
    account_days = (last_login_at - created_at) / DAY
    login_count = np.maximum(1, np.round(account_days * logins_per_day)).astype(np.int64)

    shares_activity = rng.random(count) < 0.12
    shares_activity[1] = True  # bob opted in, so admin mode has someone to show

    activity = rng.lognormal(0.0, 0.7, size=count)
    activity[1] = max(activity[1], 1.0)  # bob has plenty to talk about
    binge_chance = rng.beta(2.0, 3.0, size=count)
    late_shift_hours = rng.choice([0, 0, 0, 1, 2], size=count)
    anime_fan = rng.random(count) < 0.3
    category_mix = np.column_stack(
        [
            rng.uniform(0.3, 0.65, size=count),
            rng.uniform(0.3, 0.6, size=count),
            np.where(anime_fan, 0.45, 0.04),
        ]
    )
    category_mix /= category_mix.sum(axis=1, keepdims=True)
    picks = rng.integers(0, len(genres), size=(count, 2))
    favourite_genres = [(genres[a], genres[b]) for a, b in picks.tolist()]
    rating_bias = rng.normal(0.0, 0.8, size=count)
    approval_hours = np.where(is_admin, rng.choice([2.0, 9.0, 30.0], size=count), 0.0)
    approval_hours[0] = 3.0  # alice answers requests fastest

    return People(
        ids=sorted_uuid_words(rng, count),
        usernames=usernames,
        display_names=display_names,
        emails=emails,
        is_admin=is_admin,
        created_at=created_at,
        active_from=active_from,
        active_to=active_to,
        last_login_at=last_login_at,
        login_count=login_count,
        shares_activity=shares_activity,
        activity=activity,
        binge_chance=binge_chance,
        late_shift_hours=late_shift_hours,
        category_mix=category_mix,
        favourite_genres=favourite_genres,
        rating_bias=rating_bias,
        approval_hours=approval_hours,
    )


def timeline_days(timeline: Timeline) -> float:
    return (timeline.now - timeline.window_start) / DAY
