"""The ASGI lifespan protocol (asgiref specs/lifespan.rst, 2.0) for one event loop.

Startup is awaited before the server accepts a connection; shutdown after the last one is closed.
``state`` is the dict the app fills at startup; the server copies it shallowly into every scope.
An app that raises on the lifespan scope before sending anything does not support lifespan: with
``--lifespan auto`` that is logged and serving goes on; with ``on`` it is an error.
"""

from __future__ import annotations

import asyncio
import logging

from ..asgi.errors import ASGIEventError
from ..asgi.events import event_type, validate_str

logger = logging.getLogger("asgicy.error")

LIFESPAN = "ASGI lifespan spec"


class Lifespan:
    def __init__(self, app, mode: str) -> None:
        self.app = app
        self.mode = mode
        self.lifespan_state: dict = {}
        self.supported = True
        self.failed = False  # startup or shutdown reported failure; the server exits non-zero
        self.error_message = ""
        self._receive_queue: asyncio.Queue = asyncio.Queue()
        self._startup_done = asyncio.Event()
        self._shutdown_done = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._sent_anything = False

    async def startup(self) -> None:
        """Runs the app's startup; afterwards ``supported`` and ``failed`` tell what happened."""
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.lifespan_state}
        self._task = asyncio.get_running_loop().create_task(self._run(scope))
        await self._receive_queue.put({"type": "lifespan.startup"})
        await self._startup_done.wait()

    async def shutdown(self) -> None:
        if not self.supported or self._task is None or self._task.done():
            return
        self._shutdown_done.clear()
        await self._receive_queue.put({"type": "lifespan.shutdown"})
        await self._shutdown_done.wait()

    async def _run(self, scope: dict) -> None:
        try:
            await self.app(scope, self.receive, self.send)
        except BaseException as exc:
            if not self._sent_anything and self.mode == "auto" and isinstance(exc, Exception):
                self.supported = False
                logger.info("ASGI 'lifespan' protocol appears unsupported (the app raised %s: %s); serving "
                            "without it", type(exc).__name__, exc)
            else:
                self.failed = True
                self.error_message = f"{type(exc).__name__}: {exc}"
                logger.error("Exception in 'lifespan' protocol", exc_info=exc)
            if not isinstance(exc, Exception):
                raise
        else:
            if not self._startup_done.is_set():
                if self.mode == "on":
                    self.failed = True
                    self.error_message = "the app returned from the lifespan scope without completing startup"
                    logger.error("%s", self.error_message)
                else:
                    self.supported = False
                    logger.info("ASGI lifespan: the app returned without completing startup; serving without it")
        finally:
            self._startup_done.set()
            self._shutdown_done.set()

    async def receive(self) -> dict:
        return await self._receive_queue.get()

    async def send(self, message: dict) -> None:
        kind = event_type(message)
        expected = ("lifespan.startup.complete", "lifespan.startup.failed") if not self._startup_done.is_set() \
            else ("lifespan.shutdown.complete", "lifespan.shutdown.failed")
        if kind not in expected:
            raise ASGIEventError(kind, f"expected one of {', '.join(expected)} now", LIFESPAN)
        self._sent_anything = True
        if kind.endswith(".failed"):
            self.failed = True
            self.error_message = validate_str(kind, message, "message", "") or ""
            logger.error("ASGI lifespan %s failed: %s", kind.split(".")[1], self.error_message or "(no message)")
        if kind.startswith("lifespan.startup"):
            self._startup_done.set()
        else:
            self._shutdown_done.set()
