"""Member-lookup benchmark: ``GET /api/enterprise-accounts/{name}/members/{email}``.

Seeds 10,000 accounts, 100,000 users and 300,000 memberships (SQLAlchemy Core
bulk inserts after the real migrations), serves Keyholder with
``keyholder serve --workers 2 --no-access-log`` and, next to it, a bare
FastAPI "hello" app under uvicorn with the same workers and settings, then
drives both with wrk (64 connections on loopback, a Lua script picking random
requests) and prints req/s, p50, p99 and errors for each, and their ratio.

80% of the member lookups hit (200) and 20% miss (404: half an existing user
who is not a member of that account, half an email nobody has). By default
every request carries the API token of a staff user (role ``agent``), the
identity a platform's back end asks with about any account: made through the
identity services with MFA enrolled by a real TOTP code (S18: staff act only
with MFA; an API token of a user with MFA counts as verified), so the path is
"check the token, find the account, find the member". ``--actor member`` sends
instead the token of a member of the account being asked about, which adds
the "is the caller a member" check.

    .venv/bin/python benchmarks/member_lookup.py                # SQLite
    .venv/bin/python benchmarks/member_lookup.py --postgresql   # throwaway PG database

Needs ``wrk`` (Debian: ``apt-get install -y wrk``). Runs are interleaved
(Keyholder, hello, Keyholder, hello, ...) after a warm-up, and the medians are
reported. Everything it starts is stopped and its temporary files removed.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyotp
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from keyholder.accounts.models import EnterpriseAccount, Membership
from keyholder.bootstrap import Runtime, bootstrap
from keyholder.config import Settings
from keyholder.db import migrate
from keyholder.db.engine import make_engine
from keyholder.identity import mfa
from keyholder.identity import service as identity
from keyholder.identity.actor import Actor
from keyholder.identity.models import ApiToken, StaffRole, User
from keyholder.identity.service import API_TOKEN_PREFIX
from keyholder.identity.tokens import new_token

ACCOUNTS = 10_000
USERS = 100_000
MEMBERS_PER_ACCOUNT = 30  # 10,000 x 30 = 300,000 memberships, 3 per user
HIT_RATIO = 0.8
PERMISSIONS = ("view", "view,create", "view,billing", "view,create,manage,billing")
STAFF_EMAIL = "bench-agent@keyholder.example"
STAFF_PASSWORD = "member bench correct horse battery"  # noqa: S105 - a throwaway database
DEFAULT_POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGETS = {"sqlite": 6_000, "postgresql": 3_000}
P99_TARGET_MS = 30.0

HELLO_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
"""

# Each wrk thread loads the request file, pre-formats every request once, then
# picks one at random per request. Status codes are counted per thread and
# summed in done(), which prints one machine-readable line.
WRK_SCRIPT = r"""
local threads = {}
local next_id = 1

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   requests_ = {}
   if args[1] == nil then requests_[1] = wrk.format() end
   for line in (args[1] and io.lines(args[1]) or function() return nil end) do
      local path, token = line:match("^(%S+)%s*(%S*)$")
      if path then
         local headers = {}
         if token ~= "" then headers["Authorization"] = "Bearer " .. token end
         table.insert(requests_, wrk.format("GET", path, headers))
      end
   end
   math.randomseed(id * 7919 + os.time())
   ok, missing, other = 0, 0, 0
end

function request()
   return requests_[math.random(#requests_)]
end

function response(status, headers, body)
   if status == 200 then ok = ok + 1
   elseif status == 404 then missing = missing + 1
   else other = other + 1 end
end

function done(summary, latency, requests)
   local s200, s404, sother = 0, 0, 0
   for _, thread in ipairs(threads) do
      s200 = s200 + thread:get("ok")
      s404 = s404 + thread:get("missing")
      sother = sother + thread:get("other")
   end
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d " ..
      "s200=%d s404=%d sother=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      latency.max, s200, s404, sother, e.connect, e.read, e.write, e.timeout))
end
"""


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    ok: int
    not_found: int

    @classmethod
    def parse(cls, output: str, *, not_found_is_error: bool) -> Run:
        line = next((ln for ln in output.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no RESULT line:\n{output}")
        v = {k: int(x) for k, x in (item.split("=") for item in line.split()[1:])}
        socket_errors = v["connect"] + v["read"] + v["write"] + v["timeout"]
        unexpected = v["sother"] + (v["s404"] if not_found_is_error else 0)
        return cls(
            rps=v["requests"] / (v["duration_us"] / 1e6),
            p50_ms=v["p50_us"] / 1000,
            p99_ms=v["p99_us"] / 1000,
            errors=unexpected + socket_errors,
            ok=v["s200"],
            not_found=v["s404"],
        )


def median_run(runs: list[Run]) -> Run:
    return Run(
        rps=statistics.median(r.rps for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),
        ok=sum(r.ok for r in runs),
        not_found=sum(r.not_found for r in runs),
    )


# --- seeding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    staff_token: str
    account_names: list[str]
    member_emails: list[list[str]]  # per account
    member_tokens: list[str]  # per account: the token of one of its members
    user_emails: list[str]


def user_email(i: int) -> str:
    return f"user{i:06d}@bench{i % 97:02d}.example"


# Checkpoints of the seeding's audit events: kept out of the checkout's var/, whose
# checkpoints belong to the developer's own database.
SEED_AUDIT_CHECKPOINTS = Path(tempfile.gettempdir()) / "keyholder-bench-audit-checkpoints.jsonl"


def make_runtime(url: str) -> Runtime:
    """A runtime on the benchmark's database with the settings ``keyholder serve`` gets."""
    settings = Settings(
        env="development",
        database_url=url,
        audit_checkpoint_file=SEED_AUDIT_CHECKPOINTS,
        _env_file=None,  # type: ignore[call-arg]
    )
    return bootstrap(settings)


def create_mfa_staff(runtime: Runtime, email: str, password: str, name: str) -> None:
    """A staff agent made through the identity services, MFA enrolled with a real TOTP code.

    S18: staff act only with MFA, so a staff user inserted bare is refused (403).
    Enrolling the way a person does keeps the benchmark on the product's path."""
    staff = identity.create_user(
        runtime.uow(),
        email,
        name=name,
        password=password,
        staff_role=StaffRole.AGENT,
        actor=Actor.operator("bench"),
        hasher=runtime.password_hasher,
    )
    enrolment = mfa.begin_mfa_enrolment(
        runtime.uow(),
        actor=Actor.for_user(staff),
        password=password,
        limiter=runtime.rate_limiter,
        hasher=runtime.password_hasher,
    )
    mfa.confirm_mfa_enrolment(
        runtime.uow(),
        pyotp.TOTP(enrolment.secret).now(),
        actor=Actor.for_user(staff),
        limiter=runtime.rate_limiter,
    )


def issue_api_token(runtime: Runtime, email: str, name: str) -> str:
    """A fresh API token for ``email`` (made after MFA: it counts as verified)."""
    return identity.create_api_token(
        runtime.uow(), email, name=name, actor=Actor.operator("bench")
    ).token


def seed(runtime: Runtime, *, accounts: int = ACCOUNTS, users: int = USERS) -> Seeded:
    """``accounts`` accounts, ``users`` users, 30 memberships per account, one token per
    account for one of its members (Core inserts), and the staff agent with MFA."""
    if users < MEMBERS_PER_ACCOUNT:
        raise ValueError(f"need at least {MEMBERS_PER_ACCOUNT} users, one per member")
    now = datetime.now(UTC)
    rng = random.Random(20260115)
    user_ids = [uuid.uuid4() for _ in range(users)]
    emails = [user_email(i) for i in range(users)]
    account_ids = [uuid.uuid4() for _ in range(accounts)]
    names = [f"bench-{i:05d}" for i in range(accounts)]
    # Each account gets 30 consecutive users of a shuffled order; every user is in 3 accounts.
    order = list(range(users))
    rng.shuffle(order)
    members = [
        [order[(a * MEMBERS_PER_ACCOUNT + j) % users] for j in range(MEMBERS_PER_ACCOUNT)]
        for a in range(accounts)
    ]
    member_tokens: list[str] = []
    token_rows = []
    for a in range(accounts):
        token, token_hash = new_token(API_TOKEN_PREFIX)
        member_tokens.append(token)
        token_rows.append(
            {
                "id": uuid.uuid4(),
                "user_id": user_ids[members[a][0]],
                "name": "bench",
                "token_hash": token_hash,
                "created_at": now,
            }
        )

    user_rows = [
        {
            "id": user_ids[i],
            "email": emails[i],
            "name": f"User {i}",
            "password_hash": None,
            "staff_role": None,
            "is_active": True,
            "created_at": now,
        }
        for i in range(users)
    ]
    account_rows = [
        {
            "id": account_ids[a],
            "name": names[a],
            "display_name": f"Bench {a}",
            "contract_number": f"ENT-BENCH-{a:06d}",
            "created_at": now,
            "updated_at": now,
        }
        for a in range(accounts)
    ]
    membership_rows = [
        {
            "id": uuid.uuid4(),
            "account_id": account_ids[a],
            "user_id": user_ids[u],
            "permissions": frozenset(PERMISSIONS[(a + j) % len(PERMISSIONS)].split(",")),
            "added_by_id": None,
            "created_at": now,
            "updated_at": now,
        }
        for a in range(accounts)
        for j, u in enumerate(members[a])
    ]
    engine = runtime.engine
    with engine.begin() as connection:
        connection.execute(insert(User), user_rows)
        connection.execute(insert(EnterpriseAccount), account_rows)
    with engine.begin() as connection:
        connection.execute(insert(Membership), membership_rows)
        connection.execute(insert(ApiToken), token_rows)
    create_mfa_staff(runtime, STAFF_EMAIL, STAFF_PASSWORD, "Bench Agent")
    staff_token = issue_api_token(runtime, STAFF_EMAIL, "bench")
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return Seeded(
        staff_token=staff_token,
        account_names=names,
        member_emails=[[emails[u] for u in members[a]] for a in range(accounts)],
        member_tokens=member_tokens,
        user_emails=emails,
    )


@dataclass(frozen=True)
class Probe:
    path: str
    token: str
    hit: bool
    email: str


def make_probes(seeded: Seeded, count: int, actor: str, rng: random.Random) -> list[Probe]:
    probes = []
    for _ in range(count):
        a = rng.randrange(len(seeded.account_names))
        roll = rng.random()
        if roll < HIT_RATIO:
            email, hit = rng.choice(seeded.member_emails[a]), True
        elif roll < HIT_RATIO + (1 - HIT_RATIO) / 2:
            # A real user, just not a member of this account.
            email = rng.choice(seeded.user_emails)
            while email in seeded.member_emails[a]:
                email = rng.choice(seeded.user_emails)
            hit = False
        else:
            email, hit = f"nobody{rng.randrange(10**6):06d}@bench.example", False
        token = seeded.staff_token if actor == "staff" else seeded.member_tokens[a]
        path = f"/api/enterprise-accounts/{seeded.account_names[a]}/members/{email}"
        probes.append(Probe(path, token, hit, email))
    return probes


# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server in its own process group, stopped (group and all) by ``stop``."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, port: int):
        self.name, self.port = name, port
        self.log_path = cwd / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError):
                status, _ = get(self.port, path)
                if status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(
            f"{self.name} did not answer {path} in {timeout:.0f}s:\n{self.log_tail()}"
        )

    def log_tail(self) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        else:
            # The master is gone; make sure no worker of its group is left behind.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


def keyholder_env(url: str) -> dict[str, str]:
    """``keyholder serve``'s environment: development settings on the benchmark's database."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("KEYHOLDER_")}
    return base | {
        "KEYHOLDER_ENV": "development",
        "KEYHOLDER_DATABASE_URL": url,
        "KEYHOLDER_RELAY_IN_PROCESS": "false",
    }


def start_keyholder(
    url: str,
    workdir: Path,
    workers: int,
    extra_env: dict[str, str] | None = None,
    *,
    name: str = "keyholder",
    access_log: bool = False,
) -> Server:
    """``keyholder serve --workers N --no-access-log`` on a free loopback port (not yet ready);
    with ``access_log``, its one log line per request stays on."""
    port = free_port()
    argv = [sys.executable, "-m", "keyholder", "serve", "--host", "127.0.0.1", "--port"]
    argv += [str(port), "--workers", str(workers)]
    argv += ["--access-log"] if access_log else ["--no-access-log"]
    return Server(name, argv, keyholder_env(url) | (extra_env or {}), workdir, port)


def cpu_busy_share(seconds: float = 1.0) -> float:
    """Share of the machine's CPU time spent outside idle over ``seconds`` (Linux; else 0)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    try:
        total1, idle1 = sample()
        time.sleep(seconds)
        total2, idle2 = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    return 1 - (idle2 - idle1) / max(1, total2 - total1)


def get(port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def check_answers(port: int, probes: list[Probe]) -> None:
    """Hits answer 200 with the member asked for, misses 404: before measuring anything."""
    for probe in probes:
        status, body = get(port, probe.path, probe.token)
        expected = 200 if probe.hit else 404
        if status != expected:
            raise RuntimeError(f"GET {probe.path}: {status}, expected {expected}: {body[:300]!r}")
        if probe.hit and json.loads(body)["user"]["email"] != probe.email:
            raise RuntimeError(f"GET {probe.path} answered another member: {body[:300]!r}")


def run_wrk(
    port: int,
    path: str,
    script: Path,
    requests_file: Path | None,
    *,
    seconds: float,
    connections: int,
    threads: int,
) -> Run:
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{path}",
    ]
    if requests_file is not None:
        argv += ["--", str(requests_file)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    # The member lookups answer 404 on purpose; "hello" never should.
    return Run.parse(result.stdout, not_found_is_error=requests_file is None)


@contextlib.contextmanager
def database(use_postgresql: bool, server_url: str, workdir: Path) -> Iterator[str]:
    if not use_postgresql:
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    name = f"keyholder_bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgresql", action="store_true", help="use a throwaway PostgreSQL database"
    )
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("KEYHOLDER_BENCH_POSTGRESQL_URL", DEFAULT_POSTGRESQL),
    )
    parser.add_argument(
        "--actor",
        choices=["staff", "member"],
        default="staff",
        help="whose API token the requests carry (default: a staff agent)",
    )
    parser.add_argument(
        "--accounts", type=int, default=ACCOUNTS, help="smaller for a quick check only"
    )
    parser.add_argument("--users", type=int, default=USERS, help=f"at least {MEMBERS_PER_ACCOUNT}")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="keep Keyholder's log line per request on (as in production; off by default)",
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per server")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2

    # SIGTERM/SIGINT unwind through the finally blocks, which stop servers and remove files.
    def _interrupted(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupted)

    workdir = Path(tempfile.mkdtemp(prefix="keyholder-bench-"))
    servers: list[Server] = []
    engine_name = "postgresql" if args.postgresql else "sqlite"
    try:
        with database(args.postgresql, args.postgresql_url, workdir) as url:
            started = time.monotonic()
            runtime = make_runtime(url)
            try:
                migrate.upgrade(runtime.engine)
                seeded = seed(runtime, accounts=args.accounts, users=args.users)
            finally:
                runtime.close()
            print(
                f"seeded {args.accounts:,} accounts, {args.users:,} users, "
                f"{args.accounts * MEMBERS_PER_ACCOUNT:,} memberships on {engine_name} "
                f"in {time.monotonic() - started:.1f}s",
                flush=True,
            )

            rng = random.Random(7)
            probes = make_probes(seeded, 50_000, args.actor, rng)
            requests_file = workdir / "requests.txt"
            requests_file.write_text("".join(f"{p.path} {p.token}\n" for p in probes))
            script = workdir / "random_requests.lua"
            script.write_text(WRK_SCRIPT)
            (workdir / "hello_app.py").write_text(textwrap.dedent(HELLO_APP))

            python = sys.executable
            base_env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHOLDER_")}
            keyholder = start_keyholder(url, workdir, args.workers, access_log=args.access_log)
            servers.append(keyholder)
            kport, hport = keyholder.port, free_port()
            hello = Server(
                "hello",
                [
                    python,
                    "-m",
                    "uvicorn",
                    "hello_app:app",
                    "--app-dir",
                    str(workdir),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(hport),
                    "--workers",
                    str(args.workers),
                    "--no-access-log",
                    "--no-proxy-headers",
                ],
                base_env,
                workdir,
                hport,
            )
            servers.append(hello)
            keyholder.wait_ready("/healthz")
            hello.wait_ready("/hello")
            check_answers(kport, make_probes(seeded, 200, args.actor, rng))

            def measure_keyholder(seconds: float) -> Run:
                return run_wrk(
                    kport,
                    "/",
                    script,
                    requests_file,
                    seconds=seconds,
                    connections=args.connections,
                    threads=args.threads,
                )

            def measure_hello(seconds: float) -> Run:
                return run_wrk(
                    hport,
                    "/hello",
                    script,
                    None,
                    seconds=seconds,
                    connections=args.connections,
                    threads=args.threads,
                )

            busy = cpu_busy_share()
            print(
                f"warming up ({args.warmup}s each); then {args.runs} x {args.duration}s, "
                f"{args.connections} connections, {args.workers} workers, requests as a "
                f"{args.actor}; {os.cpu_count()} CPUs, {busy:.0%} busy with other work",
                flush=True,
            )
            if busy > 0.1:
                print("  (other work lowers both numbers; their ratio holds better)", flush=True)
            measure_keyholder(args.warmup)
            measure_hello(args.warmup)
            member_runs: list[Run] = []
            hello_runs: list[Run] = []
            for i in range(args.runs):
                member_runs.append(measure_keyholder(args.duration))
                hello_runs.append(measure_hello(args.duration))
                m, h = member_runs[-1], hello_runs[-1]
                print(
                    f"  run {i + 1}: member lookup {m.rps:8,.0f} req/s  p50 {m.p50_ms:5.2f} ms  "
                    f"p99 {m.p99_ms:6.2f} ms  errors {m.errors}  "
                    f"(200: {m.ok:,}, 404: {m.not_found:,}) | hello {h.rps:8,.0f} req/s",
                    flush=True,
                )
            for server in servers:
                server.stop()
            servers.clear()

        m, h = median_run(member_runs), median_run(hello_runs)
        target = TARGETS[engine_name]
        passed = m.rps >= target and m.p99_ms < P99_TARGET_MS and m.errors == 0
        miss_share = m.not_found / max(1, m.ok + m.not_found)
        print()
        print(f"member lookup on {engine_name} (median of {args.runs} runs, as {args.actor}):")
        print(
            f"  {m.rps:,.0f} req/s   p50 {m.p50_ms:.2f} ms   p99 {m.p99_ms:.2f} ms   "
            f"errors {m.errors}   (404s {miss_share:.0%})"
        )
        print(
            f"hello endpoint: {h.rps:,.0f} req/s   p50 {h.p50_ms:.2f} ms   "
            f"p99 {h.p99_ms:.2f} ms   errors {h.errors}"
        )
        print(f"ratio member lookup / hello: {m.rps / h.rps:.2f}")
        print(
            f"target: >= {target:,} req/s, p99 < {P99_TARGET_MS:g} ms, 0 errors: "
            f"{'PASS' if passed else 'FAIL'}"
        )
        return 0 if passed else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
