"""The Matrix key store is pickled with a key of Marquee's own, never matrix-nio's default.

With the default key ("DEFAULT_KEY"), anyone who can read the data directory can unpickle the
bot's Olm account and megolm sessions, and read every encrypted room the bot is in.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
import vodozemac
from nio.crypto.sessions import derive_pickle_key

from adapters.chat.matrix_connection import MatrixConnection
from adapters.chat.matrix_state import NIO_DEFAULT_PICKLE_KEY, MatrixState
from bot.runtime import matrix_config
from bot.settings import load_settings


async def _store_account_pickle(tmp_path: Path, pickle_key: str) -> str:
    """Let nio create its store as the bot would, and return the Olm account as written to disk."""
    settings = load_settings(
        data_dir=tmp_path, matrix_homeserver="http://127.0.0.1:1", matrix_user_id="@marquee:example.org"
    )
    state = MatrixState(tmp_path / "matrix")
    await state.open()
    client = MatrixConnection(matrix_config(settings), state, callbacks=()).build_client("http://127.0.0.1:1", "@marquee:example.org", pickle_key)
    client.restore_login("@marquee:example.org", "MARQUEEDEV", "access-token")  # opens the store, as on start
    await client.close()
    return _account_pickle(client.store_path)


def _account_pickle(store_path: str) -> str:
    database = next(Path(store_path).glob("*.db"))
    with sqlite3.connect(database) as connection:
        (account,) = connection.execute("SELECT account FROM accounts").fetchone()
    return account.decode() if isinstance(account, bytes) else str(account)


async def test_a_new_store_gets_a_random_key_kept_private_in_the_data_directory(tmp_path: Path) -> None:
    state = MatrixState(tmp_path / "matrix")
    await state.open()
    key = await state.pickle_key(None)

    assert key != NIO_DEFAULT_PICKLE_KEY and len(key) >= 32
    kept = tmp_path / "matrix" / "store_pickle_key"
    assert kept.read_text() == key
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert await MatrixState(tmp_path / "matrix").pickle_key(None) == key  # the same after a restart

    pickled = await _store_account_pickle(tmp_path, key)
    vodozemac.Account.from_pickle(pickled, derive_pickle_key(key))
    with pytest.raises(vodozemac.PickleException):
        vodozemac.Account.from_pickle(pickled, derive_pickle_key(NIO_DEFAULT_PICKLE_KEY))


async def test_the_setting_wins_over_the_kept_key(tmp_path: Path) -> None:
    state = MatrixState(tmp_path / "matrix")
    await state.open()
    assert await state.pickle_key("from-the-setting") == "from-the-setting"


async def test_a_store_made_before_keeps_the_key_it_was_made_with(tmp_path: Path) -> None:
    await _store_account_pickle(tmp_path, NIO_DEFAULT_PICKLE_KEY)  # what older versions wrote
    state = MatrixState(tmp_path / "matrix")
    await state.open()
    # Another key could not open it; the warning in the log says how to start a fresh store.
    assert await state.pickle_key(None) == NIO_DEFAULT_PICKLE_KEY
