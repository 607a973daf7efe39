# cython: language_level=3, annotation_typing=False
"""What an ASGI cycle may ask of what carries it: the sink contract, declared by the layer that asks.

A cycle (``HTTPCycle``, ``WebSocketCycle``) knows the ASGI rules and what a response is; it never touches a
socket, a file or the event loop, and it frames nothing. Everything it needs from outside goes through the
object it was given as ``conn``, an instance of ``ResponseSink`` (and, for a WebSocket, of
``WebSocketSink``). This module is the whole list, so a new carrier knows what to implement, and a test can
drive a cycle in memory with a recording sink (``asgicy.testing.RecordingSink``).

The response goes out in parts (``send_head``, ``send_body``, ``send_file_piece``, ``send_trailers``,
``send_informational``), each of which the carrier frames in its protocol: ``asgicy.asgi.http1.HTTP1Sink``
as HTTP/1.1 bytes (``asgicy.server.connection.Connection`` derives from it), ``asgicy.server.h2`` as
HTTP/2 frames on one stream. This module imports nothing from the package: the server layer depends on
it, never the other way round.

Every method here raises NotImplementedError; a carrier overrides all of them. Compiled (``sink.pxd``),
the synchronous ones are C methods, so a cycle's call reaches the carrier's through a table, not a name.
"""

from __future__ import annotations


class ResponseSink:
    """What an HTTP cycle writes to and hears from.

    Attributes the cycle reads:

    ``write_paused``
        True while the peer is not reading what was written: the cycle awaits ``drain`` before it lets the
        app go on (ASGI ``send`` blocks), so a client that does not read cannot make the server buffer.
    ``closing``
        True once the server is shutting down: the response in progress ends the connection.
    """

    def __init__(self) -> None:
        self.write_paused = False
        self.closing = False

    # -- the response, in parts ------------------------------------------------------------------
    # Each reads what it needs of the response from ``cycle`` (its status, ``response_fields``,
    # ``has_date``/``has_server``, ``content_length``, ``sends_body``, ``trailers``...). None blocks, and none
    # raises for a gone peer: the cycle learns of that from ``disconnect``.

    def send_informational(self, cycle, status: int, fields) -> None:
        """A 1xx response before the final one: 100 Continue, 103 Early Hints (``fields``: name, value pairs).
        A carrier that cannot send one (to an HTTP/1.0 client) drops it."""
        raise NotImplementedError

    def send_head(self, cycle, body: bytes, more_body: bool) -> None:
        """The response head and its first body piece (the whole body if not ``more_body``). For HEAD, 204 and
        304 (``cycle.sends_body`` False) ``body`` is only measured: the head announces HEAD's length."""
        raise NotImplementedError

    def send_body(self, cycle, body: bytes, more_body: bool) -> None:
        """A later body piece; the last one (not ``more_body``) ends the response unless trailers follow."""
        raise NotImplementedError

    async def send_file_piece(self, cycle, fd: int, offset: int, count: int, more_body: bool, first: bool) -> int:
        """``count`` bytes of the file ``fd`` from ``offset`` as a body piece (after the head if ``first``).
        Returns how many went out: fewer only if the file ended early. Raises ClientDisconnected if the peer
        left while it was being sent."""
        raise NotImplementedError

    def send_trailers(self, cycle, fields) -> None:
        """The trailer fields that end the response (the trailers extension)."""
        raise NotImplementedError

    def accepts_trailers(self, cycle) -> bool:
        """Whether this response can end in trailer fields (an HTTP/1.1 client must have said
        ``TE: trailers``; HTTP/2 always can)."""
        raise NotImplementedError

    async def drain(self) -> None:
        """Returns once the peer has read enough that ``write_paused`` is False, or the peer is gone."""
        raise NotImplementedError

    # -- files (the pathsend and zerocopysend extensions) ------------------------------------------

    def open_file(self, path: str) -> int:
        """A descriptor of the file at ``path``, opened to read. Raises OSError as ``os.open`` does."""
        raise NotImplementedError

    def close_file(self, fd: int) -> None:
        raise NotImplementedError

    def file_size(self, fd: int) -> int:
        """The size of the regular file ``fd``; -1 if it is not one (a pipe or device has no size to frame
        a response with, and reading one may never end)."""
        raise NotImplementedError

    def file_position(self, fd: int) -> int:
        """Where the next read of ``fd`` starts."""
        raise NotImplementedError

    def move_file_position(self, fd: int, position: int) -> None:
        raise NotImplementedError

    # -- what the cycle tells its carrier ------------------------------------------------------------

    def create_future(self):
        """A future on the carrier's event loop, which the cycle awaits for body or for the end."""
        raise NotImplementedError

    def body_consumed(self, size: int) -> None:
        """The app read ``size`` bytes of request body: the carrier may read more from the peer."""
        raise NotImplementedError

    def response_complete(self, cycle) -> None:
        """The whole response was written (the carrier decides what comes next: keep-alive, close)."""
        raise NotImplementedError

    def abort_response(self, cycle) -> None:
        """The response cannot be completed (the app failed mid-body): the peer must see it incomplete."""
        raise NotImplementedError

    def app_finished(self, cycle) -> None:
        """The app of ``cycle`` returned or raised; the cycle has logged and answered what it had to."""
        raise NotImplementedError


class WebSocketSink(ResponseSink):
    """What a WebSocket cycle asks on top of an HTTP cycle's (a denial response is an HTTP response)."""

    __slots__ = ()  # (a carrier derives from this and from a compiled class: no instance layout of its own)

    def ws_accept(self, subprotocol, fields: list, has_date: bool, has_server: bool) -> None:
        """Accepts the handshake (101 over HTTP/1.1, 200 over HTTP/2) with the chosen subprotocol, the app's
        ``fields`` (name, value pairs) and the Date and Server fields it lacks (``has_date``, ``has_server``)."""
        raise NotImplementedError

    def ws_close(self, code: int, reason: str) -> None:
        """Starts the closing handshake with ``code`` and ``reason`` (once; later calls do nothing)."""
        raise NotImplementedError

    def send_text(self, text: str) -> None:
        raise NotImplementedError

    def send_bytes(self, data: bytes) -> None:
        raise NotImplementedError

    def message_consumed(self, queued: int) -> None:
        """The app took a message; ``queued`` are still waiting (the carrier may read again)."""
        raise NotImplementedError
