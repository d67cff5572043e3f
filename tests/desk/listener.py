"""The desk's SMTP/LMTP listener run in a background thread, for in-process tests."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Self

from keyholder.bootstrap import Runtime
from keyholder.desk.listener import MailListener
from tests.smtp_server import HOST, free_port


class ThreadedListener:
    """``with ThreadedListener(runtime) as listener:`` serves on ``listener.port``."""

    def __init__(self, runtime: Runtime, *, lmtp: bool = False) -> None:
        self.port = free_port()
        self.listener = MailListener(
            runtime.uow, runtime.settings, host=HOST, port=self.port, lmtp=lmtp, workers=2
        )
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="desk-listener", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        await self.listener.serve(self._stop, ready=self._ready.set)

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10):
            raise TimeoutError("the listener did not start")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stop = self._stop
        if stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(stop.set)
        self._thread.join(30)
        if self._error is not None and exc is None:
            raise self._error
