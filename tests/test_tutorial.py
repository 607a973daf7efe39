"""The tutorial's lessons are real programs: run each one and check what it teaches is what happens."""

import subprocess
import sys
from pathlib import Path

TUTORIAL = Path(__file__).parent.parent / "tutorial"


def test_lesson_1_first_request():
    result = subprocess.run([sys.executable, str(TUTORIAL / "01_first_request.py")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "'method': 'POST'" in out and "'path': '/greet'" in out and "'query_string': b'lang=en'" in out
    assert "receive {'type': 'http.request', 'body': b'ASGI', 'more_body': False}" in out
    assert "send    {'type': 'http.response.start', 'status': 200" in out
    # (text mode turns the wire's CRLF into LF)
    assert "HTTP/1.1 200 OK\nserver: asgicy\ncontent-type: text/plain\ncontent-length: 12\n" in out
    assert out.rstrip().endswith("Hello, ASGI!")
