"""Desk queue benchmark: ``GET /api/desk/tickets?state=open[&account=<name>]&limit=50``.

Builds a desk of 1,000,000 tickets, 15% of them open (new, open, pending, on
hold; most of them recent), over 10,000 enterprise accounts with a Zipf skew
(the biggest has 8% of the tickets, the median one 17), 20 agents
and 4 groups. The schema comes from ``keyholder db upgrade``; the staff user
who asks (role ``agent``, MFA enrolled with a real TOTP code, an API token made
after that) and the agents come from the identity services; accounts are Core
inserts and tickets a bulk load (SQLite: ``executemany`` with the indexes
dropped and rebuilt; PostgreSQL: ``COPY``), then ``ANALYZE``. The database is
kept, and reused on the next run while its marker (data version, row counts,
migration head) still matches: SQLite in a scratch directory outside the repo,
PostgreSQL as the database ``keyholder_bench_desk``.

Serves Keyholder with ``keyholder serve --workers 2 --no-access-log`` and a bare
FastAPI "hello" app beside it, prints the plans of the queue's queries, then
drives each query with wrk and prints req/s, p50, p99 and errors, medians of
3 runs, against the target p99 < 20 ms:

- newest 50 open tickets (the default queue);
- newest 50 open of the biggest account (about 12,000 open tickets);
- newest 50 open of a typical account: each request a random account of the
  10,000 (most have a handful of open tickets, some none).

    .venv/bin/python benchmarks/desk_queue.py                # SQLite
    .venv/bin/python benchmarks/desk_queue.py --postgresql   # PostgreSQL

Needs ``wrk`` (Debian: ``apt-get install -y wrk``). Everything it starts is
stopped; only the database is left, for the next run (``--rebuild`` remakes it).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from member_lookup import (
    DEFAULT_POSTGRESQL,
    HELLO_APP,
    WRK_SCRIPT,
    Run,
    Server,
    cpu_busy_share,
    create_mfa_staff,
    free_port,
    get,
    issue_api_token,
    keyholder_env,
    make_runtime,
    median_run,
    run_wrk,
)
from sqlalchemy import Engine, event, insert, inspect, text
from sqlalchemy.engine import make_url

from keyholder.accounts.models import EnterpriseAccount
from keyholder.bootstrap import Runtime
from keyholder.db import migrate
from keyholder.db.engine import make_engine
from keyholder.desk.queue import QueueFilter, list_queue_rows
from keyholder.identity import service as identity
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole

TICKETS = 1_000_000
OPEN = 150_000  # 15%
RECENT = 200_000  # the newest tickets: 120,000 of the open ones are among them
OPEN_RECENT = 120_000
ACCOUNTS = 10_000
NO_ACCOUNT = 0.2  # share of tickets from people outside any enterprise account
ZIPF_S = 1.0  # account sizes: the k-th biggest gets a share proportional to 1 / k^s
AGENTS = 20
DATA_VERSION = 2  # bump whenever the generated data changes: the next run rebuilds
SEED = 20261126
DATABASE_NAME = "keyholder_bench_desk"
MARKER_TABLE = "desk_bench_marker"
P99_TARGET_MS = 20.0
STAFF_EMAIL = "desk-bench@example.com"
STAFF_PASSWORD = "desk bench correct horse battery"  # noqa: S105 - a throwaway database
PAGE = 50
TYPICAL_SAMPLE = 5_000  # typical-account requests: this many random accounts

FIRST_CREATED = datetime(2023, 11, 1, tzinfo=UTC)
SPACING = 90  # seconds between two tickets: 1,000,000 tickets in 2.85 years
OPEN_STATUSES = (("new", 20), ("open", 40), ("pending", 25), ("on_hold", 15))
DONE_STATUSES = (("solved", 30), ("closed", 70))
GROUPS = (("support", 60), ("billing", 20), ("security", 10), ("onboarding", 10))
PRIORITIES = (("low", 20), ("normal", 60), ("high", 15), ("urgent", 5))
SUBJECTS = (
    "Cannot sign in to the dashboard",
    "Invoice for last month is missing",
    "Please add a new administrator to our account",
    "Two-factor codes are rejected",
    "Export of audit log fails",
    "Password reset email never arrives",
    "Question about our contract renewal",
    "API token stopped working",
    "Remove a former employee",
    "SSO configuration help",
)
# The columns the bulk load writes, in order (the rest keep their defaults, NULL).
TICKET_COLUMNS = (
    "id",
    "subject",
    "kind",
    "status",
    "is_open",
    "priority",
    "group",
    "requester_email",
    "requester_name",
    "account_id",
    "assignee_id",
    "created_at",
    "updated_at",
    "customer_updated_at",
    "first_response_due_at",
    "first_responded_at",
    "resolution_due_at",
    "sla_paused_since",
    "solved_at",
    "closed_at",
)


# --- the desk's data ---------------------------------------------------------------------------


def account_name(rank: int) -> str:
    return f"acct-{rank:05d}"  # acct-00000 is the biggest


def marker() -> dict[str, Any]:
    """What a reusable database must have been built with."""
    return {
        "data_version": DATA_VERSION,
        "seed": SEED,
        "tickets": TICKETS,
        "open": OPEN,
        "accounts": ACCOUNTS,
        "agents": AGENTS,
    }


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...], count: int) -> list[str]:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights, k=count)


def _utc_text(moment: datetime) -> str:
    # SQLAlchemy's SQLite format for UTCDateTime (naive UTC); PostgreSQL reads the
    # same text as UTC because the loading session runs with TIME ZONE 'UTC'.
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def ticket_rows(
    account_ids: list[str], agent_ids: list[str], *, scale: int = 1
) -> Iterator[tuple[Any, ...]]:
    """TICKETS / scale rows (OPEN / scale open, ...) in TICKET_COLUMNS order; UUIDs as
    32 hex digits, times as UTC text. ``scale`` > 1 only for a quick check of the load."""
    tickets, open_count = TICKETS // scale, OPEN // scale
    recent, open_recent = RECENT // scale, OPEN_RECENT // scale
    rng = random.Random(SEED)
    is_open = bytearray(tickets)
    for i in rng.sample(range(tickets - recent, tickets), open_recent):
        is_open[i] = 1
    for i in rng.sample(range(tickets - recent), open_count - open_recent):
        is_open[i] = 1
    open_statuses = iter(_weighted(rng, OPEN_STATUSES, open_count))
    done_statuses = iter(_weighted(rng, DONE_STATUSES, tickets - open_count))
    groups = _weighted(rng, GROUPS, tickets)
    priorities = _weighted(rng, PRIORITIES, tickets)
    cumulative = list(itertools.accumulate(1 / (k + 1) ** ZIPF_S for k in range(len(account_ids))))
    total = cumulative[-1]
    # Every time is a ticket's creation time plus whole hours, and an hour is a
    # whole number of SPACINGs: one formatted string per step serves them all.
    hour = 3600 // SPACING
    times = [
        _utc_text(FIRST_CREATED + timedelta(seconds=SPACING * step))
        for step in range(tickets + 96 * hour)
    ]
    for i in range(tickets):
        open_ = bool(is_open[i])
        status = next(open_statuses) if open_ else next(done_statuses)
        if rng.random() < NO_ACCOUNT:
            account = None
        else:
            account = account_ids[bisect.bisect(cumulative, rng.random() * total)]
        assignee = (
            None if open_ and rng.random() < 0.3 else agent_ids[rng.randrange(len(agent_ids))]
        )
        if open_:
            updated = times[i + hour // 2]
            solved = closed = None
        else:
            solved = times[i + 24 * hour]
            closed = times[i + 96 * hour] if status == "closed" else None
            updated = closed or solved
        yield (
            i + 1,
            f"{SUBJECTS[i % len(SUBJECTS)]} (ref {i * 7919 % 1_000_003})",
            "admin_access" if i % 37 == 0 else "general",
            status,
            open_,
            priorities[i],
            groups[i],
            f"customer{rng.randrange(300_000)}@example.com",
            "",
            account,
            assignee,
            times[i],  # created_at
            updated,
            updated,  # customer_updated_at
            times[i + 8 * hour],  # first response due
            None if status == "new" else times[i + hour],  # first responded
            times[i + 72 * hour],  # resolution due
            updated if status == "pending" else None,  # SLA clock paused since
            solved,
            closed,
        )


# --- building the database -----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    engine_name: str
    url: str


def sqlite_target(data_dir: Path) -> Target:
    return Target("sqlite", f"sqlite:///{data_dir / 'desk_queue.db'}")


def postgresql_target(server_url: str) -> Target:
    url = make_url(server_url).set(database=DATABASE_NAME)
    return Target("postgresql", url.render_as_string(hide_password=False))


def read_marker(target: Target, server_url: str) -> dict[str, Any] | None:
    """The marker of an existing, complete database at the newest migration; else None."""
    if target.engine_name == "sqlite":
        if not Path(make_url(target.url).database or "").exists():
            return None
    else:
        admin = make_engine(server_url)
        try:
            with admin.connect() as connection:
                exists = connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": DATABASE_NAME},
                ).first()
        finally:
            admin.dispose()
        if exists is None:
            return None
    engine = make_engine(target.url)
    try:
        if not inspect(engine).has_table(MARKER_TABLE):
            return None
        current, head = migrate.current_revision(engine), migrate.head_revision(engine)
        if current != head:
            print(f"the desk's schema is at {current}, the migrations at {head}", flush=True)
            return None
        with engine.connect() as connection:
            stored = connection.execute(text(f"SELECT value FROM {MARKER_TABLE}")).scalar()
        return json.loads(stored) if stored else None
    finally:
        engine.dispose()


def recreate(target: Target, server_url: str) -> None:
    """No database left (SQLite) or an empty one (PostgreSQL)."""
    if target.engine_name == "sqlite":
        path = Path(make_url(target.url).database or "")
        for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            each.unlink(missing_ok=True)
        return
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{DATABASE_NAME}"'))
    finally:
        admin.dispose()


def build(target: Target, server_url: str) -> dict[str, Any]:
    """Drop and rebuild the desk; return its marker (with the timings)."""
    started = time.monotonic()
    recreate(target, server_url)
    timings = populate(target)
    built = marker() | {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": {k: round(v, 1) for k, v in timings.items()},
        "total_seconds": round(time.monotonic() - started, 1),
    }
    engine = make_engine(target.url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"CREATE TABLE {MARKER_TABLE} (value TEXT NOT NULL)"))
            connection.execute(
                text(f"INSERT INTO {MARKER_TABLE} (value) VALUES (:value)"),
                {"value": json.dumps(built)},
            )
    finally:
        engine.dispose()
    return built


def populate(target: Target, *, scale: int = 1) -> dict[str, float]:
    """Schema, people, accounts and tickets on an empty database; returns the timings.
    ``scale`` > 1 loads that many times fewer tickets (a quick check only)."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "keyholder", "db", "upgrade"],
        env=keyholder_env(target.url),
        check=True,
        capture_output=True,
    )
    timings["schema"] = time.monotonic() - started

    step = time.monotonic()
    runtime = make_runtime(target.url)
    try:
        agent_ids = [uuid.UUID(str(u)).hex for u in create_people(runtime)]
        account_ids = create_accounts(runtime.engine)
    finally:
        runtime.close()
    timings["people and accounts"] = time.monotonic() - step

    timings |= load_tickets(target, ticket_rows(account_ids, agent_ids, scale=scale))

    return timings


def create_people(runtime: Runtime) -> list[uuid.UUID]:
    """The staff user who asks (MFA enrolled for real) and the agents tickets are assigned to."""
    operator = Actor.operator("desk-bench")
    create_mfa_staff(runtime, STAFF_EMAIL, STAFF_PASSWORD, "Desk Bench")
    return [
        identity.create_user(
            runtime.uow(),
            f"agent{n:02d}@example.com",
            name=f"Agent {n}",
            staff_role=StaffRole.AGENT,
            actor=operator,
            hasher=runtime.password_hasher,
        ).id
        for n in range(AGENTS)
    ]


def create_accounts(engine: Engine) -> list[str]:
    now = datetime.now(UTC)
    ids = [uuid.uuid5(uuid.NAMESPACE_URL, f"desk-bench/{k}") for k in range(ACCOUNTS)]
    with engine.begin() as connection:
        connection.execute(
            insert(EnterpriseAccount),
            [
                {
                    "id": ids[k],
                    "name": account_name(k),
                    "display_name": f"Account {k}",
                    "contract_number": f"ENT-DESK-{k:06d}",
                    "created_at": now,
                    "updated_at": now,
                }
                for k in range(ACCOUNTS)
            ],
        )
    return [i.hex for i in ids]


def load_tickets(target: Target, rows: Iterator[tuple[Any, ...]]) -> dict[str, float]:
    """The bulk load of the target's engine; returns its timings."""
    if target.engine_name == "sqlite":
        return load_sqlite(make_url(target.url).database or "", rows)
    return load_postgresql(target.url, rows)


def load_sqlite(path: str, rows: Iterator[tuple[Any, ...]]) -> dict[str, float]:
    """executemany in one transaction, the ticket indexes dropped first and rebuilt after."""
    timings = {}
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-524288",  # 512 MiB
            "temp_store=MEMORY",
            "foreign_keys=OFF",
        ):
            connection.execute(f"PRAGMA {pragma}")
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = 'tickets' AND sql IS NOT NULL"
        ).fetchall()
        step = time.monotonic()
        connection.execute("BEGIN")
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        columns = ", ".join(f'"{c}"' for c in TICKET_COLUMNS)
        marks = ", ".join("?" * len(TICKET_COLUMNS))
        statement = f"INSERT INTO tickets ({columns}) VALUES ({marks})"
        while chunk := list(itertools.islice(rows, 50_000)):
            connection.executemany(statement, chunk)
        timings["tickets"] = time.monotonic() - step
        step = time.monotonic()
        for _, sql in indexes:
            connection.execute(sql)
        connection.execute("COMMIT")
        timings["indexes"] = time.monotonic() - step
        step = time.monotonic()
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("ANALYZE")
        timings["analyze"] = time.monotonic() - step
    finally:
        connection.close()
    return timings


def _copy_text(value: Any) -> str:
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)  # generated text has no tab, newline or backslash to escape


def load_postgresql(url: str, rows: Iterator[tuple[Any, ...]]) -> dict[str, float]:
    """COPY in one transaction, the ticket indexes dropped first and rebuilt after."""
    timings = {}
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        connection.execute("SET TIME ZONE 'UTC'")
        connection.execute("SET maintenance_work_mem = '256MB'")
        # Every account and assignee exists: skip the per-row foreign key
        # triggers (needs a superuser; without one the load is just slower).
        try:
            with connection.transaction():
                connection.execute("SET session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege:
            print("  (not a superuser: foreign keys checked row by row)", flush=True)
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = current_schema() AND tablename = 'tickets'"
            " AND indexname NOT IN"
            " (SELECT conname FROM pg_constraint WHERE conrelid = 'tickets'::regclass)"
        ).fetchall()
        step = time.monotonic()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        columns = ", ".join(f'"{c}"' for c in TICKET_COLUMNS)
        with connection.cursor().copy(f"COPY tickets ({columns}) FROM STDIN") as copy:
            while chunk := list(itertools.islice(rows, 20_000)):
                copy.write("".join("\t".join(map(_copy_text, row)) + "\n" for row in chunk))
        timings["tickets"] = time.monotonic() - step
        step = time.monotonic()
        for _, sql in indexes:
            connection.execute(sql)
        connection.execute(
            "SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))"
        )
        connection.commit()
        timings["indexes"] = time.monotonic() - step
    step = time.monotonic()
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE) tickets")  # statistics, hint bits, visibility map
        connection.execute("ANALYZE")
    timings["analyze"] = time.monotonic() - step
    return timings


# --- the queue's plans -----------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    label: str
    filters: list[QueueFilter]  # one per request kind; the plan is printed for the first
    paths: list[str]


def queue_path(account: str | None = None) -> str:
    path = f"/api/desk/tickets?state=open&limit={PAGE}"
    return path + (f"&account={quote(account)}" if account else "")


def make_queries(open_by_account: dict[str, int], rng: random.Random) -> list[Query]:
    big = account_name(0)
    typical = [account_name(rng.randrange(ACCOUNTS)) for _ in range(TYPICAL_SAMPLE)]
    return [
        Query("newest open", [QueueFilter(limit=PAGE)], [queue_path()]),
        Query(
            f"big account ({open_by_account.get(big, 0):,} open)",
            [QueueFilter(account=big, limit=PAGE)],
            [queue_path(big)],
        ),
        Query(
            "typical account (median "
            f"{statistics.median(open_by_account.get(a, 0) for a in typical):g} open)",
            [QueueFilter(account=a, limit=PAGE) for a in typical],
            [queue_path(a) for a in typical],
        ),
    ]


def open_tickets_by_account(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT e.name, count(*) FROM tickets t"
                " JOIN enterprise_accounts e ON e.id = t.account_id"
                " WHERE t.is_open = :yes GROUP BY e.name"
            ),
            {"yes": True},
        ).all()
    return {name: count for name, count in rows}  # noqa: C416 - rows to a dict


def print_plans(runtime: Runtime, queries: list[Query], staff: Actor) -> None:
    """The SQL that ``list_queue_rows`` (the API's page) runs for each query, and its plan."""
    engine = runtime.engine
    for query in queries:
        wanted = query.filters[0]
        seen: list[tuple[str, Any]] = []

        def record(_c: Any, _cu: Any, statement: str, parameters: Any, *_: Any) -> None:
            seen.append((statement, parameters))  # noqa: B023 - used before the loop moves on

        event.listen(engine, "before_cursor_execute", record)
        try:
            list_queue_rows(runtime.uow(read_only=True), wanted, actor=staff)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        where = f" (account {wanted.account})" if wanted.account else ""
        print(f"plan: {query.label}{where}")
        for sql, params in seen:
            if "FROM tickets" not in sql:
                continue
            page = sql[sql.index("FROM tickets") :].split(") AS anon_1")[0]
            print(textwrap.indent(" ".join(page.split()), "  SQL: "))
            with engine.connect() as connection:
                if engine.dialect.name == "sqlite":
                    plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
                    lines = [f"{row[0]:>4} {row[1]:>4}  {row[3]}" for row in plan]
                else:
                    explain = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)"
                    plan = connection.exec_driver_sql(f"{explain} {sql}", params).all()
                    lines = [row[0] for row in plan]
            print(textwrap.indent("\n".join(lines), "    "))
    sys.stdout.flush()


# --- measuring ---------------------------------------------------------------------------------


def issue_token(runtime: Runtime) -> str:
    """A fresh API token for the benchmark's staff user (made after MFA: it carries it)."""
    return issue_api_token(runtime, STAFF_EMAIL, "desk bench")


def staff_actor(runtime: Runtime) -> Actor:
    with runtime.uow(read_only=True) as uow:
        user = identity.find_user(uow, STAFF_EMAIL)
        assert user is not None
        return Actor.for_user(user)


def check_answers(port: int, token: str, queries: list[Query], newest_open: int) -> None:
    """Each query answers 200 with at most a page of open tickets, newest first."""
    for query in queries:
        for path in query.paths[:20]:
            status, body = get(port, path, token)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status}: {body[:300]!r}")
            tickets = json.loads(body)
            numbers = [t["number"] for t in tickets]
            account = path.partition("&account=")[2] or None
            if (
                len(tickets) > PAGE
                or numbers != sorted(numbers, reverse=True)
                or any(t["status"] in ("solved", "closed") for t in tickets)
                or (account is not None and any(t["account"] != account for t in tickets))
            ):
                raise RuntimeError(f"GET {path}: not a page of open tickets: {body[:300]!r}")
            if account is None and (len(tickets) != PAGE or numbers[0] != newest_open):
                raise RuntimeError(f"GET {path}: not the newest open tickets: {body[:300]!r}")


def errors_of(run: Run) -> int:
    return run.errors + run.not_found  # no query here should ever answer 404


def ensure_desk(target: Target, server_url: str, *, rebuild: bool) -> None:
    """Reuse the desk when its marker matches; otherwise build it, printing the timings."""
    stored = None if rebuild else read_marker(target, server_url)
    if stored is not None and all(stored.get(k) == v for k, v in marker().items()):
        steps = ", ".join(f"{k} {v}s" for k, v in stored["seconds"].items())
        print(
            f"reusing the desk on {target.engine_name}, built {stored['built_at']} "
            f"in {stored['total_seconds']}s ({steps})",
            flush=True,
        )
        return
    print(
        f"building the desk on {target.engine_name}: {TICKETS:,} tickets, {OPEN:,} open, "
        f"{ACCOUNTS:,} accounts, {AGENTS} agents ...",
        flush=True,
    )
    stored = build(target, server_url)
    steps = ", ".join(f"{k} {v}s" for k, v in stored["seconds"].items())
    print(f"built in {stored['total_seconds']}s ({steps})", flush=True)


def prepare(target: Target) -> tuple[str, list[Query], int]:
    """A fresh token, the queries, the newest open ticket's number; prints the plans."""
    runtime = make_runtime(target.url)
    try:
        token = issue_token(runtime)
        open_by_account = open_tickets_by_account(runtime.engine)
        with runtime.engine.connect() as connection:
            newest_open = connection.execute(
                text("SELECT max(id) FROM tickets WHERE is_open = :yes"), {"yes": True}
            ).scalar_one()
        queries = make_queries(open_by_account, random.Random(SEED))
        print_plans(runtime, queries, staff_actor(runtime))
    finally:
        runtime.close()
    return token, queries, int(newest_open)


def start_servers(url: str, workdir: Path, workers: int) -> tuple[Server, Server]:
    """``keyholder serve`` and the bare hello app, same workers and settings, both ready."""
    (workdir / "hello_app.py").write_text(textwrap.dedent(HELLO_APP))
    python = sys.executable
    kport, hport = free_port(), free_port()
    common = ["--host", "127.0.0.1", "--workers", str(workers), "--no-access-log"]
    keyholder = Server(
        "keyholder",
        [python, "-m", "keyholder", "serve", "--port", str(kport), *common],
        keyholder_env(url),
        workdir,
        kport,
    )
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("KEYHOLDER_")}
    try:
        hello = Server(
            "hello",
            [
                python,
                "-m",
                "uvicorn",
                "hello_app:app",
                "--app-dir",
                str(workdir),
                "--port",
                str(hport),
                *common,
                "--no-proxy-headers",
            ],
            base_env,
            workdir,
            hport,
        )
    except BaseException:
        keyholder.stop()
        raise
    try:
        keyholder.wait_ready("/healthz")
        hello.wait_ready("/hello")
    except BaseException:
        keyholder.stop()
        hello.stop()
        raise
    return keyholder, hello


def report(
    engine_name: str,
    queries: list[Query],
    runs: list[list[Run]],
    hello_runs: list[Run],
    connections: int,
) -> bool:
    print()
    print(
        f"desk queue on {engine_name} (median of {len(hello_runs)} runs, "
        f"{connections} connections, limit {PAGE}):"
    )
    passed = True
    for query, query_runs in zip(queries, runs, strict=True):
        m = median_run(query_runs)
        ok = m.p99_ms < P99_TARGET_MS and errors_of(m) == 0
        passed = passed and ok
        print(
            f"  {query.label:<36} {m.rps:7,.0f} req/s   p50 {m.p50_ms:6.2f} ms   "
            f"p99 {m.p99_ms:6.2f} ms   errors {errors_of(m)}   {'ok' if ok else 'MISSED'}"
        )
    h = median_run(hello_runs)
    print(
        f"  {'hello endpoint':<36} {h.rps:7,.0f} req/s   p50 {h.p50_ms:6.2f} ms   "
        f"p99 {h.p99_ms:6.2f} ms   errors {h.errors}"
    )
    print(
        f"target: p99 < {P99_TARGET_MS:g} ms, 0 errors, each query: {'PASS' if passed else 'FAIL'}"
    )
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", action="store_true", help=f"use {DATABASE_NAME}")
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("KEYHOLDER_BENCH_POSTGRESQL_URL", DEFAULT_POSTGRESQL),
        help="the server (its database part is ignored)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "keyholder-bench-desk",
        help="where the SQLite database is kept between runs",
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the database")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per query")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2

    def _interrupted(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupted)

    target = (
        postgresql_target(args.postgresql_url) if args.postgresql else sqlite_target(args.data_dir)
    )
    workdir = Path(tempfile.mkdtemp(prefix="keyholder-bench-desk-"))
    servers: list[Server] = []
    try:
        ensure_desk(target, args.postgresql_url, rebuild=args.rebuild)
        token, queries, newest_open = prepare(target)
        script = workdir / "random_requests.lua"
        script.write_text(WRK_SCRIPT)
        request_files = []
        for n, query in enumerate(queries):
            request_files.append(workdir / f"requests-{n}.txt")
            request_files[-1].write_text("".join(f"{p} {token}\n" for p in query.paths))
        keyholder, hello = start_servers(target.url, workdir, args.workers)
        servers += [keyholder, hello]
        check_answers(keyholder.port, token, queries, newest_open)

        def measure(n: int | None, seconds: float) -> Run:
            """Query ``n`` on Keyholder, or hello for None."""
            return run_wrk(
                keyholder.port if n is not None else hello.port,
                "/" if n is not None else "/hello",
                script,
                request_files[n] if n is not None else None,
                seconds=seconds,
                connections=args.connections,
                threads=args.threads,
            )

        busy = cpu_busy_share()
        print(
            f"warming up ({args.warmup}s each); then {args.runs} x {args.duration}s per query, "
            f"{args.connections} connections, {args.workers} workers, as a staff agent with "
            f"MFA; {os.cpu_count()} CPUs, {busy:.0%} busy with other work, "
            f"load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        if busy > 0.1:
            print("  (other work raises the latencies; the hello baseline shows by how much)")
        for n in [*range(len(queries)), None]:
            measure(n, args.warmup)
        runs: list[list[Run]] = [[] for _ in queries]
        hello_runs: list[Run] = []
        for i in range(args.runs):
            for n, query in enumerate(queries):
                runs[n].append(r := measure(n, args.duration))
                print(
                    f"  run {i + 1}: {query.label:<36} {r.rps:7,.0f} req/s  "
                    f"p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:6.2f} ms  errors {errors_of(r)}",
                    flush=True,
                )
            hello_runs.append(h := measure(None, args.duration))
            print(
                f"  run {i + 1}: {'hello':<36} {h.rps:7,.0f} req/s  "
                f"p50 {h.p50_ms:6.2f} ms  p99 {h.p99_ms:6.2f} ms  errors {h.errors}",
                flush=True,
            )
        for server in servers:
            server.stop()
        servers.clear()
        passed = report(target.engine_name, queries, runs, hello_runs, args.connections)
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
