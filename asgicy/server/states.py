"""The life of one HTTP/1.1 connection as a table, like the request parser's (asgicy.http.grammar).

``HTTPProtocol`` (protocol.py) keeps where a connection is in a few fields, set by its entry points: the
cycle whose response is being produced (``current``), the one the parser reads a body for (``parsing``),
the requests waiting their turn (``pipeline``), a protocol error waiting for the app in progress to end
(``pending_error``), and the ``discarding``, ``lingering``, ``upgraded`` and ``closed`` flags.
``state_of(protocol)`` names the state those fields put it in, and ``TRANSITIONS`` says which event
moves a connection from which state to which. tests/integration/test_connection_states.py drives a real
protocol through every row and checks that it lands where the table says; the architecture page draws
the table.

Shutdown is not a row: it only marks the connection (``closing``), so that the response in progress goes
out with ``Connection: close`` and an idle connection ends at its keep-alive timeout at the latest.
"""

from __future__ import annotations

IDLE = "IDLE"  # between requests: nothing buffered, the keep-alive timeout runs
READING_HEAD = "READING_HEAD"  # part of a request head has arrived: the head timeout runs
READING_BODY = "READING_BODY"  # the body of the request being answered is still arriving (its app runs)
RESPONDING = "RESPONDING"  # the request being answered is all here; its app is producing the response
DISCARDING = "DISCARDING"  # the response is complete; the rest of its request body is read and dropped
ANSWERING_ERROR = "ANSWERING_ERROR"  # a protocol error waits for the app in progress to end, then is answered
LINGERING = "LINGERING"  # closed in stages: our side shut, what the client still sends dropped (RFC 9112 9.6)
UPGRADED = "UPGRADED"  # handed to the WebSocket protocol (RFC 9110 7.8)
CLOSED = "CLOSED"

STATES = (IDLE, READING_HEAD, READING_BODY, RESPONDING, DISCARDING, ANSWERING_ERROR, LINGERING, UPGRADED, CLOSED)

# Events: what happens to a connection, each from one entry point of the protocol.
HEAD_BEGINS = "head begins"  # data_received: the first bytes of a request head
HEAD = "head"  # data_received: a request head whose body is still to come
REQUEST = "request"  # data_received: a whole request (a head and all of its body, or one without a body)
BODY_ENDS = "body ends"  # data_received: the last of a request body
RESPONSE = "response"  # response_complete, keep-alive, nothing waiting
RESPONSE_NEXT = "response, next waits"  # response_complete with a pipelined request to start
RESPONSE_CLOSE = "response, close"  # response_complete with Connection: close (or during shutdown)
APP_FAILS = "app fails mid-body"  # abort_response: the client must see an incomplete message
APP_ENDS = "app ends"  # app_finished
UPGRADE = "upgrade"  # data_received: a WebSocket handshake, its turn come
PROTOCOL_ERROR = "protocol error"  # data_received: bytes that break RFC 9112 (answered with the error's status)
TIMEOUT = "timeout"  # check_timeouts: head, body, keep-alive or linger deadline
PEER_CLOSED = "peer closed"  # connection_lost

# (from, event, to, why). A state with no row for an event does not meet it.
TRANSITIONS = (
    (IDLE, HEAD_BEGINS, READING_HEAD, ""),
    (IDLE, HEAD, READING_BODY, "the app starts at once and may read the body as it comes"),
    (IDLE, REQUEST, RESPONDING, ""),
    (IDLE, UPGRADE, UPGRADED, ""),
    (IDLE, PROTOCOL_ERROR, CLOSED, "4xx, then close"),
    (IDLE, TIMEOUT, CLOSED, "keep-alive timeout"),
    (IDLE, PEER_CLOSED, CLOSED, ""),
    (READING_HEAD, HEAD, READING_BODY, ""),
    (READING_HEAD, REQUEST, RESPONDING, ""),
    (READING_HEAD, UPGRADE, UPGRADED, ""),
    (READING_HEAD, PROTOCOL_ERROR, CLOSED, "4xx, then close"),
    (READING_HEAD, TIMEOUT, CLOSED, "408 (slowloris)"),
    (READING_HEAD, PEER_CLOSED, CLOSED, ""),
    (READING_BODY, BODY_ENDS, RESPONDING, ""),
    (READING_BODY, RESPONSE, DISCARDING, "RFC 9112 9.3: read the rest to keep the connection"),
    (READING_BODY, RESPONSE_CLOSE, LINGERING, "so the client reads the response, not a reset"),
    (READING_BODY, PROTOCOL_ERROR, ANSWERING_ERROR, "the app is told the client is gone"),
    (READING_BODY, TIMEOUT, CLOSED, "the body stalled: 408 if nothing was sent"),
    (READING_BODY, PEER_CLOSED, CLOSED, ""),
    (RESPONDING, HEAD, RESPONDING, "pipelined: waits its turn"),
    (RESPONDING, REQUEST, RESPONDING, "pipelined: waits its turn"),
    (RESPONDING, BODY_ENDS, RESPONDING, "a pipelined request's body"),
    (RESPONDING, RESPONSE, IDLE, ""),
    (RESPONDING, RESPONSE_NEXT, RESPONDING, "the next pipelined request starts"),
    (RESPONDING, RESPONSE_CLOSE, CLOSED, ""),
    (RESPONDING, APP_FAILS, CLOSED, ""),
    (RESPONDING, PROTOCOL_ERROR, ANSWERING_ERROR, "after the response in progress"),
    (RESPONDING, PEER_CLOSED, CLOSED, "the app learns it from receive or send"),
    (DISCARDING, BODY_ENDS, IDLE, ""),
    (DISCARDING, PROTOCOL_ERROR, CLOSED, ""),
    (DISCARDING, TIMEOUT, CLOSED, ""),
    (DISCARDING, PEER_CLOSED, CLOSED, ""),
    (ANSWERING_ERROR, APP_ENDS, CLOSED, "the error status if nothing was sent"),
    (ANSWERING_ERROR, PEER_CLOSED, CLOSED, ""),
    (LINGERING, TIMEOUT, CLOSED, "after LINGER seconds"),
    (LINGERING, PEER_CLOSED, CLOSED, ""),
)


def state_of(protocol) -> str:
    """The state an ``HTTPProtocol``'s fields put it in (see the module docstring)."""
    if protocol.upgraded:
        return UPGRADED
    if protocol.closed:
        return CLOSED
    if protocol.lingering:
        return LINGERING
    if protocol.pending_error is not None:
        return ANSWERING_ERROR
    current = protocol.current
    if current is not None and current is protocol.parsing and not current.body_complete:
        return READING_BODY
    if current is not None or protocol.pipeline or protocol.ready is not None:
        return RESPONDING  # (a pipelined request's body may be arriving meanwhile)
    if protocol.discarding:
        return DISCARDING
    return READING_HEAD if protocol.parser.in_head else IDLE
