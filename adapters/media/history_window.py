"""Where an incremental history read starts, so that no play is ever skipped.

Tautulli's ``after=YYYY-MM-DD`` keeps the rows whose ``started`` falls on or
after that day *in the server's local zone*, and a row is only written when
its stream stops, dated by when it started. A cursor at the newest ``started``
seen therefore skips every play that was still running at the last sync, and
on a server west of UTC the evening's plays too.

The window starts instead from an *anchor*: the last sync at which nothing was
streaming. Every play that started before that moment had stopped, so it was
already written and already read; every play not yet read started after it.
While streams run, the anchor stays where it was (at most ``LONGEST_STREAM``
back, so a server that is never idle still reads a bounded window). The day
sent is ``OVERLAP`` before the anchor and one more day back, because the
server's zone is unknown and its local day is at most a day off the UTC one.
Rows read twice are the same rows: their ids make that harmless.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

OVERLAP = timedelta(days=2)
LONGEST_STREAM = timedelta(days=7)
ZONE_SLACK = timedelta(days=1)


def first_day(anchor: datetime) -> date:
    """The ``after`` day to ask for: every play started at or after ``anchor``, in any zone, falls on it or later."""
    return ((anchor - OVERLAP).astimezone(UTC) - ZONE_SLACK).date()


def next_anchor(previous: datetime | None, activity_read_at: datetime, streams_in_progress: int) -> datetime:
    """The anchor after a complete history read that followed an activity read at ``activity_read_at``."""
    if not streams_in_progress:
        return activity_read_at
    floor = activity_read_at - LONGEST_STREAM
    return floor if previous is None else max(previous, floor)
