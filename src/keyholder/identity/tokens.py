"""Opaque secrets handed to people (API tokens, session ids, invitation links)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32  # 256 bits, well above the 128 SECURITY.md S6 asks for


def new_token(prefix: str) -> tuple[str, str]:
    """A fresh token and the hash to store; the token itself is never stored."""
    token = f"{prefix}_{secrets.token_urlsafe(TOKEN_BYTES)}"
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def tokens_equal(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())
