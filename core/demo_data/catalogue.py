"""The library: Movies, TV Shows and Anime, with shows' seasons and episodes.

Items are laid out so that a show's episodes directly follow the show in
season/episode order; a series engagement is then a contiguous range of items.
A "title" is something one chooses to watch: a movie or a show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.demo_data.randomness import sorted_uuid_words
from core.demo_data.timeline import DAY, Timeline
from core.demo_data.titles import anime_titles, episode_titles, movie_titles, show_titles, summaries
from core.demo_data.vocabulary import ANIME_GENRES, MOVIE_GENRES, SHOW_GENRES

MOVIE, SHOW, EPISODE = 0, 1, 2
MEDIA_TYPES = ("movie", "show", "episode")
LIBRARIES = ("Movies", "TV Shows", "Anime")
MOVIES_LIBRARY, TV_LIBRARY, ANIME_LIBRARY = 0, 1, 2
# What a title is, for the viewers' tastes: a movie, a TV show, an anime show.
CATEGORY_MOVIE, CATEGORY_TV, CATEGORY_ANIME = 0, 1, 2

ALL_GENRES = sorted(set(MOVIE_GENRES) | set(SHOW_GENRES) | set(ANIME_GENRES) | {"Animation"})
_MOVIE_GENRE_WEIGHTS = {"Drama": 5.0, "Comedy": 4.0, "Action": 3.5, "Thriller": 3.0, "Adventure": 2.0}
_SHOW_GENRE_WEIGHTS = {"Drama": 5.0, "Comedy": 4.5, "Crime": 3.0, "Mystery": 2.0}

MOVIE_SHARE = 0.32
ANIME_SHOW_SHARE = 0.25
ANIME_MOVIE_SHARE = 0.06
SIZE_UNKNOWN_SHARE = 0.07  # files whose size the server never reported


@dataclass
class Catalogue:
    ids: np.ndarray  # (n, 2) uint64 uuid words
    kind: np.ndarray  # MOVIE / SHOW / EPISODE
    library: np.ndarray
    parent: np.ndarray  # item index of an episode's show, else -1
    season: np.ndarray  # 0 when not an episode
    episode: np.ndarray
    year: np.ndarray
    duration: np.ndarray  # seconds
    file_size: np.ndarray  # bytes
    file_size_null: np.ndarray  # bool
    added_at: np.ndarray  # Unix seconds
    titles: list[str]
    metadata: list[dict[str, object]]
    item_title: np.ndarray  # the title (movie or show) each item belongs to
    # per title
    title_item: np.ndarray
    title_category: np.ndarray
    title_first_episode: np.ndarray  # item index of S1E1, -1 for movies
    title_episode_count: np.ndarray
    title_runtime: np.ndarray  # typical seconds of one movie/episode
    title_rating: np.ndarray  # audience rating 0-10
    title_popularity: np.ndarray
    title_genres: np.ndarray  # (titles, len(ALL_GENRES)) bool
    tmdb_ids: np.ndarray  # per title
    tvdb_ids: np.ndarray  # per title, 0 for movies
    imdb_numbers: np.ndarray  # per title, 0 for shows

    @property
    def count(self) -> int:
        return len(self.titles)

    @property
    def title_count(self) -> int:
        return len(self.title_item)

    def bytes_per_second(self) -> np.ndarray:
        """Each item's average bitrate in bytes per second (a typical one where the size is unknown)."""
        rate = np.where(self.duration > 0, self.file_size / np.maximum(self.duration, 1), 0.0)
        return np.where(self.file_size_null | (rate <= 0), 1_000_000.0, rate)


def _episode_plan(rng: np.random.Generator, anime: bool, cap: int) -> list[int]:
    """Episodes per season of one show."""
    seasons = min(int(rng.geometric(0.45)), 10)
    options = [12, 12, 13, 13, 24, 25] if anime else [6, 8, 10, 10, 12, 13, 22, 24]
    plan = [int(options[int(rng.integers(len(options)))]) for _ in range(seasons)]
    while sum(plan) > cap and len(plan) > 1:
        plan.pop()
    plan[0] = min(plan[0], cap)
    return plan


def _genres(
    rng: np.random.Generator, pool: tuple[str, ...], weights: dict[str, float], count: int
) -> list[list[str]]:
    """One to three distinct genres per title, common genres more often (weighted sampling by random keys)."""
    w = np.array([weights.get(g, 1.0) for g in pool])
    keys = rng.random((count, len(pool))) ** (1.0 / w)
    order = np.argsort(-keys, axis=1)[:, :3].tolist()
    sizes = rng.choice([1, 2, 2, 3], size=count).tolist()
    return [[pool[g] for g in order[t][: sizes[t]]] for t in range(count)]


def _unique_ids(rng: np.random.Generator, count: int, start: int) -> np.ndarray:
    """Distinct, shuffled catalogue ids (tmdb, tvdb, imdb numbers)."""
    ids = start + np.cumsum(rng.integers(1, 40, size=count))
    return rng.permutation(ids)


def generate_catalogue(rng: np.random.Generator, items: int, timeline: Timeline) -> Catalogue:
    movies = round(items * MOVIE_SHARE)
    remaining = items - movies
    # Cap a show's length so that small libraries still get several shows.
    cap = max(4, remaining // 4 - 1)
    plans: list[list[int]] = []
    show_anime: list[bool] = []
    used = 0
    while used < remaining:
        anime = bool(rng.random() < ANIME_SHOW_SHARE)
        plan = _episode_plan(rng, anime, cap)
        left = remaining - used - 1
        if left < 1:  # no room for an episode: give the slot to a movie
            movies += remaining - used
            break
        while sum(plan) > left:
            if len(plan) > 1:
                plan.pop()
            else:
                plan[0] = left
        plans.append(plan)
        show_anime.append(anime)
        used += 1 + sum(plan)
    shows = len(plans)
    titles_total = movies + shows

    # Per title ----------------------------------------------------------------
    category = np.concatenate(
        [
            np.full(movies, CATEGORY_MOVIE),
            np.where(np.array(show_anime, dtype=bool), CATEGORY_ANIME, CATEGORY_TV),
        ]
    ).astype(np.int8)
    anime_movie = np.zeros(titles_total, dtype=bool)
    anime_movie[:movies] = rng.random(movies) < ANIME_MOVIE_SHARE
    episode_counts = np.array([0] * movies + [sum(p) for p in plans], dtype=np.int64)

    names = movie_titles(rng, movies)
    tv_names = iter(show_titles(rng, shows))
    anime_names = iter(anime_titles(rng, shows))
    names += [next(anime_names) if a else next(tv_names) for a in show_anime]

    genre_lists: list[list[str]] = []
    movie_genres = _genres(rng, MOVIE_GENRES, _MOVIE_GENRE_WEIGHTS, titles_total)
    show_genres = _genres(rng, SHOW_GENRES, _SHOW_GENRE_WEIGHTS, titles_total)
    anime_genres = _genres(rng, ANIME_GENRES, {}, titles_total)
    for t in range(titles_total):
        if anime_movie[t] or category[t] == CATEGORY_ANIME:
            genre_lists.append(["Animation", *anime_genres[t][:2]])
        elif category[t] == CATEGORY_MOVIE:
            genre_lists.append(movie_genres[t])
        else:
            genre_lists.append(show_genres[t])
    genre_index = {g: i for i, g in enumerate(ALL_GENRES)}
    title_genres = np.zeros((titles_total, len(ALL_GENRES)), dtype=bool)
    for t, genres in enumerate(genre_lists):
        title_genres[t, [genre_index[g] for g in genres]] = True

    rating = np.round(np.clip(rng.normal(6.5, 1.2, size=titles_total), 1.0, 9.7), 1)
    span = timeline.now - timeline.library_start
    # The library grew over the years, faster lately.
    title_added = timeline.library_start + (rng.random(titles_total) ** 0.75 * span).astype(np.int64)
    added_year = (1970 + title_added / (365.25 * DAY)).astype(np.int64)
    year = np.maximum(1950, added_year - np.minimum(rng.geometric(0.18, size=titles_total) - 1, 60))
    runtime = np.where(
        category == CATEGORY_MOVIE,
        np.clip(rng.normal(108, 18, size=titles_total), 75, 200) * 60,
        np.where(
            category == CATEGORY_ANIME, 24 * 60, rng.choice([22, 30, 45, 50, 60], size=titles_total) * 60
        ),
    ).astype(np.int64)
    recent = title_added > timeline.now - 365 * DAY
    popularity = (
        rng.lognormal(0.0, 1.0, size=titles_total) * np.exp(0.5 * (rating - 6.5)) * np.where(recent, 2.0, 1.0)
    )

    # Items: each movie, then each show followed by its episodes ---------------
    per_title_items = 1 + episode_counts
    title_item = np.concatenate([[0], np.cumsum(per_title_items)[:-1]]).astype(np.int64)
    n = int(per_title_items.sum())
    item_title = np.repeat(np.arange(titles_total), per_title_items)
    position = np.arange(n) - title_item[item_title]  # 0 = the movie/show row, k = k-th episode
    kind = np.where(position == 0, np.where(category[item_title] == CATEGORY_MOVIE, MOVIE, SHOW), EPISODE)
    kind = kind.astype(np.int8)
    library = np.where(
        category[item_title] == CATEGORY_ANIME,
        ANIME_LIBRARY,
        np.where(category[item_title] == CATEGORY_TV, TV_LIBRARY, MOVIES_LIBRARY),
    )
    library = np.where(anime_movie[item_title], ANIME_LIBRARY, library).astype(np.int8)
    parent = np.where(kind == EPISODE, title_item[item_title], -1)
    title_first_episode = np.where(episode_counts > 0, title_item + 1, -1)

    season = np.zeros(n, dtype=np.int64)
    episode = np.zeros(n, dtype=np.int64)
    season_index = np.zeros(n, dtype=np.int64)  # 0-based season, for added dates
    season_count = np.ones(n, dtype=np.int64)
    for s, plan in enumerate(plans):
        first = int(title_item[movies + s]) + 1
        seasons = np.repeat(np.arange(1, len(plan) + 1), plan)
        numbers = np.concatenate([np.arange(1, k + 1) for k in plan])
        season[first : first + len(seasons)] = seasons
        episode[first : first + len(seasons)] = numbers
        season_index[first : first + len(seasons)] = seasons - 1
        season_count[first : first + len(seasons)] = len(plan)

    # A show's later seasons arrived after its first; episodes of a season together.
    show_added = title_added[item_title]
    season_fraction = season_index / season_count * rng.uniform(0.6, 1.0, size=titles_total)[item_title]
    added_at = show_added + (season_fraction * (timeline.now - show_added)).astype(np.int64) + episode * 60
    added_at = np.minimum(added_at, timeline.now - 3600)

    duration = runtime[item_title] + rng.integers(-120, 121, size=n) * (kind == EPISODE)
    duration = np.maximum(duration, 600)
    # 4K, 1080p and 720p files; episodes are smaller encodes.
    movie_bitrate = rng.choice([4.0e6, 10.0e6, 10.0e6, 10.0e6, 25.0e6], size=n)
    episode_bitrate = rng.choice([2.5e6, 4.0e6, 6.0e6], size=n)
    bitrate = np.where(kind == EPISODE, episode_bitrate, movie_bitrate) * rng.uniform(0.8, 1.2, size=n)
    file_size = (duration * bitrate / 8).astype(np.int64)
    file_size_null = (kind == SHOW) | (rng.random(n) < SIZE_UNKNOWN_SHARE)
    file_size = np.where(file_size_null, 0, file_size)

    title_summaries = summaries(rng, genre_lists)
    names_of_episodes = episode_titles(rng, n)
    item_names: list[str] = []
    metadata: list[dict[str, object]] = []
    for i, (t, p, k) in enumerate(zip(item_title.tolist(), position.tolist(), kind.tolist(), strict=True)):
        if p == 0:
            item_names.append(names[t])
            metadata.append(
                {"genres": genre_lists[t], "rating": float(rating[t]), "summary": title_summaries[t]}
            )
        else:
            item_names.append(
                "Pilot" if season[i] == 1 and episode[i] == 1 and k == EPISODE else names_of_episodes[i]
            )
            metadata.append({})

    tmdb = _unique_ids(rng, titles_total, 10_000)
    tvdb = np.where(category != CATEGORY_MOVIE, _unique_ids(rng, titles_total, 70_000), 0)
    imdb = np.where(category == CATEGORY_MOVIE, _unique_ids(rng, titles_total, 100_000), 0)

    return Catalogue(
        ids=sorted_uuid_words(rng, n),
        kind=kind,
        library=library,
        parent=parent,
        season=season,
        episode=episode,
        year=year[item_title],
        duration=duration,
        file_size=file_size,
        file_size_null=file_size_null,
        added_at=added_at,
        titles=item_names,
        metadata=metadata,
        item_title=item_title,
        title_item=title_item,
        title_category=category,
        title_first_episode=title_first_episode,
        title_episode_count=episode_counts,
        title_runtime=runtime,
        title_rating=rating,
        title_popularity=popularity,
        title_genres=title_genres,
        tmdb_ids=tmdb,
        tvdb_ids=tvdb,
        imdb_numbers=imdb,
    )


def mark_arrival(catalogue: Catalogue, title: int, arrived_at: int) -> None:
    """A requested title arrived at ``arrived_at``: it and all its episodes were added then."""
    first = int(catalogue.title_item[title])
    last = first + 1 + int(catalogue.title_episode_count[title])
    catalogue.added_at[first:last] = arrived_at + np.arange(last - first) * 60
    catalogue.title_popularity[title] *= 3.0  # people watch what was asked for
