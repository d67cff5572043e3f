"""Drop a request's queued work when its client hangs up (S40).

A sign-in waits its turn for the hashing pool. A client that gave up (closed
the tab, a script's timeout, an attacker who sends and hangs up) would still
have its password hashed when its turn came, for an answer nobody reads, and
every real sign-in behind it waits for that too. ``unless_disconnected`` runs
the work as a task beside a watcher on the ASGI channel: when the server
reports ``http.disconnect`` first, the task is cancelled, which takes a queued
job out of the hashing queue before it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

from starlette.requests import Request

from keyholder.errors import ClientGone

T = TypeVar("T")


async def _disconnected(request: Request) -> None:
    # The body has been read: the only message left on the channel is the
    # disconnect (uvicorn sends it when the connection closes, or once the
    # answer has gone out).
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(request: Request, work: Coroutine[Any, Any, T]) -> T:
    """Await ``work``; cancel it and raise ``ClientGone`` if the client disconnects first."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        raise ClientGone("the client disconnected before its answer was ready")
    return task.result()
