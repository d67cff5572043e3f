"""The API's guard against cross-origin state changes (SECURITY.md S38, S19).

A signed-in agent's browser holds the session cookie; a page on another
origin of the same site (another port, a sibling subdomain) can make it send
form, multipart or text/plain bodies with that cookie. These tests send what
such a page can send, and what Keyholder's own pages and scripts send.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from keyholder.audit.models import AuditEvent
from keyholder.desk.models import TicketMessage
from keyholder.identity.models import StaffRole
from keyholder.web.app import create_app
from keyholder.web.csrf import origin_of
from tests.factories import PASSWORD

SITE = "https://keyholder.test"  # the test settings' base URL
SIBLING = "https://files.keyholder.test"  # same site, another origin
OTHER_PORT = "https://keyholder.test:8443"  # same site, another origin
REFUSED = "Cross-origin request refused"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def site(runtime) -> Iterator[TestClient]:
    """A client at the configured origin over https, keeping the Secure cookie, as a browser."""
    with TestClient(create_app(runtime=runtime, run_relay=False), base_url=SITE) as client:
        yield client


@pytest.fixture
def agent(factories):
    return factories.user(
        "agent@keyholder.example", password=PASSWORD, staff_role=StaffRole.AGENT, name="Ada"
    )


@pytest.fixture
def ticket(factories):
    carol = factories.user("carol@customer.example", name="Carol Customer")
    return factories.ticket(carol, subject="Export is broken")


def sign_in(client: TestClient, runtime, user) -> str:
    """Sign ``user`` in with the cookie (password, then TOTP); the session's CSRF token.

    Passing the second factor replaces the session cookie (S15), and the CSRF
    token with it: the one ``GET /api/session`` gives afterwards is the one to use.
    """
    response = client.post("/api/session", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    runtime.clock.advance(timedelta(seconds=30))  # each code works once
    code = pyotp.TOTP(user.totp_secret).at(runtime.clock.now())
    assert client.post("/api/session/mfa", json={"code": code}).status_code == 204
    token: str = client.get("/api/session").json()["csrf_token"]
    return token


@pytest.fixture
def token(site, runtime, agent) -> str:
    return sign_in(site, runtime, agent)


def replies(ticket) -> str:
    return f"/api/desk/tickets/{ticket.id}/replies"


def counts(runtime) -> tuple[int, int]:
    """Messages and audit events: a state change adds to one or the other."""
    with runtime.uow(read_only=True) as uow:
        messages = uow.session.scalar(select(func.count()).select_from(TicketMessage))
        events = uow.session.scalar(select(func.count()).select_from(AuditEvent))
    return messages or 0, events or 0


def refused(response, status: int = 403) -> bool:
    return response.status_code == status and response.json()["title"] == (
        REFUSED if status == 403 else "Unsupported media type"
    )


class TestCookieAuthenticatedCalls:
    def test_s38_a_text_plain_reply_is_refused_and_nothing_is_sent(
        self, site, runtime, token, ticket, outbox
    ):
        before, sent = counts(runtime), len(outbox.rows())
        body = '{"body": "Your password is hunter2"}'
        plain = {"Content-Type": "text/plain;charset=UTF-8"}
        for headers in (plain, {**plain, "Origin": SIBLING, "Sec-Fetch-Site": "same-site"}):
            response = site.post(replies(ticket), content=body, headers=headers)
            assert refused(response), response.text
        assert counts(runtime) == before
        assert len(outbox.rows()) == sent

    def test_s38_a_multipart_reply_needs_the_csrf_header(
        self, site, runtime, token, ticket, outbox
    ):
        form = {"body": "We are looking into it."}
        sent = len(outbox.rows())  # the ticket's acknowledgement
        assert refused(site.post(replies(ticket), data=form, files={"x": ("", b"")}))
        wrong = {"X-CSRF-Token": token[:-2] + "AA"}
        assert refused(site.post(replies(ticket), data=form, files={"x": ("", b"")}, headers=wrong))
        assert len(outbox.rows()) == sent
        right = {"X-CSRF-Token": token, "Origin": SITE, "Sec-Fetch-Site": "same-origin"}
        response = site.post(replies(ticket), data=form, files={"x": ("", b"")}, headers=right)
        assert response.status_code == 201, response.text
        assert len(outbox.rows()) == sent + 1

    def test_s38_s39_a_token_that_is_not_ascii_is_refused_not_an_error(self, site, token, ticket):
        headers = {"X-CSRF-Token": "t\u00e9st".encode("latin-1")}
        response = site.post(replies(ticket), files={"x": ("", b"")}, headers=headers)
        assert refused(response), response.text

    def test_s38_a_url_encoded_form_needs_the_header_then_is_not_json(self, site, token, ticket):
        assert refused(site.post(replies(ticket), data={"body": "hi"}))
        response = site.post(replies(ticket), data={"body": "hi"}, headers={"X-CSRF-Token": token})
        assert refused(response, 415)

    @pytest.mark.parametrize(
        "headers",
        [
            {"Origin": SIBLING},
            {"Origin": OTHER_PORT},
            {"Origin": "http://keyholder.test"},  # our host over plain http
            {"Origin": "null"},  # a sandboxed frame, a data: URL
            {"Sec-Fetch-Site": "same-site"},
            {"Sec-Fetch-Site": "cross-site"},
            {"Origin": SITE, "Sec-Fetch-Site": "same-site"},
        ],
    )
    def test_s38_another_origin_is_refused_even_for_json_with_the_token(
        self, site, runtime, token, ticket, headers
    ):
        before = counts(runtime)
        response = site.post(
            replies(ticket), json={"body": "hi"}, headers={**headers, "X-CSRF-Token": token}
        )
        assert refused(response), response.text
        assert counts(runtime) == before

    def test_s38_json_with_the_cookie_and_no_origin_keeps_working(self, site, token, ticket):
        # A script with a cookie jar: no Origin, no token.
        response = site.post(replies(ticket), json={"body": "Fixed."})
        assert response.status_code == 201, response.text

    def test_s38_json_from_our_own_pages_works_without_the_token(self, site, token, ticket):
        headers = {"Origin": SITE, "Sec-Fetch-Site": "same-origin"}
        response = site.post(replies(ticket), json={"body": "Fixed."}, headers=headers)
        assert response.status_code == 201, response.text
        vendor = {**headers, "Content-Type": "application/vnd.keyholder+json"}
        response = site.post(replies(ticket), content='{"body": "Again."}', headers=vendor)
        assert response.status_code == 201, response.text

    def test_s38_the_request_s_own_origin_and_the_base_url_both_pass(self, runtime, agent, ticket):
        """Reached directly (development) a browser sends the server's own origin; behind a
        proxy it sends the base URL's, while the server sees an internal host."""
        app = create_app(runtime=runtime, run_relay=False)
        with TestClient(app, base_url="https://internal.example:8000") as client:
            sign_in(client, runtime, agent)
            for origin in ("https://internal.example:8000", SITE):
                response = client.post(
                    replies(ticket), json={"body": "hi"}, headers={"Origin": origin}
                )
                assert response.status_code == 201, (origin, response.text)
            response = client.post(replies(ticket), json={"body": "x"}, headers={"Origin": SIBLING})
            assert refused(response)

    def test_s38_a_body_less_state_change_from_another_origin_is_refused(
        self, site, runtime, token
    ):
        response = site.post("/api/mfa/recovery-codes", headers={"Origin": OTHER_PORT})
        assert refused(response)
        response = site.delete("/api/session", headers={"Sec-Fetch-Site": "same-site"})
        assert refused(response)
        assert site.get("/api/session").status_code == 200  # still signed in

    def test_s38_get_session_gives_the_session_s_token(self, site, runtime, agent, factories):
        token = sign_in(site, runtime, agent)
        assert site.get("/api/session").json()["csrf_token"] == token
        again = sign_in(site, runtime, agent)
        assert site.get("/api/session").json()["csrf_token"] == again
        assert again != token  # bound to the session: a new sign-in, a new token
        bearer = site.get("/api/session", headers=factories.auth(agent))
        assert bearer.json()["csrf_token"] is None  # a bearer token needs none

    def test_s15_s38_the_token_given_before_the_second_factor_dies_with_its_session(
        self, site, runtime, agent, ticket
    ):
        """Passing the second factor replaces the session (S15), so its CSRF token too."""
        signed_in = site.post("/api/session", json={"email": agent.email, "password": PASSWORD})
        pre_mfa = signed_in.json()["csrf_token"]
        runtime.clock.advance(timedelta(seconds=30))
        code = pyotp.TOTP(agent.totp_secret).at(runtime.clock.now())
        assert site.post("/api/session/mfa", json={"code": code}).status_code == 204
        form, files = {"body": "We are looking into it."}, {"x": ("", b"")}
        same_origin = {"Origin": SITE, "Sec-Fetch-Site": "same-origin"}
        stale = site.post(
            replies(ticket),
            data=form,
            files=files,
            headers={**same_origin, "X-CSRF-Token": pre_mfa},
        )
        assert refused(stale), stale.text
        token = site.get("/api/session").json()["csrf_token"]
        fresh = site.post(
            replies(ticket), data=form, files=files, headers={**same_origin, "X-CSRF-Token": token}
        )
        assert fresh.status_code == 201, fresh.text

    def test_s19_s38_the_api_token_is_the_one_the_pages_use(self, site, token):
        page = site.get("/account/security")
        assert f'name="csrf_token" value="{token}"' in page.text


class TestRequestsWithoutTheCookie:
    def test_s38_bearer_requests_need_no_token_and_ignore_origin(
        self, client, factories, agent, ticket
    ):
        auth = factories.auth(agent)
        form = {"body": "With a file."}
        response = client.post(replies(ticket), data=form, files={"x": ("", b"")}, headers=auth)
        assert response.status_code == 201, response.text
        response = client.post(
            replies(ticket), json={"body": "hi"}, headers={**auth, "Origin": SIBLING}
        )
        assert response.status_code == 201, response.text

    @pytest.mark.parametrize(
        ("content_type", "content"),
        [
            ("text/plain", b'{"name": "hello", "body": "Hello!"}'),
            ("application/x-www-form-urlencoded", b"name=hello&body=Hello"),
            ("multipart/form-data; boundary=b", b"--b--\r\n"),
            (None, b'{"name": "hello", "body": "Hello!"}'),
        ],
    )
    def test_s38_a_json_route_given_another_media_type_answers_415(
        self, client, factories, agent, content_type, content
    ):
        headers = factories.auth(agent)
        if content_type:
            headers["Content-Type"] = content_type
        response = client.post("/api/desk/canned-replies", content=content, headers=headers)
        assert refused(response, 415), response.text
        assert "application/json" in response.json()["detail"]

    def test_s38_a_reply_read_as_json_only_when_it_says_so(self, client, factories, agent, ticket):
        headers = {**factories.auth(agent), "Content-Type": "text/plain"}
        response = client.post(replies(ticket), content=b'{"body": "hi"}', headers=headers)
        assert refused(response, 415)


class TestSignIn:
    def test_s38_sign_in_from_another_origin_is_refused(self, site, agent):
        """Login CSRF: another origin cannot sign the browser in to an account it chose."""
        body = {"email": agent.email, "password": PASSWORD}
        for headers in ({"Origin": OTHER_PORT}, {"Sec-Fetch-Site": "same-site"}):
            response = site.post("/api/session", json=body, headers=headers)
            assert refused(response)
            assert "keyholder_session" not in response.headers.get("set-cookie", "")
        plain = {"Content-Type": "text/plain"}
        response = site.post("/api/session", content=json.dumps(body), headers=plain)
        assert refused(response, 415)
        assert "keyholder_session" not in response.headers.get("set-cookie", "")

    def test_s38_sign_in_from_our_origin_works_with_and_without_an_old_cookie(
        self, site, runtime, agent
    ):
        body = {"email": agent.email, "password": PASSWORD}
        headers = {"Origin": SITE, "Sec-Fetch-Site": "same-origin"}
        first = site.post("/api/session", json=body, headers=headers)
        assert first.status_code == 200, first.text
        second = site.post("/api/session", json=body, headers=headers)  # the old cookie is sent
        assert second.status_code == 200, second.text
        assert second.json()["csrf_token"] != first.json()["csrf_token"]


# ---------------------------------------------------------------- every route


EXAMPLES = {
    "name": "acme-corp",
    "email": "someone@acme.example",
    "number": "1",
    "token": "kh_example",
}


def _example(segment: str, examples: dict[str, str]) -> str:
    """A well-formed value for a path parameter, so only the guard can refuse."""
    name = segment.strip("{}").split(":")[0]
    return examples.get(name, "00000000-0000-4000-8000-000000000000")


def state_changing_api_routes(app, **examples: str) -> list[tuple[str, str]]:
    """Every (method, path) of the app under /api that changes state, with example values
    (``examples`` for path parameters by name, e.g. a real ticket's ``number``)."""
    examples = {**EXAMPLES, **examples}
    found = set()
    for route in iter_route_contexts(app.routes):  # included routers' routes too
        if isinstance(route.original_route, APIRoute) and route.path.startswith("/api/"):
            segments = route.path.split("/")
            path = "/".join(_example(s, examples) if s.startswith("{") else s for s in segments)
            found |= {(method, path) for method in route.methods & STATE_CHANGING}
    return sorted(found)


class TestEveryApiRoute:
    def test_s38_every_state_changing_route_refuses_what_another_origin_sends(
        self, site, runtime, token, outbox
    ):
        routes = state_changing_api_routes(site.app)
        assert len(routes) >= 35
        assert ("POST", "/api/desk/tickets/1/replies") in routes
        before, sent = counts(runtime), len(outbox.rows())
        attempts = {
            "foreign Origin": {"json": {}, "headers": {"Origin": OTHER_PORT}},
            "same-site fetch": {"json": {}, "headers": {"Sec-Fetch-Site": "same-site"}},
            "form, no header": {"data": {"body": "x"}},
            "multipart, no header": {"data": {"body": "x"}, "files": {"f": ("a.txt", b"x")}},
            "text/plain, no header": {
                "content": b'{"body": "x"}',
                "headers": {"Content-Type": "text/plain"},
            },
        }
        for method, path in routes:
            for what, request in attempts.items():
                response = site.request(method, path, **request)  # type: ignore[arg-type]
                assert refused(response), (method, path, what, response.status_code)
        assert counts(runtime) == before
        assert len(outbox.rows()) == sent
        assert site.get("/api/session").status_code == 200  # still signed in

    def test_s38_every_state_changing_route_lets_json_from_our_origin_through(self, site, token):
        """The refusals above are the guard's, and the guard lets our own calls pass."""
        for method, path in state_changing_api_routes(site.app):
            if (method, path) in {("DELETE", "/api/session"), ("DELETE", "/api/sessions")}:
                continue  # they would sign this client out
            response = site.request(
                method, path, json={}, headers={"Origin": SITE, "X-CSRF-Token": token}
            )
            assert not refused(response), (method, path, response.text)


class TestOrigins:
    @pytest.mark.parametrize(
        ("url", "origin"),
        [
            ("https://Keyholder.Example/", "https://keyholder.example"),
            ("https://keyholder.example:443", "https://keyholder.example"),
            ("http://127.0.0.1:8000/x", "http://127.0.0.1:8000"),
            ("http://[::1]:80", "http://[::1]"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ],
    )
    def test_origin_of_writes_what_a_browser_sends(self, url, origin):
        assert origin_of(url) == origin
