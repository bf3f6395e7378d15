"""A real Synapse homeserver on 127.0.0.1 for the Matrix tests.

Started once per test run as a subprocess (``python -m synapse.app.homeserver``)
from a generated config: no federation, registration closed except through the
shared-secret admin API, cheap bcrypt, rate limits raised so that tests never
wait on a 429, sqlite in a temporary directory. Everything it needs comes with
``pip install -e '.[test]'`` (``matrix-synapse`` is in the test extra).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

SERVER_NAME = "marquee.test"
STARTUP_TIMEOUT_SECONDS = 90.0

# Generous limits: a test run sends a few hundred requests in seconds.
_UNLIMITED = {"per_second": 1000, "burst_count": 1000}
_RATE_LIMITS = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
    "rc_key_requests": _UNLIMITED,
    "rc_admin_redaction": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_signing_key(path: Path) -> None:
    # signedjson comes with Synapse; the key format is "<alg> <version> <unpadded base64 seed>".
    from signedjson.key import generate_signing_key, write_signing_keys

    with path.open("w") as handle:
        write_signing_keys(handle, [generate_signing_key("a_test")])


def _config(directory: Path, port: int, shared_secret: str) -> dict[str, object]:
    log_config = directory / "log.yaml"
    log_config.write_text(
        json.dumps(
            {
                "version": 1,
                "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
                "handlers": {
                    "file": {
                        "class": "logging.FileHandler",
                        "filename": str(directory / "homeserver.log"),
                        "formatter": "plain",
                    }
                },
                "root": {"level": "WARNING", "handlers": ["file"]},
                "disable_existing_loggers": False,
            }
        )
    )
    return {
        "server_name": SERVER_NAME,
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "log_config": str(log_config),
        "media_store_path": str(directory / "media"),
        "signing_key_path": str(directory / "signing.key"),
        "registration_shared_secret": shared_secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "enable_registration": False,
        "report_stats": False,
        "bcrypt_rounds": 4,
        "federation_domain_whitelist": [],
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "enable_metrics": False,
        **_RATE_LIMITS,
    }


@dataclass(frozen=True)
class SynapseServer:
    base_url: str
    server_name: str
    shared_secret: str

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{self.server_name}"

    async def register(self, localpart: str, password: str, *, admin: bool = False) -> str:
        """Create an account through the shared-secret admin API and return its user id."""
        url = f"{self.base_url}/_synapse/admin/v1/register"
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                response.raise_for_status()
                nonce = (await response.json())["nonce"]
            mac = hmac.new(self.shared_secret.encode(), nonce.encode(), digestmod=hashlib.sha1)
            for part in (localpart, password, "admin" if admin else "notadmin"):
                mac.update(b"\x00" + part.encode())
            body = {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            }
            async with session.post(url, json=body) as response:
                payload = await response.json()
                if response.status != 200:
                    raise RuntimeError(f"registering {localpart} failed: {payload}")
        return str(payload["user_id"])


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, directory: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{base_url}/_matrix/client/versions", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    process.terminate()
    logs = "\n".join(
        path.read_text(errors="replace")[-4000:]
        for path in (directory / "stdout.log", directory / "homeserver.log")
        if path.exists()
    )
    raise RuntimeError(f"Synapse did not answer on {base_url} (exit code {process.poll()}):\n{logs}")


@contextmanager
def running_synapse(directory: Path) -> Iterator[SynapseServer]:
    """Start Synapse with its config, database and logs in ``directory``; stop it on exit.

    Tests use it through a session-scoped fixture, so one server serves the whole run.
    """
    port = free_port()
    shared_secret = secrets.token_hex(16)
    _write_signing_key(directory / "signing.key")
    config_path = directory / "homeserver.yaml"
    # JSON is YAML: no YAML writer needed.
    config_path.write_text(json.dumps(_config(directory, port, shared_secret), indent=2))
    with (directory / "stdout.log").open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config_path)],
            cwd=directory,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, base_url, directory)
        yield SynapseServer(base_url=base_url, server_name=SERVER_NAME, shared_secret=shared_secret)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
