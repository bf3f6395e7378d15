"""The security tests reuse the webhook app fixture of the HTTP server tests."""

from http_server.conftest import client  # noqa: F401  (a fixture, used by name)
