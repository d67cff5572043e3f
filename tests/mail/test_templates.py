"""Email templates (mail.templates): wording, links, and escaping (SECURITY.md S37)."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from keyholder.mail.templates import render

SCRIPT = "<script>alert(1)</script>"
LINK = "https://keyholder.test/x/khv_abc"

CONTEXTS: dict[str, dict[str, object]] = {
    "invitation": {
        "inviter": SCRIPT,
        "account_display_name": SCRIPT,
        "account_name": "acme",
        "permissions": "view",
        "link": LINK,
        "expires_at": "2026-01-22 12:00",
    },
    "password_reset": {
        "address": "a@customer.example",
        "link": LINK,
        "minutes": 60,
        "expires_at": "2026-01-15 13:00",
    },
    "password_changed": {"address": "a@customer.example", "changed_at": "2026-01-15 at 12:00"},
    "email_verification": {
        "name": SCRIPT,
        "address": "a@customer.example",
        "link": LINK,
        "expires_at": "2026-01-17 12:00",
    },
    "email_change_confirm": {
        "name": SCRIPT,
        "address": "b@customer.example",
        "old_address": "a@customer.example",
        "link": LINK,
        "expires_at": "2026-01-17 12:00",
    },
    "email_change_requested": {
        "name": SCRIPT,
        "address": "a@customer.example",
        "new_address": "b@customer.example",
        "requested_at": "2026-01-15 12:00",
    },
    "email_changed": {
        "name": SCRIPT,
        "address": "a@customer.example",
        "new_address": "b@customer.example",
        "changed_at": "2026-01-15 12:00",
    },
}


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_every_template_renders_a_one_line_subject_and_both_bodies(name: str) -> None:
    subject, text, html = render(name, **CONTEXTS[name])
    assert subject
    assert "\n" not in subject
    assert text.endswith("\n")
    assert html.strip().startswith("<p>")


@pytest.mark.parametrize("name", [n for n in sorted(CONTEXTS) if SCRIPT in CONTEXTS[n].values()])
def test_s37_html_templates_escape_user_supplied_text(name: str) -> None:
    _subject, _text, html = render(name, **CONTEXTS[name])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_links_and_expiry_are_in_both_bodies() -> None:
    for name in ("invitation", "password_reset", "email_verification", "email_change_confirm"):
        _subject, text, html = render(name, **CONTEXTS[name])
        assert LINK in text
        assert f'href="{LINK}"' in html
        assert "expires" in text
        assert "works once" in text


def test_a_missing_value_is_an_error() -> None:
    with pytest.raises(UndefinedError, match="link"):
        render("email_verification", name="", address="a@customer.example", expires_at="x")
