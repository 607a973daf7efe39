"""An ASGI middleware that records every event an app receives and sends, for teaching and debugging.

    recorder = EventRecorder(app)
    ...serve recorder...
    recorder.conversations   # one list per scope: ("scope", scope), ("receive", event), ("send", event)

It changes nothing on the way through; a send that the server refuses is recorded with the error.
"""

from __future__ import annotations

import pprint

# Printed events wrap at this width: the tutorial's pages show them without scrolling sideways.
WIDTH = 100
# Beside the wire bytes (SideBySide), the events get half a page: they wrap at this width.
COLUMN_WIDTH = 56
_INDENT = 9  # the width of the "receive  " column


class EventRecorder:
    """Middleware that records every event of every call in ``conversations`` and changes nothing."""

    def __init__(self, app) -> None:
        self.app = app
        self.conversations: list = []

    async def __call__(self, scope, receive, send):
        # The scope as the app was given it: the app may change it later (a lifespan app fills
        # scope["state"]), and the record must not change with it.
        recorded = dict(scope)
        if isinstance(recorded.get("state"), dict):
            recorded["state"] = dict(recorded["state"])
        log: list = [("scope", recorded)]
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

    def show(self, index: int = -1, scope_keys: tuple | None = ("type", "method", "path", "headers"),
             wire: bytes | str | None = None) -> None:
        """Prints one conversation (the last by default), one event per entry, wrapped at ``WIDTH``
        columns; the scope only with ``scope_keys`` (all of it with None). With ``wire`` (the bytes that
        crossed the socket), a notebook shows the two side by side where the page is wide enough and one
        above the other where it is not; printed, the wire comes first."""
        if wire is None:
            print(self.format(index, scope_keys))
            return
        pair = SideBySide(wire, self.format(index, scope_keys, width=COLUMN_WIDTH))
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:
            display(pair)
        else:
            print(repr(pair))

    def format(self, index: int = -1, scope_keys: tuple | None = ("type", "method", "path", "headers"),
               width: int = WIDTH) -> str:
        """What ``show`` prints: one conversation, wrapped at ``width`` columns."""
        lines = []
        for entry in self.conversations[index]:
            kind, event = entry[0], entry[1]
            if kind == "scope" and scope_keys is not None:
                event = {key: event[key] for key in scope_keys if key in event}
            lines.append(format_event(kind, event, width))
            if len(entry) > 2:
                lines.append(" " * _INDENT + "-> " + entry[2])
        return "\n".join(lines)


def format_event(kind: str, event, width: int = WIDTH) -> str:
    """``kind`` in a column of its own, then the event as Python writes it, wrapped to ``width`` columns
    with the continuation lines under the event."""
    text = pprint.pformat(event, width=width - _INDENT, sort_dicts=False)
    first, *rest = text.split("\n")
    if len(kind) >= _INDENT:  # "send refused": the event goes on its own line
        return "\n".join([kind] + [" " * _INDENT + line for line in text.split("\n")])
    return "\n".join([f"{kind:<{_INDENT}}{first}"] + [" " * _INDENT + line for line in rest])


class SideBySide:
    """The bytes on the wire and the events they became, for a notebook: two columns where the page is
    wide enough, one above the other where it is not (docs/_static/asgicy.css); as text, stacked."""

    def __init__(self, wire: bytes | str, events: str) -> None:
        self.wire = wire.decode("latin-1") if isinstance(wire, bytes) else wire
        self.events = events

    def __repr__(self) -> str:
        return f"{self.wire.rstrip()}\n\n{self.events}"

    def _repr_html_(self) -> str:
        from html import escape

        def column(title: str, text: str) -> str:
            return (f'<figure class="asgicy-column"><figcaption>{title}</figcaption>'
                    f'<pre>{escape(text.rstrip())}</pre></figure>')

        return (f'<div class="asgicy-exchange">{column("on the wire", self.wire)}'
                f'{column("ASGI events", self.events)}</div>')
