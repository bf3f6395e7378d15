"""What the Matrix bot sends: events with retries, chart uploads, read receipts and typing notices.

A send keeps one transaction id over its retries, so the homeserver keeps one
event however often it is tried. Failures are logged and cost only that event:
callers get None (or False) and go on.
"""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from typing import Any

import aiohttp
from nio import AsyncClient, RoomSendError, UploadResponse
from nio.exceptions import LocalProtocolError

from adapters.chat.matrix_rendering import image_content
from core.chat import ChartImage

log = logging.getLogger(__name__)

TYPING_TIMEOUT_MS = 60_000
SEND_ATTEMPTS = 4


async def send_event(
    client: AsyncClient, room_id: str, event_type: str, content: dict[str, Any]
) -> str | None:
    """The event id of the sent event, or None when it could not be sent (logged)."""
    transaction_id = str(uuid.uuid4())  # the same id on each retry: the homeserver keeps one event
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            # Trust on membership (see ``matrix_bot``): encrypt to every device of the room's members.
            response = await client.room_send(
                room_id, event_type, content, tx_id=transaction_id, ignore_unverified_devices=True
            )
            break
        except (aiohttp.ClientError, TimeoutError) as exc:
            if attempt == SEND_ATTEMPTS:
                log.warning(
                    "Matrix: sending %s to %s failed: %s", event_type, room_id, exc or type(exc).__name__
                )
                return None
            await asyncio.sleep(2**attempt)
        except LocalProtocolError as exc:
            log.warning("Matrix: cannot send to %s: %s", room_id, exc)
            return None
    if isinstance(response, RoomSendError):
        log.warning("Matrix: sending %s to %s failed: %s", event_type, room_id, response)
        return None
    return str(response.event_id)


async def send_chart(
    client: AsyncClient, room_id: str, chart: ChartImage, in_reply_to: str, thread_root: str | None
) -> str | None:
    """Upload the chart (encrypted in an encrypted room), then send it as an ``m.image`` after the text.

    The text already said everything: a failed upload is logged and costs only the picture.
    """
    room = client.rooms.get(room_id)
    encrypted = bool(room is not None and room.encrypted)
    try:
        uploaded, keys = await client.upload(
            lambda *_: io.BytesIO(chart.png),
            content_type="image/png",
            filename=chart.filename,
            encrypt=encrypted,
            filesize=len(chart.png),
        )
    except (aiohttp.ClientError, TimeoutError, LocalProtocolError) as exc:
        log.warning("Matrix: uploading a chart for %s failed: %s", room_id, exc or type(exc).__name__)
        return None
    if not isinstance(uploaded, UploadResponse):
        log.warning("Matrix: uploading a chart for %s failed: %s", room_id, uploaded)
        return None
    content = image_content(
        chart, uploaded.content_uri, in_reply_to, thread_root=thread_root, decryption_keys=keys
    )
    return await send_event(client, room_id, "m.room.message", content)


async def mark_read(client: AsyncClient, room_id: str, event_id: str) -> None:
    """A read receipt (and the fully-read marker) on the question: the asker sees it was seen."""
    try:
        await client.room_read_markers(room_id, event_id, event_id)
    except (aiohttp.ClientError, TimeoutError, LocalProtocolError):
        pass  # a missing receipt is not worth more than this


async def set_typing(client: AsyncClient, room_id: str, typing: bool) -> bool:
    try:
        await client.room_typing(room_id, typing, timeout=TYPING_TIMEOUT_MS)
    except (aiohttp.ClientError, TimeoutError, LocalProtocolError):
        return False  # a missing typing indicator is not worth more than this
    return True
