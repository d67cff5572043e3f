"""Login-flood benchmark: does a flood of sign-ins starve the member lookup? (S16)

Seeds the member-lookup data set (``member_lookup.seed``: 10,000 accounts,
100,000 users, 300,000 memberships) plus ``--flood-accounts`` users with a
real argon2id password hash, serves Keyholder with ``keyholder serve
--workers 2`` and drives ``GET /api/enterprise-accounts/{name}/members/{email}``
with wrk (64 connections, the member-lookup request mix and staff token) in
three conditions:

1. quiet: member lookups alone;
2. flood, bounded pool: a second wrk hammers ``POST /api/session`` with wrong
   passwords for the flood accounts, the server running with the default
   ``KEYHOLDER_HASHING_WORKERS``;
3. flood, as before: the same flood with ``KEYHOLDER_HASHING_WORKERS=40`` and
   ``KEYHOLDER_HASHING_NICENESS=0``: as many hashes at once, at normal
   priority, as FastAPI's thread pool ran before the pool existed.

The sign-in limits are raised through the environment for the run
(``KEYHOLDER_LOGIN_LIMIT_PER_*``) so that every flood request really hashes:
on loopback every request comes from the same client address. It prints the
member lookups' req/s, p50 and p99 in each condition, and the flood's sign-ins
per second and p99. Runs are interleaved (quiet, bounded, 40; quiet, ...) and
medians reported.

4. abandoned sign-ins (S40): a third server with the real sign-in limits and
   the default pool; ``--addresses`` loopback addresses each post
   ``--per-address`` wrong sign-ins (each within its own limits) and hang up
   ``--abandon-after`` seconds later, while a real user signs in once a
   second from yet another address (``abandoned_signins.py``). It prints how
   many real sign-ins answered 200 within 2 s, their p50 and max, and the
   server's CPU time and how long it stayed busy after the run.
   ``--abandoned-only`` runs this condition alone.

    .venv/bin/python benchmarks/login_flood.py                 # SQLite
    .venv/bin/python benchmarks/login_flood.py --postgresql    # throwaway PG database

Needs ``wrk``. Everything it starts is stopped and its files removed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from abandoned_signins import AbandonedRun, Plan, run_abandoned
from member_lookup import (
    DEFAULT_POSTGRESQL,
    WRK_SCRIPT,
    Run,
    Server,
    check_answers,
    cpu_busy_share,
    database,
    make_probes,
    make_runtime,
    median_run,
    run_wrk,
    seed,
    start_keyholder,
)
from sqlalchemy import Engine, insert

from keyholder.config import Settings
from keyholder.db import migrate
from keyholder.identity.models import User
from keyholder.identity.passwords import PasswordHasher

FLOOD_PASSWORD = "flood account pass phrase 7f3a"  # noqa: S105 - benchmark data
FLOOD_EMAIL = "flood%05d@flood.example"
UNLIMITED = "1000000 per 1 minute"
# Every flood request from loopback must really hash, so the sign-in limits are raised.
RAISED_LIMITS = {
    "KEYHOLDER_LOGIN_LIMIT_PER_ACCOUNT": UNLIMITED,
    "KEYHOLDER_LOGIN_LIMIT_PER_CLIENT": UNLIMITED,
    "KEYHOLDER_LOGIN_LIMIT_PER_ACCOUNT_CLIENT": UNLIMITED,
}
DEFAULT_HASHING_WORKERS = Settings.model_fields["hashing_workers"].default
DEFAULT_NICENESS = Settings.model_fields["hashing_niceness"].default
# The real sign-in limits, for the abandoned-sign-ins server.
DEFAULT_LIMITS = {
    f"KEYHOLDER_{name.upper()}": str(field.default)
    for name, field in Settings.model_fields.items()
    if name.startswith("login_limit_")
}

# The flood's JSON body, formatted with (account number, account number) by Lua's
# string.format or Python's %.
FLOOD_BODY = '{"email": "flood%05d@flood.example", "password": "wrong password %d"}'

# POST /api/session with a wrong password for a random flood account; counts
# 401 (the expected answer), 429 (throttled: the limits were not raised) and
# anything else, and prints one machine-readable line.
FLOOD_SCRIPT = r"""
local threads = {}
local next_id = 1

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local accounts = tonumber(args[1])
   requests_ = {}
   for i = 0, accounts - 1 do
      local body = string.format('FLOOD_BODY', i, i)
      table.insert(requests_, wrk.format(
         "POST", "/api/session", {["Content-Type"] = "application/json"}, body))
   end
   math.randomseed(id * 104729 + os.time())
   denied, throttled, other = 0, 0, 0
end

function request()
   return requests_[math.random(#requests_)]
end

function response(status, headers, body)
   if status == 401 then denied = denied + 1
   elseif status == 429 then throttled = throttled + 1
   else other = other + 1 end
end

function done(summary, latency, requests)
   local d, t, o = 0, 0, 0
   for _, thread in ipairs(threads) do
      d = d + thread:get("denied")
      t = t + thread:get("throttled")
      o = o + thread:get("other")
   end
   local e = summary.errors
   io.write(string.format(
      "FLOOD requests=%d duration_us=%d p50_us=%d p99_us=%d denied=%d throttled=%d " ..
      "other=%d timeout=%d socket=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      d, t, o, e.timeout, e.connect + e.read + e.write))
end
""".replace("FLOOD_BODY", FLOOD_BODY)


@dataclass(frozen=True)
class Flood:
    logins_per_s: float
    p50_ms: float
    p99_ms: float
    denied: int
    unexpected: int  # 429s, other statuses, socket errors and timeouts

    @classmethod
    def parse(cls, output: str) -> Flood:
        line = next((ln for ln in output.splitlines() if ln.startswith("FLOOD ")), None)
        if line is None:
            raise RuntimeError(f"the flood's wrk printed no FLOOD line:\n{output}")
        v = {k: int(x) for k, x in (item.split("=") for item in line.split()[1:])}
        return cls(
            logins_per_s=v["denied"] / (v["duration_us"] / 1e6),
            p50_ms=v["p50_us"] / 1000,
            p99_ms=v["p99_us"] / 1000,
            denied=v["denied"],
            unexpected=v["throttled"] + v["other"] + v["timeout"] + v["socket"],
        )


def seed_flood_accounts(engine: Engine, count: int) -> None:
    """``count`` users with one real argon2id hash (made with the default parameters)."""
    password_hash = PasswordHasher().hash(FLOOD_PASSWORD)
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "email": FLOOD_EMAIL % i,
            "name": f"Flood {i}",
            "password_hash": password_hash,
            "staff_role": None,
            "is_active": True,
            "created_at": now,
        }
        for i in range(count)
    ]
    with engine.begin() as connection:
        connection.execute(insert(User), rows)


def start_flood(
    port: int, script: Path, accounts: int, *, seconds: float, connections: int
) -> subprocess.Popen[str]:
    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/",
        "--",
        str(accounts),
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_flood(process: subprocess.Popen[str], timeout: float) -> Flood:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"flood wrk failed ({process.returncode}):\n{out}\n{err}")
    return Flood.parse(out)


def settle(timeout: float = 60.0) -> None:
    """Wait until the machine is idle again: sign-ins queued when a flood stops still hash."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and cpu_busy_share(0.5) > 0.1:
        pass


def abandoned_runs(server: Server, args: argparse.Namespace) -> list[AbandonedRun]:
    """The abandoned-sign-ins condition: a warm-up round, then ``args.runs`` rounds."""
    busy = cpu_busy_share()
    print(
        f"abandoned sign-ins: {args.addresses} addresses x {args.per_address}, each hung up "
        f"after {args.abandon_after:.2f} s, real limits, hashing niceness "
        f"{args.abandoned_niceness if args.abandoned_niceness is not None else DEFAULT_NICENESS}; "
        f"{os.cpu_count()} CPUs, {busy:.0%} "
        f"busy, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    runs: list[AbandonedRun] = []
    for round_ in range(1 + args.runs):  # round 0 warms up
        plan = Plan(
            addresses=args.addresses,
            per_address=args.per_address,
            abandon_after=args.abandon_after,
            flood_email=FLOOD_EMAIL,
            # Flood accounts the abandoned sign-ins never touch, new ones each round.
            real_email=FLOOD_EMAIL % (args.flood_accounts - 1 - 2 * round_),
            quiet_email=FLOOD_EMAIL % (args.flood_accounts - 2 - 2 * round_),
            password=FLOOD_PASSWORD,
        )
        # The server runs in its own process group: its id is the group's.
        run = run_abandoned(server.port, server.process.pid, round_, plan)
        label = "warm-up" if round_ == 0 else f"run {round_}"
        print(f"  {label}: {run.line()}", flush=True)
        if round_:
            runs.append(run)
    return runs


def abandoned_server_env(args: argparse.Namespace) -> dict[str, str]:
    if args.abandoned_niceness is None:
        return {}
    return {"KEYHOLDER_HASHING_NICENESS": str(args.abandoned_niceness)}


def report_abandoned(engine_name: str, runs: list[AbandonedRun]) -> None:
    if not runs:
        return
    ok = sum(r.real_ok_in_time for r in runs)
    total = sum(len(r.real_statuses) for r in runs)
    print(f"abandoned sign-ins on {engine_name}, {len(runs)} runs:")
    print(
        f"  quiet sign-in p50 {statistics.median(s for r in runs for s in r.quiet_seconds):.2f} s; "
        f"real sign-ins during the flood answered 200 within 2 s: {ok}/{total}; p50 "
        f"{statistics.median(r.real_p50 for r in runs):.2f} s, worst "
        f"{max(r.real_max for r in runs):.2f} s; server CPU per run "
        f"{statistics.median(r.server_cpu_seconds for r in runs):.1f} s (median), busy "
        f"{statistics.median(r.busy_after_seconds for r in runs):.1f} s after the run; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("KEYHOLDER_BENCH_POSTGRESQL_URL", DEFAULT_POSTGRESQL),
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64, help="member-lookup connections")
    parser.add_argument("--flood-connections", type=int, default=32)
    parser.add_argument("--flood-accounts", type=int, default=1000)
    parser.add_argument(
        "--unbounded-workers",
        type=int,
        default=40,
        help="hashing workers of the 'as before' server (FastAPI's thread pool: 40)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--addresses", type=int, default=32, help="abandoning client addresses")
    parser.add_argument("--per-address", type=int, default=10, help="abandoned sign-ins each")
    parser.add_argument("--abandon-after", type=float, default=0.25, help="seconds")
    parser.add_argument(
        "--abandoned-only", action="store_true", help="only the abandoned-sign-ins condition"
    )
    parser.add_argument(
        "--abandoned-niceness",
        type=int,
        default=None,
        help="KEYHOLDER_HASHING_NICENESS of the abandoned-sign-ins server (default: the setting's)",
    )
    args = parser.parse_args(argv)
    args.flood_accounts = max(
        args.flood_accounts, args.addresses * args.per_address + 2 * args.runs + 2
    )

    if shutil.which("wrk") is None and not args.abandoned_only:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2

    def _interrupted(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupted)

    workdir = Path(tempfile.mkdtemp(prefix="keyholder-flood-"))
    servers: list[Server] = []
    engine_name = "postgresql" if args.postgresql else "sqlite"
    try:
        with database(args.postgresql, args.postgresql_url, workdir) as url:
            started = time.monotonic()
            runtime = make_runtime(url)
            try:
                migrate.upgrade(runtime.engine)
                seeded = seed(runtime)
                seed_flood_accounts(runtime.engine, args.flood_accounts)
            finally:
                runtime.close()
            print(
                f"seeded the member-lookup data and {args.flood_accounts:,} flood accounts "
                f"on {engine_name} in {time.monotonic() - started:.1f}s",
                flush=True,
            )
            rng = random.Random(7)
            requests_file = workdir / "requests.txt"
            requests_file.write_text(
                "".join(f"{p.path} {p.token}\n" for p in make_probes(seeded, 50_000, "staff", rng))
            )
            lookup_script = workdir / "random_requests.lua"
            lookup_script.write_text(WRK_SCRIPT)
            flood_script = workdir / "flood.lua"
            flood_script.write_text(FLOOD_SCRIPT)

            def serve(name: str, extra: dict[str, str]) -> Server:
                server = start_keyholder(
                    url, workdir, args.workers, RAISED_LIMITS | extra, name=name
                )
                servers.append(server)
                server.wait_ready("/healthz")
                return server

            def lookups(port: int, seconds: float) -> Run:
                return run_wrk(
                    port,
                    "/",
                    lookup_script,
                    requests_file,
                    seconds=seconds,
                    connections=args.connections,
                    threads=2,
                )

            def flooded(port: int, seconds: float) -> tuple[Run, Flood]:
                # The flood starts first and ends last, so lookups see only its steady state.
                flood = start_flood(
                    port,
                    flood_script,
                    args.flood_accounts,
                    seconds=seconds + 3,
                    connections=args.flood_connections,
                )
                try:
                    time.sleep(1.5)
                    run = lookups(port, seconds)
                    return run, finish_flood(flood, timeout=seconds + 40)
                finally:
                    if flood.poll() is None:
                        flood.kill()
                        flood.communicate()
                    settle()

            quiet: list[Run] = []
            with_pool: list[tuple[Run, Flood]] = []
            without_pool: list[tuple[Run, Flood]] = []
            if not args.abandoned_only:
                bounded = serve("bounded", {})
                unbounded = serve(
                    "unbounded",
                    {
                        "KEYHOLDER_HASHING_WORKERS": str(args.unbounded_workers),
                        "KEYHOLDER_HASHING_NICENESS": "0",
                    },
                )
                check_answers(bounded.port, make_probes(seeded, 100, "staff", rng))
                busy = cpu_busy_share()
                print(
                    f"{args.runs} x {args.duration}s per condition, {args.connections} lookup "
                    f"connections, {args.flood_connections} flood connections, {args.workers} "
                    f"workers, bounded pool of {DEFAULT_HASHING_WORKERS} per worker at nice "
                    f"+{DEFAULT_NICENESS}; "
                    f"{os.cpu_count()} CPUs, {busy:.0%} busy with other work",
                    flush=True,
                )
                lookups(bounded.port, args.warmup)
                flooded(unbounded.port, args.warmup)
                flooded(bounded.port, args.warmup)

                for i in range(args.runs):
                    quiet.append(lookups(bounded.port, args.duration))
                    with_pool.append(flooded(bounded.port, args.duration))
                    without_pool.append(flooded(unbounded.port, args.duration))
                    q, (b, bf), (u, uf) = quiet[-1], with_pool[-1], without_pool[-1]
                    print(
                        f"  run {i + 1}: quiet p99 {q.p99_ms:6.2f} ms {q.rps:6,.0f} req/s | "
                        f"bounded p99 {b.p99_ms:6.2f} ms {b.rps:6,.0f} req/s, "
                        f"{bf.logins_per_s:5.1f} logins/s | "
                        f"as before p99 {u.p99_ms:6.2f} ms {u.rps:6,.0f} req/s, "
                        f"{uf.logins_per_s:5.1f} logins/s",
                        flush=True,
                    )

            limited = serve("limited", DEFAULT_LIMITS | abandoned_server_env(args))
            abandoned = abandoned_runs(limited, args)

            for server in servers:
                server.stop()
            servers.clear()

        def report(label: str, run: Run, floods: list[Flood] | None) -> None:
            line = (
                f"  {label:<24} {run.rps:7,.0f} req/s   p50 {run.p50_ms:6.2f} ms   "
                f"p99 {run.p99_ms:7.2f} ms   errors {run.errors}"
            )
            if floods:
                line += (
                    f"   | sign-ins {statistics.median(f.logins_per_s for f in floods):5.1f}/s, "
                    f"p99 {statistics.median(f.p99_ms for f in floods):6.0f} ms, "
                    f"unexpected {sum(f.unexpected for f in floods)}"
                )
            print(line)

        print()
        report_abandoned(engine_name, abandoned)
        if args.abandoned_only:
            return 0
        print(f"member lookup on {engine_name}, median of {args.runs} runs:")
        report("quiet", median_run(quiet), None)
        report(
            "flood, bounded pool",
            median_run([r for r, _ in with_pool]),
            [f for _, f in with_pool],
        )
        report(
            f"flood, as before ({args.unbounded_workers})",
            median_run([r for r, _ in without_pool]),
            [f for _, f in without_pool],
        )
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
