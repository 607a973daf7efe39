"""How fast this machine's kernel moves a file to a TCP socket over loopback: os.sendfile against a
read into Python and a send, 1 MiB at a time. It explains the file_1m row of the server comparison
(on loopback sendfile is not the faster of the two); no server and no event loop are involved.

    python benchmarks/sendfile_micro.py            # about 5 seconds

The sender is pinned to core 0 and the reader (a thread draining the socket) to core 1, as in run.py.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time

BLOCK = 1024 * 1024
ROUNDS = 2000


def measure(mode: str, path: str) -> float:
    """MiB per second sent with ``mode`` ("sendfile" or "read+send")."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def drain() -> None:
        os.sched_setaffinity(0, {1})
        with socket.create_connection(("127.0.0.1", port)) as sock:
            buffer = bytearray(BLOCK)
            while sock.recv_into(buffer):
                pass

    reader = threading.Thread(target=drain)
    reader.start()
    os.sched_setaffinity(0, {0})
    conn, _ = listener.accept()
    fd = os.open(path, os.O_RDONLY)
    started = time.perf_counter()
    for _ in range(ROUNDS):
        if mode == "sendfile":
            offset = 0
            while offset < BLOCK:
                offset += os.sendfile(conn.fileno(), fd, offset, BLOCK - offset)
        else:
            conn.sendall(os.pread(fd, BLOCK, 0))
    elapsed = time.perf_counter() - started
    conn.close()
    listener.close()
    os.close(fd)
    reader.join()
    return ROUNDS / elapsed


def main() -> None:
    with tempfile.NamedTemporaryFile() as file:
        file.write(os.urandom(BLOCK))
        file.flush()
        for mode in ("sendfile", "read+send"):
            print(f"{mode:<10} {measure(mode, file.name):,.0f} MiB/s")


if __name__ == "__main__":
    main()
