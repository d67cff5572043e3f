"""Tokens in URLs never reach log lines (SECURITY.md S6)."""

from __future__ import annotations

import logging

from keyholder.web.redaction import RedactTokens, install_log_redaction, redact

TOKEN = "khr_" + "A" * 43


def test_s6_tokens_in_paths_are_redacted():
    assert redact(f"POST /api/password-resets/{TOKEN} HTTP/1.1") == (
        "POST /api/password-resets/khr_[redacted] HTTP/1.1"
    )
    assert redact("/api/invitations/khi_abcdefghijklmnopqrstuvwxyz/accept") == (
        "/api/invitations/khi_[redacted]/accept"
    )


def test_s6_uvicorn_access_log_lines_carry_no_token(caplog):
    install_log_redaction()
    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, RedactTokens) for f in access.filters)
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # The shape uvicorn uses: '%s - "%s %s HTTP/%s" %d'
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "POST",
            f"/api/password-resets/{TOKEN}",
            "1.1",
            204,
        )
    assert TOKEN not in caplog.text
    assert "khr_[redacted]" in caplog.text


def test_install_is_idempotent():
    install_log_redaction()
    install_log_redaction()
    access = logging.getLogger("uvicorn.access")
    assert sum(isinstance(f, RedactTokens) for f in access.filters) == 1
