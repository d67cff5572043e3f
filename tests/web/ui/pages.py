"""Helpers for the page tests: staff sign-in through the MFA challenge, and multipart posts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp

from keyholder.clock import FixedClock
from keyholder.desk import service
from keyholder.desk.attachments import NewAttachment
from keyholder.identity.actor import Actor
from keyholder.identity.models import User
from tests.web.ui.conftest import Browser

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in_staff(browser: Browser, user: User, clock: FixedClock) -> None:
    """Password, then the TOTP code at the test clock, as a person would."""
    browser.sign_in(user.email)
    assert user.totp_secret
    clock.advance(timedelta(seconds=30))  # a fresh code: each one works once
    code = pyotp.TOTP(user.totp_secret).at(clock.now())
    response = browser.submit("/login/mfa", code=code, next="/desk")
    assert response.status_code == 303, response.text


def upload(
    browser: Browser,
    page: str,
    to: str,
    fields: dict[str, str],
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    *,
    token: bool = True,
) -> Any:
    """GET ``page`` for its token, then post a multipart form with ``files`` to ``to``."""
    data = dict(fields)
    if token:
        data["csrf_token"] = browser.token(page)
    sent = files or [("unused", ("", b"", "application/octet-stream"))]
    return browser.client.post(to, data=data, files=sent, follow_redirects=False)


def text_of(page: str) -> str:
    """The page with tags removed, for asserting what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def note_and_answer(runtime: Any, number: int, agent: Actor, *, note: str, answer: str) -> None:
    """As an agent: an internal note with ``secret-note.txt``, then a public answer with
    ``public-answer.txt`` (``public file``), the mix every customer page must filter."""
    service.add_internal_note(
        runtime.uow(),
        number,
        body=note,
        actor=agent,
        attachments=[NewAttachment("secret-note.txt", b"internal file\n")],
    )
    service.reply_to_ticket(
        runtime.uow(),
        number,
        body=answer,
        actor=agent,
        attachments=[NewAttachment("public-answer.txt", b"public file\n")],
    )
