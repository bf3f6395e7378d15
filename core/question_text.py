"""What a question is made of before anything else sees it: clean, normalised, bounded text.

Every chat platform delivers what its users type, and anyone can type anything: a NUL
(which PostgreSQL text cannot hold, so the message could not be recorded), other control
characters, lone surrogates (which no encoder accepts), look-alike compatibility forms
(full-width letters, ligatures) and megabytes of text. The question is cleaned first, then its
length is checked against the cap, so that nothing downstream — the router, the model,
PostgreSQL's trigram search — ever gets more than the cap.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

DEFAULT_MAX_QUESTION_CHARS = 2000
# Lone surrogates (Unicode category Cs): no encoder accepts them.
_SURROGATES = re.compile("[\ud800-\udfff]")
# The control characters (Unicode category Cc: C0, DEL, C1) except newline and tab. Format
# characters (Cf: zero-width joiners in emoji, right-to-left marks) stay: they are real text.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_question(text: str) -> str:
    """``text`` NFKC-normalised, without control characters other than newline and tab, trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Surrogates first: normalize() refuses a string that holds one.
    text = unicodedata.normalize("NFKC", _SURROGATES.sub("", text))
    return _CONTROLS.sub("", text).strip()


@dataclass(frozen=True)
class TooLong:
    length: int
    limit: int

    @property
    def message(self) -> str:
        return (
            f"That message is too long for me: {self.length:,} characters, and I read at most "
            f"{self.limit:,}. Please ask a shorter question."
        )


def check_length(question: str, limit: int) -> TooLong | None:
    return TooLong(len(question), limit) if len(question) > limit else None
