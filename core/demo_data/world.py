"""Everything generated before watch history: people, library, requests and the viewing plan."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.demo_data.catalogue import ALL_GENRES, Catalogue, generate_catalogue
from core.demo_data.config import DemoConfig
from core.demo_data.content_requests import Requests, generate_requests
from core.demo_data.people import People, generate_people
from core.demo_data.randomness import stage_rng
from core.demo_data.timeline import Timeline
from core.demo_data.viewing import (
    Engagements,
    TitleChooser,
    ViewingGenerator,
    never_watched_keys,
    request_engagements,
    user_quotas,
)

SESSIONS_PER_CHUNK = 200_000  # watch_history rows generated and sent at a time


@dataclass(frozen=True)
class World:
    config: DemoConfig
    timeline: Timeline
    people: People
    catalogue: Catalogue
    requests: Requests
    request_of_title: np.ndarray
    quotas: np.ndarray
    chunks: list[tuple[int, int]]  # user index ranges [lo, hi)
    requested_viewing: Engagements
    viewing: ViewingGenerator

    def chunk_engagements(self, lo: int, hi: int) -> Engagements:
        rows = (self.requested_viewing.user >= lo) & (self.requested_viewing.user < hi)
        e = self.requested_viewing
        return Engagements(e.user[rows], e.title[rows], e.start[rows])


def _user_chunks(quotas: np.ndarray) -> list[tuple[int, int]]:
    chunks: list[tuple[int, int]] = []
    lo, total = 0, 0
    for user, quota in enumerate(quotas.tolist()):
        if total and total + quota > SESSIONS_PER_CHUNK:
            chunks.append((lo, user))
            lo, total = user, 0
        total += quota
    chunks.append((lo, len(quotas)))
    return chunks


def build_world(config: DemoConfig) -> World:
    timeline = Timeline.build(config.resolved_now(), config.days, config.timezone)
    people = generate_people(stage_rng(config.seed, "people"), config.users, timeline, ALL_GENRES)
    catalogue = generate_catalogue(stage_rng(config.seed, "library"), config.items, timeline)
    requests = generate_requests(stage_rng(config.seed, "requests"), people, catalogue, timeline)
    quotas = user_quotas(stage_rng(config.seed, "quotas"), people, config.resolved_watch_rows())
    requested = request_engagements(stage_rng(config.seed, "requested viewing"), people, requests, timeline)
    viewing = ViewingGenerator(
        people,
        catalogue,
        timeline,
        TitleChooser(catalogue, ALL_GENRES),
        never_watched_keys(requests, catalogue.title_count),
    )
    return World(
        config=config,
        timeline=timeline,
        people=people,
        catalogue=catalogue,
        requests=requests,
        request_of_title=requests.request_of_title(catalogue.title_count),
        quotas=quotas,
        chunks=_user_chunks(quotas),
        requested_viewing=requested,
        viewing=viewing,
    )
