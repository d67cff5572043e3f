"""Every benchmark's setup still works, on a tiny data set (issue 17: they must not rot).

Each test runs a benchmark's own seeding functions on the test database, then
makes one real request of the kind the benchmark measures against a real
``keyholder serve`` started the way the benchmarks start it (development
settings, the benchmark's environment). wrk is not needed: the request is made
once, with the benchmark's own request helpers where it has them. The member
lookup broke once this way: its staff agent had no MFA (S18) and every request
answered 403.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from keyholder.bootstrap import Runtime
from keyholder.letters.ocr import tesseract_available
from tests.conftest import DEFAULT_POSTGRESQL, throwaway_postgresql_database

# The benchmarks are scripts that import each other by module name, as
# ``python benchmarks/x.py`` does; the tests import them the same way.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import abandoned_signins
import backup_restore
import desk_queue
import hot_path_cpu
import hot_path_profile
import login_flood
import mail_relay
import member_lookup

TINY_ACCOUNTS = 3
TINY_USERS = member_lookup.MEMBERS_PER_ACCOUNT * 2


@pytest.fixture(scope="module")
def served(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[member_lookup.Server]:
    """One ``keyholder serve`` on the test database, as the login flood starts it.

    It only reads what each test seeds (tables are emptied after every test),
    so the tests share it and pay its start once."""
    server = member_lookup.start_keyholder(
        database_url,
        tmp_path_factory.mktemp("served"),
        workers=1,
        extra_env=login_flood.RAISED_LIMITS,
    )
    try:
        server.wait_ready("/healthz")
        yield server
    finally:
        server.stop()


@pytest.fixture
def bench_runtime(runtime: Runtime, database_url: str) -> Iterator[Runtime]:
    """The runtime the benchmarks seed with (their settings); ``runtime`` empties the
    tables afterwards."""
    bench = member_lookup.make_runtime(database_url)
    yield bench
    bench.close()


def _post_json(port: int, path: str, body: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.parametrize("actor", ["staff", "member"])
def test_member_lookup_answers_hits_and_misses_for_its_actor(
    bench_runtime: Runtime, served: member_lookup.Server, actor: str
) -> None:
    """S18: the default staff actor has MFA, so its lookups answer 200 (hits) and 404."""
    seeded = member_lookup.seed(bench_runtime, accounts=TINY_ACCOUNTS, users=TINY_USERS)
    probes = member_lookup.make_probes(seeded, 12, actor, random.Random(7))
    hit = next(p for p in probes if p.hit)
    status, body = member_lookup.get(served.port, hit.path, hit.token)
    assert status == 200, body
    member_lookup.check_answers(served.port, probes)  # the benchmark's own pre-flight check


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the engine under test with nothing in it, as the desk's build wants
    (its bulk load changes SQLite's journal mode: no other connection may be open)."""
    if request.config.getoption("--db") == "sqlite":
        yield f"sqlite:///{tmp_path / 'desk.db'}"
        return
    with throwaway_postgresql_database() as url:
        yield url


def test_desk_queue_builds_and_answers_its_staff_user(
    empty_database_url: str, tmp_path: Path
) -> None:
    """The build (schema, people with MFA, accounts, the bulk ticket load at 1/2000 of
    the size) and the benchmark's own pre-flight check of each query, served."""
    engine_name = make_url(empty_database_url).get_backend_name()
    target = desk_queue.Target(engine_name, empty_database_url)
    desk_queue.populate(target, scale=2000)
    token, queries, newest_open = desk_queue.prepare(target)
    server = member_lookup.start_keyholder(empty_database_url, tmp_path, workers=1)
    try:
        server.wait_ready("/healthz")
        desk_queue.check_answers(server.port, token, queries, newest_open)
    finally:
        server.stop()


def test_login_flood_lookups_and_flood_requests_answer_as_measured(
    bench_runtime: Runtime, served: member_lookup.Server
) -> None:
    """The lookups carry the staff token (200); a flood sign-in (the Lua script's
    JSON body) is refused for its password (401), not by the content-type guard."""
    seeded = member_lookup.seed(bench_runtime, accounts=TINY_ACCOUNTS, users=TINY_USERS)
    login_flood.seed_flood_accounts(bench_runtime.engine, 2)
    member_lookup.check_answers(
        served.port, member_lookup.make_probes(seeded, 4, "staff", random.Random(3))
    )
    flood_body = login_flood.FLOOD_BODY % (0, 0)
    assert json.loads(flood_body)["email"] == login_flood.FLOOD_EMAIL % 0
    assert _post_json(served.port, "/api/session", flood_body) == 401


def test_abandoned_signins_real_user_signs_in(
    bench_runtime: Runtime, served: member_lookup.Server
) -> None:
    login_flood.seed_flood_accounts(bench_runtime.engine, 1)
    payload = abandoned_signins.sign_in_request(
        served.port, login_flood.FLOOD_EMAIL % 0, login_flood.FLOOD_PASSWORD
    )
    status, _ = asyncio.run(abandoned_signins.sign_in(served.port, "127.3.0.1", payload, 30))
    assert status == 200


def test_mail_relay_delivers_a_few_messages_exactly_once(runtime: Runtime, engine: Engine) -> None:
    """Its production settings carry the keys production requires (audit, TOTP).
    (``runtime`` empties the outbox afterwards.)"""
    run = mail_relay.one_run(engine, messages=3, relays=1, batch_size=2)
    assert run.correct
    assert run.messages == 3


@pytest.mark.skipif(not tesseract_available(), reason="Tesseract is not installed")
def test_letters_prescreens_one_letter() -> None:
    import letters  # noqa: PLC0415 - loads the letter corpus only when Tesseract is there

    case = next(c for c in letters.make_cases(letters.EVALUATION_SEED, 1) if c.condition == "clean")
    result = letters.run_case(case)
    assert result["pages"] >= 1
    assert set(result["items"]) == set(letters.ITEMS)


def test_hot_path_cpu_measures_the_lookup_on_a_tiny_data_set(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    # Its own throwaway database, as a run from the command line makes one.
    args = ["--accounts", str(TINY_ACCOUNTS), "--users", str(TINY_USERS)]
    args += ["--requests", "30", "--rounds", "1"]
    if request.config.getoption("--db") == "postgresql":
        server = os.environ.get("KEYHOLDER_TEST_POSTGRESQL_URL", DEFAULT_POSTGRESQL)
        args += ["--postgresql", "--postgresql-url", server]
    assert hot_path_cpu.main(args) == 0
    assert "us CPU per request" in capsys.readouterr().out


def test_backup_restore_backs_up_restores_and_verifies_a_tiny_data_set(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--accounts", str(TINY_ACCOUNTS), "--users", str(TINY_USERS)]
    if request.config.getoption("--db") == "postgresql":
        server = os.environ.get("KEYHOLDER_TEST_POSTGRESQL_URL", DEFAULT_POSTGRESQL)
        args += ["--postgresql", "--postgresql-url", server]
    assert backup_restore.main(args) == 0
    assert "audit verify on the copy" in capsys.readouterr().out


def test_hot_path_profile_puts_a_stack_in_the_part_of_its_innermost_named_frame() -> None:
    route = "run (asyncio/runners.py:1);app (starlette/routing.py:2);app (fastapi/routing.py:3)"
    raw = "\n".join(
        [
            f"{route};get_member (keyholder/accounts/members.py:4);execute (sqlalchemy/x.py:5) 7",
            f"{route};_authenticate (keyholder/web/deps.py:6);hash_token (keyholder/t.py:7) 5",
            f"{route};serialize_response (fastapi/routing.py:8);to_json (pydantic/x.py:9) 3",
            f"{route};send (uvicorn/protocols/http/httptools_impl.py:10) 11",
            f"{route} 2",
            "run (asyncio/runners.py:1) 1",
        ]
    )
    parts, leaves = hot_path_profile.fold(raw)
    assert parts == {"lookup": 7, "auth": 5, "serialisation": 3, "server": 12, "routing": 2}
    assert leaves.most_common(1) == [("send (uvicorn/protocols/http/httptools_impl.py:10)", 11)]
