"""What the Matrix bot is configured with: built by ``bot/`` from the settings and handed in.

The messages of ``MatrixSetupError`` name the settings (``MARQUEE_MATRIX_*``) a
self-hoster edits, since that is what they have to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


class MatrixSetupError(Exception):
    """The Matrix settings or credentials are wrong: retrying will not help. The message names the setting."""


@dataclass(frozen=True)
class MatrixConfig:
    homeserver: str | None
    user_id: str | None
    # Where the bot keeps its login, sync token, reactions and key store (``<data_dir>/matrix``).
    state_dir: Path
    access_token: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    device_id: str | None = None
    device_name: str = "Marquee"
    # Room ids or aliases (``#admins:example.org``) where admin commands are answered.
    admin_rooms: tuple[str, ...] = ()
    # Who may invite the bot; both empty: users of the bot's own homeserver.
    allowed_users: tuple[str, ...] = ()
    allowed_homeservers: tuple[str, ...] = ()
    # Encrypts the key store; None: a random key generated once in ``state_dir``.
    store_pickle_key: str | None = field(default=None, repr=False)
    # After a restart, answer messages up to this old; older ones get a short "I was offline" note.
    catch_up_seconds: float = 3600
    # The first wait before reconnecting after the connection was lost; it doubles with each failed try.
    reconnect_delay_seconds: float = 1.0

    def checked(self) -> tuple[str, str]:
        """The homeserver URL (without a trailing slash) and the user id, or a ``MatrixSetupError``."""
        if not self.homeserver:
            raise MatrixSetupError("MARQUEE_MATRIX_HOMESERVER is not set (e.g. https://matrix.example.org)")
        if not self.user_id or not re.fullmatch(r"@[^:\s]+:\S+", self.user_id):
            raise MatrixSetupError(
                "MARQUEE_MATRIX_USER_ID must be a full Matrix id such as @marquee:example.org"
            )
        if self.access_token is None and self.password is None:
            raise MatrixSetupError(
                "set MARQUEE_MATRIX_ACCESS_TOKEN or MARQUEE_MATRIX_PASSWORD for the Matrix bot"
            )
        return self.homeserver.rstrip("/"), self.user_id
