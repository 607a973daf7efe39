"""Type stub for the Cython HTTP/1.1 parser; the API is that of ``asgicy.http.reference``."""


from .errors import HTTPProtocolError

IMPLEMENTATION: str

class Request:
    method: bytes
    target: bytes
    path: bytes
    query: bytes
    http_version: str
    headers: list[tuple[bytes, bytes]]
    keep_alive: bool
    expect_continue: bool
    upgrade: bytes | None
    content_length: int

class EndOfMessage:
    trailers: tuple[tuple[bytes, bytes], ...]
    def __init__(self, trailers: tuple[tuple[bytes, bytes], ...]) -> None: ...

Event = Request | bytes | EndOfMessage | HTTPProtocolError

class HTTPParser:
    max_request_line_size: int
    max_header_size: int
    max_header_count: int
    max_body_size: int | None
    def __init__(self, max_request_line_size: int = 8192, max_header_size: int = 65536,
                 max_header_count: int = 100, max_body_size: int | None = None) -> None: ...
    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]: ...
    def resume(self) -> list[Event]: ...
    def trailing_data(self) -> bytes: ...
    @property
    def state(self) -> int: ...
    @property
    def paused(self) -> bool: ...
    @property
    def in_head(self) -> bool: ...
