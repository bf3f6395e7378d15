"""Invented titles and summaries, built from the word lists by a handful of patterns."""

from __future__ import annotations

import numpy as np

from core.demo_data.vocabulary import (
    ADJECTIVES,
    ANIME_ROLES,
    FIRST_NAMES,
    GERUNDS,
    JAPANESE_WORDS,
    NOUNS,
    PLACES,
    PLURALS,
    SUMMARY_HEROES,
    SUMMARY_PLOTS,
    SUMMARY_TONES,
    SURNAMES,
)


def _pick(rng: np.random.Generator, words: list[str] | tuple[str, ...], count: int) -> list[str]:
    return [words[i] for i in rng.integers(0, len(words), size=count).tolist()]


def _article(word: str) -> str:
    return "An" if word[0] in "AEIOU" else "A"


def movie_titles(rng: np.random.Generator, count: int) -> list[str]:
    adj, noun, noun2 = _pick(rng, ADJECTIVES, count), _pick(rng, NOUNS, count), _pick(rng, NOUNS, count)
    place, gerund, name = (
        _pick(rng, PLACES, count),
        _pick(rng, GERUNDS, count),
        _pick(rng, FIRST_NAMES, count),
    )
    plural = _pick(rng, PLURALS, count)
    patterns = rng.integers(0, 11, size=count).tolist()
    sequel = rng.random(count) < 0.06
    titles = []
    for i, p in enumerate(patterns):
        if p == 0:
            title = f"The {adj[i]} {noun[i]}"
        elif p == 1:
            title = f"{noun[i]} of {place[i]}"
        elif p == 2:
            title = f"{adj[i]} {plural[i]}"
        elif p == 3:
            title = f"{gerund[i]} {place[i]}"
        elif p == 4:
            title = f"{name[i]}'s {noun[i]}"
        elif p == 5:
            title = f"The {noun[i]} and the {noun2[i]}"
        elif p == 6:
            title = f"Beyond the {adj[i]} {noun[i]}"
        elif p == 7:
            title = f"{_article(noun[i])} {noun[i]} in {place[i]}"
        elif p == 8:
            title = f"{place[i]}"
        elif p == 9:
            title = f"The Last {noun[i]} of {place[i]}"
        else:
            title = f"{gerund[i]} the {noun[i]}"
        if sequel[i]:
            title += " II" if i % 2 else ": Part Two"
        titles.append(title)
    return titles


def show_titles(rng: np.random.Generator, count: int) -> list[str]:
    adj, noun, place = _pick(rng, ADJECTIVES, count), _pick(rng, NOUNS, count), _pick(rng, PLACES, count)
    plural, surname, surname2 = (
        _pick(rng, PLURALS, count),
        _pick(rng, SURNAMES, count),
        _pick(rng, SURNAMES, count),
    )
    patterns = rng.integers(0, 8, size=count).tolist()
    titles = []
    for i, p in enumerate(patterns):
        if p == 0:
            title = f"{place[i]} {plural[i]}"
        elif p == 1:
            title = f"The {plural[i]}"
        elif p == 2:
            title = f"{adj[i]} {plural[i]}"
        elif p == 3:
            title = f"{surname[i]} & {surname2[i]}"
        elif p == 4:
            title = f"{noun[i]} Street"
        elif p == 5:
            title = f"The {surname[i]}s"
        elif p == 6:
            title = f"{place[i]}"
        else:
            title = f"The {adj[i]} {noun[i]}"
        titles.append(title)
    return titles


def anime_titles(rng: np.random.Generator, count: int) -> list[str]:
    jp, jp2 = _pick(rng, JAPANESE_WORDS, count), _pick(rng, JAPANESE_WORDS, count)
    role, noun, adj = _pick(rng, ANIME_ROLES, count), _pick(rng, NOUNS, count), _pick(rng, ADJECTIVES, count)
    place = _pick(rng, PLACES, count)
    patterns = rng.integers(0, 6, size=count).tolist()
    titles = []
    for i, p in enumerate(patterns):
        if p == 0:
            title = f"{jp[i]} no {jp2[i]}"
        elif p == 1:
            title = f"I Became the {role[i]} of {place[i]}"
        elif p == 2:
            title = f"{adj[i]} {noun[i]}: {jp[i]}"
        elif p == 3:
            title = f"The {role[i]} Who Lost the {noun[i]}"
        elif p == 4:
            title = f"{jp[i]}{jp2[i].lower()}!"
        else:
            title = f"My Neighbour Is {_article(role[i]).lower()} {role[i]}"
        titles.append(title)
    return titles


def episode_titles(rng: np.random.Generator, count: int) -> list[str]:
    adj, noun, noun2 = _pick(rng, ADJECTIVES, count), _pick(rng, NOUNS, count), _pick(rng, NOUNS, count)
    patterns = rng.integers(0, 5, size=count).tolist()
    titles = []
    for i, p in enumerate(patterns):
        if p == 0:
            titles.append(f"The {noun[i]}")
        elif p == 1:
            titles.append(f"{adj[i]} {noun[i]}")
        elif p == 2:
            titles.append(f"{noun[i]} and {noun2[i]}")
        elif p == 3:
            titles.append(f"The {adj[i]} Hour")
        else:
            titles.append(f"{_article(noun[i])} {noun[i]} Returns")
    return titles


def summaries(rng: np.random.Generator, genres: list[list[str]]) -> list[str]:
    count = len(genres)
    tone, hero, plot = (
        _pick(rng, SUMMARY_TONES, count),
        _pick(rng, SUMMARY_HEROES, count),
        _pick(rng, SUMMARY_PLOTS, count),
    )
    place = _pick(rng, PLACES, count)
    return [
        f"{tone[i]} {genres[i][0].lower()} in which {hero[i]} {plot[i]} in {place[i]}." for i in range(count)
    ]
