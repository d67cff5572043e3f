"""Password hashing (argon2id) and the password policy (SECURITY.md S12, S13).

Hashing (S12): argon2id with the time cost, memory cost and parallelism from
the settings (``KEYHOLDER_ARGON2_*``; defaults are RFC 9106's second, "low
memory" recommendation, which is also argon2-cffi's default). The runtime
builds one ``PasswordHasher`` from the settings (``Runtime.password_hasher``)
and hands it to the hashing pool and to the use cases that hash or verify
(``hasher=``); it is safe to use from any thread. A hash made with other
parameters (or another argon2 variant) verifies, and ``needs_rehash`` says so;
``log_in`` then stores a new hash while it still has the password.

Policy (S13, after NIST SP 800-63B): at least 8 and at most 1024 characters,
any Unicode, no composition rules, and none of the ~20,000 most common
passwords (``data/common-passwords.txt``, compared case-insensitively). The
policy applies when a password is chosen, never when one is checked or
re-hashed: tightening it later locks no one out.

Unicode: a password is normalised to NFC before it is counted, hashed or
verified, and changed in no other way (no trimming, no case folding, no width
or compatibility mapping, never truncated). NFC makes canonically equivalent
spellings of the same text, such as "é" typed as one code point or as "e" and a
combining accent (some keyboards and operating systems send either), the same
password, as RFC 8265's OpaqueString profile for passwords does. We do not use
NFKC, which NIST also allows: it would turn visibly different characters into
others ("Ⅸ" into "IX", "ﬁ" into "fi", full-width into ASCII), and one code
point can grow into 18, which would make the length rule meaningless. Lengths
count code points after normalisation.
"""

from __future__ import annotations

import contextlib
import unicodedata
from functools import cache, cached_property
from importlib.resources import files
from typing import TYPE_CHECKING

import argon2
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from keyholder.errors import InvalidInput

if TYPE_CHECKING:
    from keyholder.config import Settings

MIN_LENGTH = 8
MAX_LENGTH = 1024  # bounds the cost of normalising; far above what anyone types
# Longer input is refused before normalising it. NFC can shorten a string (a
# decomposed Hangul syllable is three code points, one once composed), so the
# bound on what was typed is looser than MAX_LENGTH.
_MAX_INPUT_LENGTH = 4 * MAX_LENGTH

COMMON_PASSWORDS = "data/common-passwords.txt"


class PasswordHasher:
    """argon2id with one set of parameters: hash, verify, and say when to re-hash."""

    def __init__(
        self,
        *,
        time_cost: int = RFC_9106_LOW_MEMORY.time_cost,
        memory_cost: int = RFC_9106_LOW_MEMORY.memory_cost,
        parallelism: int = RFC_9106_LOW_MEMORY.parallelism,
    ) -> None:
        self._argon2 = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordHasher:
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
        )

    def hash(self, password: str) -> str:
        """Check the policy, then hash. Raises ``InvalidInput`` saying what is wrong."""
        check_policy(password)
        return self.rehash(password)

    def rehash(self, password: str) -> str:
        """Hash a password that was just verified, without the policy (see module doc)."""
        return self._argon2.hash(normalize_password(password))

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; as slow when there is no hash to check."""
        try:
            normalized = normalize_password(password)
        except InvalidInput:
            normalized = None
        if password_hash is None or normalized is None:
            self._burn_time()
            return False
        try:
            return self._argon2.verify(password_hash, normalized)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters or another argon2 variant."""
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    @cached_property
    def _dummy_hash(self) -> str:
        # Made with this hasher's parameters, so a miss costs what a check costs.
        return self._argon2.hash("keyholder-timing-equaliser")

    def _burn_time(self) -> None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            self._argon2.verify(self._dummy_hash, "not-the-equaliser")


def normalize_password(password: str) -> str:
    """The form that is counted and hashed: NFC, nothing else changed."""
    if len(password) > _MAX_INPUT_LENGTH:
        raise InvalidInput(f"a password can have at most {MAX_LENGTH} characters")
    normalized = unicodedata.normalize("NFC", password)
    try:
        normalized.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates: JSON can carry them, UTF-8 (and so argon2) cannot.
        raise InvalidInput("a password cannot contain unpaired surrogate characters") from None
    return normalized


def check_policy(password: str) -> None:
    """Refuse a password that may not be chosen, saying why (S13)."""
    normalized = normalize_password(password)
    if len(normalized) < MIN_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_LENGTH} characters")
    if len(normalized) > MAX_LENGTH:
        raise InvalidInput(f"a password can have at most {MAX_LENGTH} characters")
    if normalized.strip().casefold() in common_passwords():
        raise InvalidInput(
            "this password is one of the most commonly used passwords, which attackers "
            "try first; choose another (a few unrelated words make a strong one)"
        )


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, case-folded (read once)."""
    text = files("keyholder.identity").joinpath(COMMON_PASSWORDS).read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())
