"""Abandoned sign-ins from many loopback addresses, and one real user signing in meanwhile (S40).

Used by ``login_flood.py``. Each attacking address (``127.1.R.1`` ...
``127.1.R.A``: Linux routes all of 127.0.0.0/8 to loopback, so the server
sees each as its own client) posts ``/api/session`` with a wrong password for
a different account ``per_address`` times, one request at a time, and hangs
up ``abandon_after`` seconds after sending each one without reading the
answer. Every address stays within the default per-client limit (10 per 5
minutes) and every account within its own, so the limits alone stop none of it.

First, with nothing else going on, another real user (``127.3.R.1``) signs in
``quiet_probes`` times one after the other: the baseline, on this machine at
this moment (a hash at nice +19 on a machine busy with other work is slow on
its own). Then, during the flood, a real user (``127.2.R.1``) signs in with the right password once
per ``interval`` seconds, each on its own connection and each with its own
timeout, so a slow answer does not hold up the next probe. The server's CPU
time (its whole process group) is read from /proc before and after: work done
for clients that had gone shows there, and in how long the server stays busy
after the last of them hung up.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

SIGN_IN_TARGET_SECONDS = 2.0


@dataclass(frozen=True)
class AbandonedRun:
    quiet_seconds: list[float]  # the baseline: real sign-ins with no flood
    abandoned: int  # sign-ins sent and hung up on
    refused_connections: int  # abandoned sign-ins that could not even connect
    real_statuses: list[int | None]  # None: no answer within the probe's timeout
    real_seconds: list[float]
    server_cpu_seconds: float  # the server's CPU time from the flood's start until idle
    busy_after_seconds: float  # how long the server kept working after the flood ended

    @property
    def real_ok_in_time(self) -> int:
        return sum(
            1
            for status, seconds in zip(self.real_statuses, self.real_seconds, strict=True)
            if status == 200 and seconds <= SIGN_IN_TARGET_SECONDS
        )

    @property
    def real_p50(self) -> float:
        return statistics.median(self.real_seconds)

    @property
    def real_max(self) -> float:
        return max(self.real_seconds)

    def line(self) -> str:
        statuses = ",".join(sorted({str(s) for s in self.real_statuses}))
        return (
            f"quiet sign-in p50 {statistics.median(self.quiet_seconds):5.2f} s | real sign-ins "
            f"{self.real_ok_in_time}/{len(self.real_statuses)} answered 200 "
            f"within {SIGN_IN_TARGET_SECONDS:.0f} s (p50 {self.real_p50:6.2f} s, max "
            f"{self.real_max:6.2f} s, statuses {statuses}) | {self.abandoned} abandoned, "
            f"server CPU {self.server_cpu_seconds:6.1f} s, busy {self.busy_after_seconds:5.1f} s "
            "after the flood"
        )


def sign_in_request(port: int, email: str, password: str) -> bytes:
    body = json.dumps({"email": email, "password": password}).encode()
    head = (
        f"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


async def _abandon(port: int, source: str, payload: bytes, abandon_after: float) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    except OSError:
        return False
    try:
        writer.write(payload)
        await writer.drain()
        await asyncio.sleep(abandon_after)
    finally:
        writer.close()
    return True


async def sign_in(
    port: int, source: str, payload: bytes, timeout: float
) -> tuple[int | None, float]:
    started = time.monotonic()
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(source, 0)
            )
            writer.write(payload)
            await writer.drain()
            status_line = await reader.readline()
            await reader.read()  # the whole answer: Connection: close
        status: int | None = int(status_line.split()[1])
    except (TimeoutError, OSError, IndexError, ValueError):
        status = None
    finally:
        if writer is not None:
            writer.close()
    return status, time.monotonic() - started


def _group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of every live process in process group ``pgid``."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:  # field 5 of stat: the process group
            ticks += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _wait_idle(pgid: int, timeout: float) -> float:
    """Seconds until the group uses under a tenth of a core for half a second (``timeout`` max)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = _group_cpu_seconds(pgid)
        time.sleep(0.5)
        if _group_cpu_seconds(pgid) - before < 0.05:
            break
    return time.monotonic() - started


@dataclass(frozen=True)
class Plan:
    """One round's clients: the attackers, the real user and the baseline user."""

    addresses: int
    per_address: int
    abandon_after: float
    flood_email: str  # with one %d: the account number
    real_email: str
    quiet_email: str
    password: str
    interval: float = 1.0
    probes: int = 8
    quiet_probes: int = 4
    probe_timeout: float = 30.0


async def _quiet(port: int, round_: int, plan: Plan) -> list[float]:
    payload = sign_in_request(port, plan.quiet_email, plan.password)
    seconds = []
    for _ in range(plan.quiet_probes):
        status, took = await sign_in(port, f"127.3.{round_}.1", payload, plan.probe_timeout)
        seconds.append(took if status == 200 else float("inf"))
    return seconds


async def _flood(
    port: int, round_: int, plan: Plan
) -> tuple[int, int, list[tuple[int | None, float]]]:
    async def attacker(a: int) -> list[bool]:
        source = f"127.1.{round_}.{a + 1}"
        sent = []
        for n in range(plan.per_address):
            email = plan.flood_email % (a * plan.per_address + n)  # a new account each time
            payload = sign_in_request(port, email, f"wrong password {a}-{n}")
            sent.append(await _abandon(port, source, payload, plan.abandon_after))
        return sent

    async def real_user() -> list[tuple[int | None, float]]:
        payload = sign_in_request(port, plan.real_email, plan.password)
        source = f"127.2.{round_}.1"

        async def probe(i: int) -> tuple[int | None, float]:
            await asyncio.sleep(1.0 + i * plan.interval)  # the flood is under way by then
            return await sign_in(port, source, payload, plan.probe_timeout)

        return list(await asyncio.gather(*(probe(i) for i in range(plan.probes))))

    attacks = asyncio.gather(*(attacker(a) for a in range(plan.addresses)))
    real = await real_user()
    sent = [ok for each in await attacks for ok in each]
    return sum(sent), len(sent) - sum(sent), real


def run_abandoned(
    port: int, pgid: int, round_: int, plan: Plan, *, idle_timeout: float = 60.0
) -> AbandonedRun:
    """One round: the quiet baseline, then the abandoned flood and the real user's
    probes, then wait (at most ``idle_timeout``) for the server to go idle."""
    quiet = asyncio.run(_quiet(port, round_, plan))
    cpu_before = _group_cpu_seconds(pgid)
    sent, refused, real = asyncio.run(_flood(port, round_, plan))
    busy_after = _wait_idle(pgid, idle_timeout)
    return AbandonedRun(
        quiet_seconds=quiet,
        abandoned=sent,
        refused_connections=refused,
        real_statuses=[status for status, _ in real],
        real_seconds=[seconds for _, seconds in real],
        server_cpu_seconds=_group_cpu_seconds(pgid) - cpu_before,
        busy_after_seconds=busy_after,
    )
