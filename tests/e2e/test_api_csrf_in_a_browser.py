"""A page on another loopback port cannot use a signed-in agent's cookie on the API (S38, S19).

127.0.0.1:<app port> and 127.0.0.1:<other port> are the same site but not the
same origin, so Chromium sends the SameSite=Lax session cookie with the other
page's requests: what a page on a sibling subdomain or another port of our
host could do. The page fetch()es every state-changing API route with every
body it can send without a preflight, and submits real forms; nothing may
change. The same calls from Keyholder's own origin, with the token, work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyotp
import pytest
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from keyholder.identity.models import StaffRole
from tests.factories import PASSWORD
from tests.web.test_csrf import counts, state_changing_api_routes

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

ATTACKER_PAGE = b"<!doctype html><title>Cheap flights</title><h1>Cheap flights</h1>"

# Every body a page may send to another origin without a CORS preflight, and none.
ATTACK = """async ([api, routes]) => {
    const bodies = {  // as BODIES names them
        "text/plain": () => JSON.stringify({body: "Your password is hunter2", status: "solved"}),
        "multipart": () => { const f = new FormData(); f.append("body", "pwned"); return f; },
        "form": () => new URLSearchParams({body: "pwned", status: "solved"}),
        "typeless blob": () => new Blob([JSON.stringify({body: "pwned"})]),
        "none": () => undefined,
    };
    const attempts = [];
    for (const [method, path] of routes) {
        for (const make of Object.values(bodies)) {
            // Only a POST goes without a preflight; the others are tried all the same.
            attempts.push(fetch(api + path, {method, body: make(), credentials: "include"})
                .then(() => "read", () => "blocked"));
        }
    }
    return Promise.all(attempts);
}"""

# A real form, as a page would submit it without script: multipart and text/plain.
FORM_POST = """([action, enctype]) => new Promise(done => {
    const frame = document.createElement("iframe");
    frame.name = "sink-" + Math.random();
    document.body.append(frame);
    frame.onload = () => done();  // after the initial about:blank has loaded
    const form = document.createElement("form");
    Object.assign(form, {method: "post", action, enctype, target: frame.name});
    const field = Object.assign(document.createElement("textarea"), {name: "body"});
    field.value = '{"body": "pwned by a form", "x": "';
    form.append(field);
    document.body.append(form);
    form.submit();
})"""

# What Keyholder's own pages (or a script of ours in the browser) send.
OWN_ORIGIN_CALLS = """async (path) => {
    const token = (await (await fetch("/api/session")).json()).csrf_token;
    const form = new FormData();
    form.append("body", "Multipart from our own origin.");
    const multipart = await fetch(path, {
        method: "POST", body: form, headers: {"X-CSRF-Token": token}});
    const json = await fetch(path, {
        method: "POST", body: JSON.stringify({body: "JSON from our own origin."}),
        headers: {"Content-Type": "application/json"}});
    const tokenless = await fetch(path, {method: "POST", body: new FormData()});
    return [multipart.status, json.status, tokenless.status];
}"""


BODIES = ("text/plain", "multipart", "form", "typeless blob", "none")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    origin: str | None
    cookie: bool
    status: int


class ServerLog:
    """Records what reached the live server, and its answer, for the test running now."""

    def __init__(self, switch) -> None:
        self.calls: list[Call] = []
        self.app = switch.app
        switch.app = self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)

        async def recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.calls.append(
                    Call(
                        scope["method"],
                        scope["path"],
                        headers.get("origin"),
                        "keyholder_session=" in headers.get("cookie", ""),
                        message["status"],
                    )
                )
            await send(message)

        await self.app(scope, receive, recorded)


class _AttackerPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(ATTACKER_PAGE)))
        self.end_headers()
        self.wfile.write(ATTACKER_PAGE)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output clean


@pytest.fixture
def attacker() -> Iterator[str]:
    """A page served on another loopback port: same site as the app, another origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AttackerPage)
    thread = threading.Thread(target=server.serve_forever, name="attacker-page", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def sign_in_with_mfa(page, user, clock) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    clock.advance(timedelta(seconds=30))  # each code works once
    page.get_by_label("Code").fill(pyotp.TOTP(user.totp_secret).at(clock.now()))
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".who-email")).to_have_text(user.email)


class TestAnotherOriginOfTheSameSite:
    def test_s38_cannot_change_anything_through_the_api_with_the_agent_s_cookie(
        self, page, live_server, base_url, attacker, runtime, factories, clock, outbox
    ):
        carol = factories.user("carol@customer.example", password=PASSWORD, name="Carol")
        ticket = factories.ticket(carol, subject="Export is broken")
        agent = factories.user(
            "agent@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT, name="Ada"
        )
        sign_in_with_mfa(page, agent, clock)
        replies = f"/api/desk/tickets/{ticket.id}/replies"
        switch, _ = live_server  # the app of this test, behind the running server
        routes = state_changing_api_routes(switch.app, number=str(ticket.id))
        assert ["POST", replies] in [list(r) for r in routes]
        before, sent = counts(runtime), len(outbox.rows())

        seen = ServerLog(switch)
        page.goto(attacker)
        outcomes = page.evaluate(ATTACK, [base_url, routes])
        assert len(outcomes) == len(routes) * len(BODIES)
        for enctype in ("multipart/form-data", "text/plain"):
            page.evaluate(FORM_POST, [base_url + replies, enctype])

        assert counts(runtime) == before  # no message, no audited change
        assert len(outbox.rows()) == sent  # no email to the customer
        # Every POST reached the server with the cookie and was refused; the other
        # methods never left the browser (their CORS preflight fails).
        api_calls = [call for call in seen.calls if call.path.startswith("/api/")]
        for path in (path for method, path in routes if method == "POST"):
            arrived = [c for c in api_calls if c.method == "POST" and c.path == path]
            assert len(arrived) >= len(BODIES), path
            assert all(c.cookie and c.origin == attacker for c in arrived), path
        assert {c.method for c in api_calls} <= {"POST", "OPTIONS"}
        assert {c.status for c in api_calls if c.method == "POST"} == {403}
        assert len([c for c in api_calls if c.path == replies]) == len(BODIES) + 2  # the forms

        # From Keyholder's own origin: JSON as is, multipart with the token.
        page.goto(base_url + "/desk")
        statuses = page.evaluate(OWN_ORIGIN_CALLS, replies)
        assert statuses == [201, 201, 403]
        assert len(outbox.rows()) == sent + 2
