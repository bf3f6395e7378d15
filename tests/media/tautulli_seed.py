"""The users and plays behind tests/media/payloads/tautulli-*.json, recorded from the real Tautulli 2.17.2.

``record_tautulli_payloads`` (run by hand: ``python -m tests.media.tautulli_seed``)
seeds a real Tautulli with these rows and saves its answers; FakeTautulli answers
from those files, and test_real_tautulli.py checks the fake still matches the real one.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from .real_tautulli import SeedPlay, SeedUser, TautulliInstaller, TautulliProcess

PAYLOADS = Path(__file__).parent / "payloads"

USERS = [
    SeedUser(133788, "Jon Snow", email="Jon.Snow.1337@CastleBlack.com"),
    SeedUser(8008135, "DanyKhaleesi69", is_admin=1),
    SeedUser(4242, "Hodor", is_active=0),  # a friend removed from the Plex server
]

GOT = {"media_type": "episode", "title": "The Red Woman", "year": 2016, "parent_rating_key": 544,
       "grandparent_rating_key": 351, "grandparent_title": "Game of Thrones", "media_index": 1,
       "parent_media_index": 6}  # fmt: skip
PLAYS = [
    SeedPlay(8008135, 4348, 1462688107, 1462688370, 2_520_000, 3_000_000, **GOT),  # type: ignore[arg-type]
    SeedPlay(133788, 4348, 1462700000, 1462703000, 3_000_000, 3_000_000, **GOT),  # type: ignore[arg-type]
    SeedPlay(133788, 4400, 1462800000, 1462800263, 5_846_400, 6_960_000, title="Arrival"),
    SeedPlay(
        133788, 999, 1462900000, 1462900200, 200_000, 240_000, media_type="track", title="A song", year=""
    ),
]

RECORDED = {
    "get_users": {},
    "get_users_table": {"order_column": "last_seen", "start": 0, "length": 25},
    "get_history": {"order_column": "date", "order_dir": "asc", "grouping": 0, "start": 0, "length": 25},
    "get_activity": {},
}


def seed(server: TautulliProcess) -> None:
    server.add_users(USERS)
    for play in PLAYS:
        server.add_play(play)


def answers(server: TautulliProcess) -> dict[str, tuple[int, Any]]:
    recorded = {cmd: server.api(cmd, **params) for cmd, params in RECORDED.items()}
    recorded["wrong_key"] = server.api("get_users", apikey="0" * 32)
    return recorded


def record_tautulli_payloads() -> None:
    root = Path(tempfile.mkdtemp())
    installer = TautulliInstaller(root)
    installer.prepare()
    with installer.server(root, "UTC") as server:
        seed(server)
        for name, (status, body) in answers(server).items():
            path = PAYLOADS / f"tautulli-{name.replace('_', '-')}.json"
            path.write_text(json.dumps({"status": status, "body": body}, indent=1) + "\n", encoding="utf-8")
            print(path, status, file=sys.stderr)


if __name__ == "__main__":
    record_tautulli_payloads()
