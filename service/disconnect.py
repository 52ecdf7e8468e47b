"""Stop the work of a request whose client has gone away.

A client that closes its connection while its upload is processed (a caller's timeout, a
user giving up, a proxy dropping the connection) would otherwise hold a concurrency slot and a
worker thread until the answer nobody reads is done. ``unless_disconnected`` runs the work as a
task and polls the ASGI receive channel: on ``http.disconnect`` the task is cancelled (the
pipeline stops decoding within a frame) and ``ClientDisconnected`` is raised.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

from starlette.requests import Request

from service.errors import Problem

T = TypeVar("T")

POLL_S = 0.25


class ClientDisconnected(Problem):
    """The client closed the connection before the answer (logged as 499, nginx's code)."""

    def __init__(self) -> None:
        super().__init__(499, "the client closed the connection", title="Client closed request")


async def unless_disconnected(request: Request, work: Awaitable[T], poll_s: float = POLL_S) -> T:
    """``await work``, cancelled with ``ClientDisconnected`` if the client disconnects first."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=poll_s)
            if done:
                return task.result()
            if await request.is_disconnected():
                raise ClientDisconnected()
    finally:
        if not task.done():  # the client left, or this coroutine was cancelled (timeout, shutdown)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task  # the work has stopped (the pipeline waits for its running step)
