"""An ASGI middleware that records every event an app receives and sends, for teaching and debugging.

    recorder = EventRecorder(app)
    ...serve recorder...
    recorder.conversations   # one list per scope: ("scope", scope), ("receive", event), ("send", event)

It changes nothing on the way through; a send that the server refuses is recorded with the error.
"""

from __future__ import annotations


class EventRecorder:
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
