"""Where the member lookup's time goes: py-spy over a wrk run, folded into five parts.

Seeds the member-lookup data (``member_lookup.seed``), serves Keyholder with
one worker, drives it with wrk (the member lookup's request mix) and samples
the worker with py-spy meanwhile. Every sampled stack goes to the part of
its innermost frame that belongs to one:

- ``lookup``: the member lookup use case (``accounts.members.get_member``);
- ``auth``: the token or session check (``web.deps._authenticate``);
- ``serialisation``: the response model and JSON body (FastAPI's
  ``serialize_response``, ``jsonable_encoder``, the response's ``render``,
  ``member_out``);
- ``routing``: the rest of FastAPI and Starlette (routing, dependencies,
  middleware, exception handling);
- ``server``: uvicorn, httptools and the event loop, also when Starlette
  calls them to send the response.

    .venv/bin/python benchmarks/hot_path_profile.py                  # SQLite
    .venv/bin/python benchmarks/hot_path_profile.py --postgresql     # PostgreSQL
    .venv/bin/python benchmarks/hot_path_profile.py --flame out.svg  # also a flame graph

Needs wrk and py-spy (a dev dependency; sampling another process needs ptrace,
which root has). Prints each part's share of the worker's samples and the
hottest functions (self time); req/s under the profiler are lower than
without it and are not a measurement.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import member_lookup

from keyholder.db import migrate

PARTS = ("lookup", "auth", "serialisation", "routing", "server")

# A frame belongs to a part when its text contains one of these. py-spy's raw
# frames read "function (path/to/module.py:line)". A stack goes to the part of
# its innermost frame that names one, so uvicorn's `send` called from inside
# Starlette counts as server time, and SQLAlchemy under `get_member` as lookup.
_MARKERS: dict[str, tuple[str, ...]] = {
    "lookup": ("get_member (keyholder/accounts/members.py",),
    "auth": ("_authenticate (keyholder/web/deps.py",),
    "serialisation": (
        "serialize_response (fastapi/",
        "jsonable_encoder (fastapi/",
        "render (starlette/responses.py",
        "render (fastapi/responses.py",
        "member_out (keyholder/",
    ),
    "server": ("uvicorn/", "httptools", "h11/"),
    "routing": ("fastapi/", "starlette/"),
}
_ORDER = ("lookup", "auth", "serialisation", "server", "routing")


def part_of(stack: str) -> str:
    for frame in reversed(stack.split(";")):
        for part in _ORDER:
            if any(marker in frame for marker in _MARKERS[part]):
                return part
    return "server"


def fold(raw: str) -> tuple[collections.Counter[str], collections.Counter[str]]:
    """Samples per part, and per leaf function (self time), from py-spy's raw output."""
    parts: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        parts[part_of(stack)] += int(count)
        leaf = stack.rsplit(";", 1)[-1]
        leaves[leaf] += int(count)
    return parts, leaves


def worker_pid(master: int, timeout: float = 30.0) -> int:
    """The pid of uvicorn's one worker process under ``master``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children")
        pids = [int(p) for p in children.read_text().split()] if children.exists() else []
        # `keyholder serve --workers 1` may serve in the master process itself.
        candidates = [p for p in pids if "multiprocessing" not in _cmdline(p)] or [master]
        if candidates:
            return candidates[-1]
        time.sleep(0.2)
    raise RuntimeError("uvicorn's worker did not start")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--postgresql-url", default=member_lookup.DEFAULT_POSTGRESQL)
    parser.add_argument("--actor", choices=["staff", "member"], default="staff")
    parser.add_argument("--accounts", type=int, default=member_lookup.ACCOUNTS)
    parser.add_argument("--users", type=int, default=member_lookup.USERS)
    parser.add_argument("--duration", type=int, default=15, help="seconds sampled")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--flame", type=Path, help="also write a flame graph (SVG) here")
    parser.add_argument("--top", type=int, default=15, help="hottest functions to list")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if shutil.which("wrk") is None or not Path(py_spy).exists():
        print("needs wrk (apt-get install -y wrk) and py-spy (the dev extra)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    workdir = Path(tempfile.mkdtemp(prefix="keyholder-profile-"))
    server: member_lookup.Server | None = None
    try:
        with member_lookup.database(args.postgresql, args.postgresql_url, workdir) as url:
            runtime = member_lookup.make_runtime(url)
            try:
                migrate.upgrade(runtime.engine)
                seeded = member_lookup.seed(runtime, accounts=args.accounts, users=args.users)
            finally:
                runtime.close()
            probes = member_lookup.make_probes(seeded, 50_000, args.actor, random.Random(7))
            requests_file = workdir / "requests.txt"
            requests_file.write_text("".join(f"{p.path} {p.token}\n" for p in probes))
            script = workdir / "random_requests.lua"
            script.write_text(member_lookup.WRK_SCRIPT)

            server = member_lookup.start_keyholder(url, workdir, 1)
            server.wait_ready("/healthz")
            pid = worker_pid(server.process.pid)

            def drive(seconds: float) -> member_lookup.Run:
                return member_lookup.run_wrk(
                    server.port if server else 0,
                    "/",
                    script,
                    requests_file,
                    seconds=seconds,
                    connections=args.connections,
                    threads=1,
                )

            drive(3)  # warm-up: caches, prepared statements, the pool
            raw = workdir / "profile.txt"
            record = [py_spy, "record", "--pid", str(pid), "--rate", str(args.rate)]
            record += ["--duration", str(args.duration), "--nonblocking"]
            spy = subprocess.Popen(
                [*record, "--format", "raw", "--output", str(raw)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(1)  # py-spy attaches before the load starts
            run = drive(args.duration)
            _, err = spy.communicate(timeout=args.duration + 60)
            if spy.returncode != 0 or not raw.exists():
                print(f"py-spy failed ({spy.returncode}): {err}", file=sys.stderr)
                return 1
            if args.flame:
                subprocess.run(
                    [*record, "--format", "flamegraph", "--output", str(args.flame)],
                    check=False,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            parts, leaves = fold(raw.read_text())
    except KeyboardInterrupt:
        return 130
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    total = sum(parts.values()) or 1
    engine = "postgresql" if args.postgresql else "sqlite"
    print(f"member lookup on {engine}, 1 worker, as {args.actor}, under py-spy at {args.rate} Hz:")
    print(f"  {run.rps:,.0f} req/s while sampled (lower than unprofiled), errors {run.errors}")
    per_request_us = 1e6 * total / args.rate / max(1, run.rps * args.duration)
    print(f"  {total:,} samples, about {per_request_us:.0f} us of worker time per request")
    for part in PARTS:
        share = parts[part] / total
        print(f"  {part:<14} {share:6.1%}  ~{share * per_request_us:5.0f} us")
    print(f"hottest functions (self time), of {total:,} samples:")
    for leaf, count in leaves.most_common(args.top):
        print(f"  {count / total:6.1%}  {leaf}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
