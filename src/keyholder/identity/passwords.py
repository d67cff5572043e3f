"""Password hashing (argon2id) and the minimal password policy."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from keyholder.errors import InvalidInput

MIN_LENGTH = 8
MAX_LENGTH = 1024  # bounds hashing cost; far above what anyone types

_hasher = PasswordHasher()  # argon2id with the library's current RFC 9106 defaults

# Verifying against this keeps unknown-user logins as slow as known-user ones.
_DUMMY_HASH = _hasher.hash("keyholder-timing-equaliser")


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"a password can have at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_policy(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        _burn_time(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def _burn_time(password: str) -> None:
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(_DUMMY_HASH, password)
