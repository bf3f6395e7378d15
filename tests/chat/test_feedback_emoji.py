"""One reading of a reaction's emoji for every platform (``core.chat.normalise_emoji``).

Clients decorate the same emoji differently: Element's quick 👍 carries the emoji variation
selector U+FE0F, some keyboards send the text one U+FE0E, and Discord and Matrix both pass skin
tones through (``str(PartialEmoji)`` on Discord, the ``key`` of an ``m.annotation`` on Matrix).
"""

from __future__ import annotations

import pytest

from core.chat import FEEDBACK_EMOJI, THUMBS_UP, WRONG, normalise_emoji


@pytest.mark.parametrize(
    ("sent", "counted_as"),
    [
        ("👍", THUMBS_UP),
        ("👍\ufe0f", THUMBS_UP),  # Element's quick reaction
        ("👍\ufe0e", THUMBS_UP),  # text presentation
        ("👍🏻", THUMBS_UP),
        ("👍🏽", THUMBS_UP),
        ("👍🏿", THUMBS_UP),
        ("👍🏽\ufe0f", THUMBS_UP),
        ("❌", WRONG),
        ("❌\ufe0f", WRONG),
    ],
)
def test_decorated_feedback_emoji_count_as_the_plain_one(sent: str, counted_as: str) -> None:
    assert normalise_emoji(sent) == counted_as


@pytest.mark.parametrize("sent", ["👎", "🤙🏽", "<:thumbsup:1234567890>", "+1", "✅"])
def test_other_emoji_are_not_feedback(sent: str) -> None:
    assert normalise_emoji(sent) not in FEEDBACK_EMOJI
