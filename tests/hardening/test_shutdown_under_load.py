"""Graceful shutdown under load: every request the server had taken when SIGTERM came is answered."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from .conftest import asgicy_args

HERE = Path(__file__).parent


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_under_load_loses_no_request(launch, workers):
    server = launch(asgicy_args("apps:app", "--workers", workers, "--no-access-log"), cwd=HERE)
    url = server.wait_serving()
    records = []  # (sent at, outcome)
    lock = threading.Lock()
    stop = threading.Event()

    def client(keep_alive: bool):
        with httpx.Client(timeout=10) as session:
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    headers = {} if keep_alive else {"connection": "close"}
                    response = session.get(url + "/slow?0.2", headers=headers)
                    outcome = response.status_code
                except httpx.ConnectError:
                    outcome = "refused"  # the server had stopped listening: it never took this request
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                with lock:
                    records.append((sent, outcome))
                if outcome == "refused":
                    return

    threads = [threading.Thread(target=client, args=(i % 3 != 0,)) for i in range(24)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    sigterm_at = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.proc.wait(30) == 0
    stop.set()
    for thread in threads:
        thread.join(15)
    # A refused connection is a request the server never took. The client's clock is read before httpx
    # connects, and with 24 client threads sharing the GIL the connect can come several switch intervals
    # later, after the server has stopped listening: a refusal stamped just before the signal (one CI run
    # saw one among 165) is such a request. Earlier than that, nothing may be refused.
    records = [(sent, outcome) for sent, outcome in records
               if not (outcome == "refused" and sigterm_at - 0.5 < sent < sigterm_at)]
    before = [outcome for sent, outcome in records if sent < sigterm_at]
    after = [outcome for sent, outcome in records if sent >= sigterm_at]
    in_flight = sum(1 for sent, _ in records if sigterm_at - 0.2 < sent < sigterm_at)
    print(f"workers={workers}: {len(before)} requests before SIGTERM ({in_flight} in flight), "
          f"{len(after)} after: {sorted(set(map(str, after)))}")
    assert before and all(outcome == 200 for outcome in before), [o for o in before if o != 200][:5]
    assert in_flight > 0  # the test really stopped the server under load
    assert all(outcome in (200, "refused") for outcome in after), after
