"""CSRF tokens on every form post of the web UI (S19)."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from keyholder.web import ui
from tests.factories import PASSWORD
from tests.web.ui.conftest import make_browser


@pytest.fixture
def alice(factories):
    account = factories.account("acme-corp")
    alice = factories.user("alice@acme.example", password=PASSWORD)
    factories.member(account, alice, "view,manage")
    return alice


class TestCsrf:
    def test_s19_a_post_without_the_token_is_refused_with_a_403_page(self, browser, alice):
        browser.get("/login")  # the anonymous CSRF cookie is set; the token is not sent
        response = browser.client.post(
            "/login", data={"email": alice.email, "password": PASSWORD}, follow_redirects=False
        )
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "did not come from this site" in response.text
        assert (
            "set-cookie" not in response.headers
            or "keyholder_session" not in (response.headers["set-cookie"])
        )

    # A token that is not ASCII was a 500 (S39): compare_digest refuses such a str.
    @pytest.mark.parametrize("forged", ["forged", "t\u00e9st"])
    def test_s19_s39_a_wrong_token_is_refused(self, browser, alice, forged):
        browser.get("/login")
        response = browser.client.post(
            "/login",
            data={"email": alice.email, "password": PASSWORD, "csrf_token": forged},
        )
        assert response.status_code == 403

    def test_s19_a_token_from_another_browser_is_refused(self, browser, runtime, alice):
        with make_browser(runtime) as other:
            token = other.token("/login")
        browser.get("/login")
        response = browser.client.post(
            "/login", data={"email": alice.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 403

    def test_s19_a_cross_site_post_is_refused_even_with_a_token(self, browser, alice):
        token = browser.token("/login")
        response = browser.client.post(
            "/login",
            data={"email": alice.email, "password": PASSWORD, "csrf_token": token},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        assert response.status_code == 403
        assert "another site" in response.text

    def test_s19_the_anonymous_csrf_cookie_is_httponly_and_samesite(self, browser):
        cookie = browser.get("/login").headers["set-cookie"]
        assert cookie.startswith("keyholder_csrf=")
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        assert "Secure" in cookie

    def test_s19_a_signed_in_token_is_bound_to_the_session(self, browser, alice):
        browser.sign_in(alice.email)
        token = browser.token("/accounts/acme-corp")
        # Another session of the same user cannot use it.
        old_session = browser.client.cookies.get("keyholder_session")
        browser.client.cookies.delete("keyholder_session")
        browser.sign_in(alice.email)
        assert browser.client.cookies.get("keyholder_session") != old_session
        response = browser.client.post(
            "/accounts/acme-corp/members",
            data={"email": "bob@acme.example", "csrf_token": token},
        )
        assert response.status_code == 403

    def test_s19_every_ui_form_post_checks_the_token(self, browser, alice):
        browser.sign_in(alice.email)
        uuid0 = "00000000-0000-0000-0000-000000000000"
        posts = [
            "/logout",
            "/login/mfa",
            "/password-reset",
            "/reset/khr_x",
            "/verify-email/khv_x",
            "/confirm-email-change/khv_x",
            "/account/email-verification",
            "/account/mfa/enrolment",
            "/account/mfa/enrolment/confirm",
            "/account/mfa/recovery-codes",
            "/account/mfa/disable",
            "/invitations/khi_x",
            "/accounts/acme-corp/members",
            "/accounts/acme-corp/members/alice@acme.example",
            f"/accounts/acme-corp/invitations/{uuid0}/revoke",
            f"/access-requests/{uuid0}/confirm-email/x",
            f"/access-requests/{uuid0}/executive-confirmation/x",
            f"/access-requests/{uuid0}/veto/x",
            "/desk/bulk-status",
            "/desk/tickets/1",
            "/desk/canned-replies",
            "/desk/canned-replies/x",
            "/desk/canned-replies/x/delete",
            f"/desk/access-requests/{uuid0}/decisions",
            f"/desk/access-requests/{uuid0}/dns-check",
        ]
        for path in posts:
            response = browser.client.post(path, data={"action": "remove"})
            assert response.status_code == 403, path
        # Nothing changed: alice is still a member and signed in.
        assert browser.get("/accounts/acme-corp").status_code == 200


def _example(segment: str) -> str:
    """A well-formed value for a path parameter, so only the missing token can refuse."""
    name = segment.strip("{}").split(":")[0]
    if name.endswith("id") and name != "message_id":
        return "00000000-0000-4000-8000-000000000000"
    return {"number": "1", "name": "acme-corp", "message_id": "1"}.get(name, "kh_example")


def form_routes() -> list[str]:
    """Every path of the web UI that takes a POST, with example values in it."""
    found = []
    for part in ui.PARTS:
        for route in part.routes:
            if isinstance(route, APIRoute) and "POST" in route.methods:
                segments = route.path.split("/")
                found.append("/".join(_example(s) if s.startswith("{") else s for s in segments))
    return sorted(found)


class TestEveryForm:
    def test_s19_every_page_post_without_the_token_is_refused(self, browser, alice):
        paths = form_routes()
        assert "/account/sessions/end" in paths
        assert any(p.startswith("/t/") for p in paths)
        browser.sign_in(alice.email)
        for path in paths:
            # Multipart: what the upload forms need, and what the others read as well.
            empty = {"unused": ("", b"", "application/octet-stream")}
            response = browser.client.post(
                path, data={"x": "1"}, files=empty, follow_redirects=False
            )
            assert response.status_code == 403, (path, response.status_code)
        assert browser.get("/accounts", follow_redirects=False).status_code == 200  # still in
