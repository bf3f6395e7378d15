"""The text a title is embedded from, and the hash that says whether it changed.

Movies and shows are embedded (an episode is found through its show): title,
year, kind, genres, summary, cast and crew, as far as the sync stored them.
The hash covers the model too, so a new model embeds everything again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

# Long summaries say nothing more to an embedding model than their opening; and
# small local models have short context windows (nomic-embed-text: 2,048 tokens).
MAX_SUMMARY_CHARS = 1500
MAX_PEOPLE = 8


def _names(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(name).strip() for name in value if isinstance(name, str) and name.strip()][:MAX_PEOPLE]


def document_text(title: str, media_type: str, year: int | None, metadata: Mapping[str, Any]) -> str:
    """One paragraph describing the title, in a stable order (the hash depends on it)."""
    kind = "TV show" if media_type == "show" else "movie"
    lines = [f"{title} ({year}), {kind}" if year else f"{title}, {kind}"]
    genres = _names(metadata.get("genres"))
    if genres:
        lines.append("Genres: " + ", ".join(genres))
    summary = metadata.get("summary")
    if isinstance(summary, str) and summary.strip():
        lines.append(summary.strip()[:MAX_SUMMARY_CHARS])
    for key, label in (("directors", "Directed by"), ("writers", "Written by"), ("cast", "Starring")):
        people = _names(metadata.get(key))
        if people:
            lines.append(f"{label}: " + ", ".join(people))
    return "\n".join(lines)


def content_hash(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\n{text}".encode()).hexdigest()
