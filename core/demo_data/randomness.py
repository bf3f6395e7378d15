"""Seeded randomness: one independent generator per stage, and ids drawn from it.

Each stage gets its own stream derived from (seed, stage name), so a change in
how much randomness one stage draws never shifts the data of another stage.
"""

from __future__ import annotations

import uuid
import zlib

import numpy as np

_VERSION_MASK = np.uint64(0xFFFF_FFFF_FFFF_0FFF)
_VERSION_4 = np.uint64(0x4000)
_VARIANT_MASK = np.uint64(0x3FFF_FFFF_FFFF_FFFF)
_VARIANT_RFC4122 = np.uint64(0x8000_0000_0000_0000)


def stage_rng(seed: int, stage: str) -> np.random.Generator:
    sequence = np.random.SeedSequence(
        [seed & 0xFFFF_FFFF, (seed >> 32) & 0xFFFF_FFFF, zlib.crc32(stage.encode())]
    )
    return np.random.Generator(np.random.PCG64(sequence))


def uuid_words(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` random version-4 UUIDs as a (count, 2) uint64 array: high and low 64 bits."""
    words = rng.integers(0, np.iinfo(np.uint64).max, size=(count, 2), dtype=np.uint64, endpoint=True)
    words[:, 0] = (words[:, 0] & _VERSION_MASK) | _VERSION_4
    words[:, 1] = (words[:, 1] & _VARIANT_MASK) | _VARIANT_RFC4122
    return words


def sorted_uuid_words(rng: np.random.Generator, count: int) -> np.ndarray:
    """Random UUIDs in ascending order: rows written in index order are then also in id order,
    which makes PostgreSQL's index builds over them (e.g. on (user_id, media_item_id)) much cheaper."""
    words = uuid_words(rng, count)
    return words[np.lexsort((words[:, 1], words[:, 0]))]


def as_uuids(words: np.ndarray) -> list[uuid.UUID]:
    """The Python UUIDs of a (count, 2) uint64 array, for the smaller tables written row by row."""
    return [uuid.UUID(int=(int(high) << 64) | int(low)) for high, low in words.tolist()]
