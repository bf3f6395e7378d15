"""One function that takes secrets out of text before it is logged, stored or shown.

Used by every log line (``RedactingFilter``), every stored error (``sync_schedule.last_error``,
``webhook_log.error``, ``api_logs.error_message``), the health reports and the tool results
handed to the model. It knows the shapes secrets travel in, not the secrets themselves, so a
key that was never configured (a proxy's, a typo's) is caught too:

- URL query parameters: ``?apikey=…``, ``&X-Plex-Token=…``, ``token``, ``password``, …
- URL user info: ``postgresql://user:SECRET@host/db``
- key=value and JSON forms: ``password=SECRET``, ``password='a b'``, ``"api_key": "SECRET"``
- headers: ``Authorization: Bearer SECRET``, ``X-Emby-Token: SECRET``, ``MediaBrowser Token="SECRET"``

Key names are matched case-insensitively.
"""

from __future__ import annotations

import logging
import re

MASK = "***"

# Names whose value is a secret, wherever they appear as ``name=value`` or ``name: value``.
_SECRET_NAMES = (
    "apikey",
    "api_key",
    "api-key",
    "x-api-key",
    "x-plex-token",
    "x-emby-token",
    "x-mediabrowser-token",
    "access_token",
    "accesstoken",
    "refresh_token",
    "token",
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "pickle_key",
)
_NAMES = "|".join(re.escape(name) for name in sorted(_SECRET_NAMES, key=len, reverse=True))

# ``name=value``, ``name: value``, ``"name": "value"``, ``'name': 'value'``; the name must not be
# the tail of a longer word (``input_tokens=5`` is not a secret).
_NAMED_VALUE = re.compile(
    rf"""(?ix)
    (?<![a-z0-9_.-])
    (?P<key>(?P<q>["']?)(?:{_NAMES})(?P=q)\s*(?:=|:)\s*)
    (?:
        "(?:[^"\\]|\\.)*"          # a double-quoted value
      | '(?:[^'\\]|\\.)*'          # a single-quoted value (libpq key=value)
      | [^\s&;,'"}}\]\\<>]+        # a bare value, up to the next separator
    )
    """
)
# ``Authorization: <scheme> <credentials…>`` to the end of the value (headers, dict reprs).
_AUTHORIZATION = re.compile(
    r"""(?ix)
    (?P<key>(?P<q>["']?)(?:x-emby-)?authorization(?P=q)\s*[:=]\s*)
    (?:"[^"\r\n]*"|'[^'\r\n]*'|[^\r\n,}]+)
    """
)
# A scheme and its credentials outside any header name (``Bearer abc`` in an error text).
_SCHEME_CREDENTIALS = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+")
# ``scheme://user:password@host``; the password runs to the last ``@`` of the authority.
_URL_USERINFO = re.compile(r"(?i)\b(?P<head>[a-z][a-z0-9+.-]*://[^:/?#@\s]*:)[^\s/?#]*@")


def _mask_named(match: re.Match[str]) -> str:
    value = match.group(0)[len(match.group("key")) :]
    quote = value[0] if value[:1] in ('"', "'") else ""
    return f"{match.group('key')}{quote}{MASK}{quote}"


def redact(text: str) -> str:
    """``text`` with every secret it carries replaced by ``***``."""
    if not text:
        return text
    text = _URL_USERINFO.sub(lambda m: f"{m.group('head')}{MASK}@", text)
    text = _AUTHORIZATION.sub(_mask_named, text)
    text = _NAMED_VALUE.sub(_mask_named, text)
    return _SCHEME_CREDENTIALS.sub(lambda m: f"{m.group(1)} {MASK}", text)


def redact_optional(text: str | None) -> str | None:
    return None if text is None else redact(text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (arguments merged in) and its traceback text without secrets.

    Installed on handlers, so that records of every logger, ours and the libraries', pass it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as usual
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Put one ``RedactingFilter`` on every handler of ``logger`` (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        existing = [f for f in handler.filters if isinstance(f, RedactingFilter)]
        if not existing:
            handler.addFilter(RedactingFilter())
