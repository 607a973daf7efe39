"""TechEmpower's database tests as a plain ASGI app, over asyncpg: what every server in the comparison runs.

    /db                 one random row of ``world`` as JSON: {"id": 1234, "randomNumber": 5678}
    /queries?queries=N  N random rows (N from 1 to 500; anything else counts as 1 or 500), a JSON list
    /fortunes           every row of ``fortune`` and one added at request time, sorted by message, as an
                        HTML table from a Jinja2 template (escaped: one fortune is a <script>)

The database is the one ``postgres.py`` makes, named by ``BENCH_DATABASE_URL`` (``run.py`` sets it). Every
server gets the same pool (``POOL_SIZE`` connections, made at the first request: the servers run with the
lifespan off) and the same statements, prepared once per connection by asyncpg.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from operator import itemgetter

from postgres import WORLD_ROWS  # beside this file: the database it fills

POOL_SIZE = 16  # asyncpg pool connections (min = max), the same for every server
MAX_QUERIES = 500
ADDED_FORTUNE = "Additional fortune added at request time."
TEMPLATE = """<!DOCTYPE html>
<html><head><title>Fortunes</title></head><body><table>
<tr><th>id</th><th>message</th></tr>
{% for id, message in fortunes %}<tr><td>{{ id }}</td><td>{{ message }}</td></tr>
{% endfor %}</table></body></html>"""
JSON_HEADERS = [(b"content-type", b"application/json")]
HTML_HEADERS = [(b"content-type", b"text/html; charset=utf-8")]
WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
RANDOM_NUMBER = "SELECT randomnumber FROM world WHERE id = $1"
FORTUNES = "SELECT id, message FROM fortune"

_pool = None
_pool_lock: asyncio.Lock | None = None
_template = None


async def pool():
    """The shared asyncpg pool, made by the first request that needs it."""
    global _pool, _pool_lock, _template
    if _pool is None:
        if _pool_lock is None:
            _pool_lock = asyncio.Lock()
        async with _pool_lock:
            if _pool is None:
                import asyncpg
                import jinja2

                _template = jinja2.Environment(autoescape=True).from_string(TEMPLATE)
                _pool = await asyncpg.create_pool(os.environ["BENCH_DATABASE_URL"], min_size=POOL_SIZE,
                                                  max_size=POOL_SIZE)
    return _pool


def query_count(query_string: bytes) -> int:
    """TechEmpower's rule for ?queries=: a number from 1 to 500; missing or not a number is 1."""
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == b"queries":
            try:
                return min(max(int(value), 1), MAX_QUERIES)
            except ValueError:
                return 1
    return 1


async def respond(send, body: bytes, headers: list, status: int = 200) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def app(scope, receive, send) -> None:
    path = scope["path"]
    if path == "/db":
        row_id = random.randint(1, WORLD_ROWS)
        async with (await pool()).acquire() as connection:
            number = await connection.fetchval(RANDOM_NUMBER, row_id)
        await respond(send, json.dumps({"id": row_id, "randomNumber": number}).encode(), JSON_HEADERS)
    elif path == "/queries":
        ids = random.sample(range(1, WORLD_ROWS + 1), query_count(scope["query_string"]))
        async with (await pool()).acquire() as connection:
            statement = await connection.prepare(WORLD)
            rows = [await statement.fetchrow(row_id) for row_id in ids]
        body = json.dumps([{"id": row[0], "randomNumber": row[1]} for row in rows]).encode()
        await respond(send, body, JSON_HEADERS)
    elif path == "/fortunes":
        async with (await pool()).acquire() as connection:
            fortunes = [tuple(row) for row in await connection.fetch(FORTUNES)]
        fortunes.append((0, ADDED_FORTUNE))
        fortunes.sort(key=itemgetter(1))
        await respond(send, _template.render(fortunes=fortunes).encode(), HTML_HEADERS)
    else:
        await respond(send, b"not found", [(b"content-type", b"text/plain")], 404)
