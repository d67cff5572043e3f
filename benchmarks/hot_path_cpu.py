"""CPU time per member lookup inside the app: no server, no sockets, no load generator.

Seeds a small member-lookup data set (``member_lookup.seed``), builds the ASGI
app as ``keyholder serve`` does and calls it directly, one request after
another, with the member lookup's request mix. Prints the CPU time per
request (``time.process_time``), the median of ``--rounds`` rounds, next to
a bare hello route called the same way, so a change to the hot path can be
weighed in a minute and on a machine that is not quiet (CPU time moves far
less with other work than req/s do). ``--profile`` prints cProfile's top
functions for one round instead.

    .venv/bin/python benchmarks/hot_path_cpu.py                # SQLite
    .venv/bin/python benchmarks/hot_path_cpu.py --postgresql   # PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import member_lookup
from fastapi import FastAPI

from keyholder.db import migrate
from keyholder.web.app import create_app

Message = dict[str, Any]
App = Callable[
    [dict[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


def hello_app() -> FastAPI:
    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app


async def call(app: App, path: str, token: str | None) -> int:
    headers = [(b"host", b"127.0.0.1")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def cpu_per_request(app: App, requests: list[tuple[str, str | None]]) -> float:
    started = time.process_time()
    for path, token in requests:
        status = await call(app, path, token)
        if status not in (200, 404):
            raise RuntimeError(f"{path} answered {status}")
    return (time.process_time() - started) / len(requests)


async def measure(args: argparse.Namespace, url: str) -> None:
    runtime = member_lookup.make_runtime(url)
    migrate.upgrade(runtime.engine)
    seeded = member_lookup.seed(runtime, accounts=args.accounts, users=args.users)
    probes = member_lookup.make_probes(seeded, args.requests, args.actor, random.Random(7))
    lookups = [(p.path, p.token) for p in probes]
    hellos: list[tuple[str, str | None]] = [("/hello", None)] * args.requests
    app = create_app(runtime=runtime, run_relay=False, run_jobs=False)
    hello = hello_app()
    try:
        async with app.router.lifespan_context(app):
            await cpu_per_request(app, lookups[:500])  # warm-up: caches, the pool
            await cpu_per_request(hello, hellos[:500])
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                await cpu_per_request(app, lookups)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
                return
            ours, bare = [], []
            for _ in range(args.rounds):
                ours.append(await cpu_per_request(app, lookups))
                bare.append(await cpu_per_request(hello, hellos))
    finally:
        runtime.close()
    engine = "postgresql" if args.postgresql else "sqlite"
    o, h = statistics.median(ours) * 1e6, statistics.median(bare) * 1e6
    spread = (max(ours) - min(ours)) * 1e6
    print(
        f"member lookup on {engine} as {args.actor}: {o:.0f} us CPU per request "
        f"(median of {args.rounds} x {args.requests:,}; spread {spread:.0f} us); "
        f"hello route: {h:.0f} us; lookup minus hello: {o - h:.0f} us"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--postgresql-url", default=member_lookup.DEFAULT_POSTGRESQL)
    parser.add_argument("--actor", choices=["staff", "member"], default="staff")
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile's top N")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="keyholder-cpu-"))
    try:
        with member_lookup.database(args.postgresql, args.postgresql_url, workdir) as url:
            asyncio.run(measure(args, url))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
