"""An ASGI middleware that records every event an app receives and sends, for teaching and debugging.

    recorder = EventRecorder(app)
    ...serve recorder...
    recorder.conversations   # one list per scope: ("scope", scope), ("receive", event), ("send", event)

It changes nothing on the way through; a send that the server refuses is recorded with the error.
"""

from __future__ import annotations


class EventRecorder:
    """Middleware that records every event of every call in ``conversations`` and changes nothing."""

    def __init__(self, app) -> None:
        self.app = app
        self.conversations: list = []

    async def __call__(self, scope, receive, send):
        log: list = [("scope", scope)]
        self.conversations.append(log)

        async def recording_receive():
            event = await receive()
            log.append(("receive", event))
            return event

        async def recording_send(event):
            try:
                await send(event)
            except Exception as exc:
                log.append(("send refused", event, f"{type(exc).__name__}: {exc}"))
                raise
            log.append(("send", event))

        await self.app(scope, recording_receive, recording_send)

    def show(self, index: int = -1, scope_keys: tuple | None = ("type", "method", "path", "headers")) -> None:
        """Prints one conversation (the last by default), one event per line; the scope only with
        ``scope_keys`` (all of it with None)."""
        for entry in self.conversations[index]:
            kind, event = entry[0], entry[1]
            if kind == "scope" and scope_keys is not None:
                event = {key: event[key] for key in scope_keys if key in event}
            line = f"{kind:<8} {event!r}"
            if len(entry) > 2:
                line += f"\n         -> {entry[2]}"
            print(line)
