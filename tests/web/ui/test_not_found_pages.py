"""Unknown addresses: a 404 page for browsers, problem+json for the API and for scripts."""

from __future__ import annotations

import pytest

from keyholder.web.ui.rendering import CSP

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


class TestNotFound:
    def test_a_browser_gets_a_page_with_every_pages_headers(self, browser):
        response = browser.get("/no/such/page", headers=HTML)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "There is no page at this address." in response.text
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"

    @pytest.mark.parametrize("path", ["/api/no-such-thing", "/api", "/api/desk/nothing/here"])
    def test_the_api_keeps_problem_json_even_for_a_browser(self, browser, path):
        response = browser.get(path, headers=HTML)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 404

    def test_a_script_without_accept_html_gets_problem_json(self, browser):
        response = browser.get("/no/such/page", headers={"Accept": "application/json"})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["instance"] == "/no/such/page"
