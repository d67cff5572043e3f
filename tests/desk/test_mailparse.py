"""Reading incoming mail (desk.mailparse) never fails on hostile input (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyholder.config import Settings
from keyholder.desk.mailparse import ParsedMail, parse_email
from keyholder.errors import InvalidInput

SETTINGS = Settings(env="development")

HEADER_NAMES = [
    "From", "Sender", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References",
    "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted",
    "Precedence", "Return-Path", "Delivered-To", "MIME-Version",
]  # fmt: skip
FRAGMENTS = [
    "=?utf-8?q?=0D=0A?=", "=?x-bogus?b?////?=", "<", ">", "<<>>", "@", ",", ";", ":", '"',
    "\\", "multipart/mixed; boundary=b", "multipart/report", "text/html; charset=zlib",
    "text/plain; charset=utf-7", "base64", "quoted-printable", "attachment; filename=../../x",
    "\x00", "\udcff", "é", "carol@customer.example", "<a@b>", "--b", "\t", " ",
]  # fmt: skip


def check(raw: bytes) -> None:
    try:
        mail = parse_email(raw, settings=SETTINGS, envelope_recipients=["x@y"])
    except InvalidInput:
        return
    assert isinstance(mail, ParsedMail)
    assert mail.message_id.startswith("<")
    assert "\x00" not in mail.body
    assert "\n" not in mail.subject
    assert "\n" not in mail.sender_name
    assert "@" in mail.sender
    mail.body.encode("utf-8")  # storable: no lone surrogates


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes(raw: bytes) -> None:
    check(raw)


header_line = st.tuples(
    st.sampled_from(HEADER_NAMES),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=10)), max_size=6),
).map(lambda pair: f"{pair[0]}: {''.join(pair[1])}")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(header_line, max_size=12),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)), max_size=20),
)
def test_mail_shaped_junk(headers: list[str], body: list[str]) -> None:
    text = "\n".join(["From: carol@customer.example", *headers]) + "\n\n" + "\n".join(body)
    check(text.encode("utf-8", "surrogateescape"))


@pytest.mark.parametrize("charset", ["zlib\x00", "zlib", "base64", "no-such-charset", "utf-8\x00"])
def test_a_hostile_charset_name_never_breaks_parsing(charset):
    raw = (
        f"From: a@example.com\r\nTo: support@keyholder.localhost\r\nSubject: hi\r\n"
        f"Content-Type: text/plain; charset={charset}\r\n\r\nhello\r\n"
    ).encode("utf-8", "surrogateescape")
    mail = parse_email(raw, settings=SETTINGS, envelope_recipients=["x@y"])
    assert "hello" in mail.body
