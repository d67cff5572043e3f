"""Password hashing and policy (SECURITY.md S12, S13)."""

from __future__ import annotations

import argon2
import pytest
from argon2 import Type, extract_parameters
from sqlalchemy import select

from keyholder.errors import InvalidInput, NotAuthenticated
from keyholder.identity import service
from keyholder.identity.models import User
from keyholder.identity.passwords import (
    MAX_LENGTH,
    PasswordHasher,
    check_policy,
    common_passwords,
)
from tests.factories import PASSWORD
from tests.runtimes import runtime_with


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def stored_hash(runtime, email: str) -> str:
    with runtime.uow(read_only=True) as uow:
        found = uow.session.scalar(select(User.password_hash).where(User.email == email))
    assert found is not None
    return found


def store_hash(runtime, email: str, password_hash: str) -> None:
    with runtime.uow() as uow:
        user = uow.session.scalar(select(User).where(User.email == email))
        assert user is not None
        user.password_hash = password_hash
        uow.commit()


def cost(password_hash: str) -> tuple[Type, int, int, int]:
    p = extract_parameters(password_hash)
    return p.type, p.time_cost, p.memory_cost, p.parallelism


class TestHashing:
    def test_s12_hashes_are_argon2id_with_the_configured_parameters(self, runtime):
        s = runtime.settings
        assert cost(runtime.password_hasher.hash(PASSWORD)) == (
            Type.ID,
            s.argon2_time_cost,
            s.argon2_memory_cost,
            s.argon2_parallelism,
        )

    def test_s12_outdated_parameters_are_rehashed_at_next_login(
        self, runtime, factories, settings, clock, engine
    ):
        """A user hashed under cheap parameters; the operator raises them; next login."""
        factories.user("old@example.com", password=PASSWORD)
        old = stored_hash(runtime, "old@example.com")
        s = runtime.settings
        assert cost(old) == (
            Type.ID,
            s.argon2_time_cost,
            s.argon2_memory_cost,
            s.argon2_parallelism,
        )
        stronger = {"argon2_time_cost": 2, "argon2_memory_cost": 64, "argon2_parallelism": 2}
        with runtime_with(settings, clock, engine, **stronger) as restarted:
            assert restarted.password_hasher.needs_rehash(old)
            service.log_in(
                restarted.uow(),
                "old@example.com",
                PASSWORD,
                client_address=None,
                limiter=restarted.rate_limiter,
                hasher=restarted.password_hasher,
            )
            new = stored_hash(runtime, "old@example.com")
            assert cost(new) == (Type.ID, 2, 64, 2)
            assert not restarted.password_hasher.needs_rehash(new)
            # The password still works, and a second login changes nothing.
            service.log_in(
                restarted.uow(),
                "old@example.com",
                PASSWORD,
                client_address=None,
                limiter=restarted.rate_limiter,
                hasher=restarted.password_hasher,
            )
            assert stored_hash(runtime, "old@example.com") == new
            with pytest.raises(NotAuthenticated):
                service.log_in(
                    restarted.uow(),
                    "old@example.com",
                    "wrong" + PASSWORD,
                    client_address=None,
                    limiter=restarted.rate_limiter,
                    hasher=restarted.password_hasher,
                )

    def test_s12_a_failed_login_does_not_rehash(self, runtime, factories, settings, clock, engine):
        factories.user("old@example.com", password=PASSWORD)
        old = stored_hash(runtime, "old@example.com")
        with runtime_with(settings, clock, engine, argon2_time_cost=2) as restarted:
            with pytest.raises(NotAuthenticated):
                service.log_in(
                    restarted.uow(),
                    "old@example.com",
                    "not " + PASSWORD,
                    client_address=None,
                    limiter=restarted.rate_limiter,
                    hasher=restarted.password_hasher,
                )
            assert stored_hash(runtime, "old@example.com") == old

    def test_s12_other_argon2_variants_verify_and_become_argon2id(self, runtime, factories):
        factories.user("legacy@example.com")
        legacy = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.I)
        store_hash(runtime, "legacy@example.com", legacy.hash(PASSWORD))
        service.log_in(
            runtime.uow(),
            "legacy@example.com",
            PASSWORD,
            client_address=None,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        assert cost(stored_hash(runtime, "legacy@example.com"))[0] is Type.ID

    def test_s12_rehashing_skips_the_policy_so_tightening_it_locks_no_one_out(
        self, runtime, factories
    ):
        """A password chosen before the common-password rule still signs in, and is re-hashed."""
        factories.user("early@example.com")
        s = runtime.settings
        older = PasswordHasher(time_cost=s.argon2_time_cost + 1, memory_cost=8, parallelism=1)
        store_hash(runtime, "early@example.com", older.rehash("iloveyou"))
        service.log_in(
            runtime.uow(),
            "early@example.com",
            "iloveyou",
            client_address=None,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        assert cost(stored_hash(runtime, "early@example.com"))[1] == s.argon2_time_cost
        assert runtime.password_hasher.verify(stored_hash(runtime, "early@example.com"), "iloveyou")

    def test_s12_garbage_hashes_never_verify_and_need_rehash(self, hasher):
        assert not hasher.verify("$2b$12$not-argon2", PASSWORD)
        assert not hasher.verify(None, PASSWORD)
        assert hasher.needs_rehash("$2b$12$not-argon2")


class TestPolicy:
    def test_s13_eight_characters_are_enough_seven_are_not(self, hasher):
        assert hasher.verify(hasher.hash("Zx8#qLw2"), "Zx8#qLw2")
        with pytest.raises(InvalidInput, match="at least 8 characters"):
            hasher.hash("Zx8#qLw")

    def test_s13_long_passwords_are_accepted_up_to_the_limit(self, hasher):
        for length in (64, 65, 200, MAX_LENGTH):
            password = ("long pass " * 200)[:length]
            assert len(password) == length
            assert hasher.verify(hasher.hash(password), password)
        with pytest.raises(InvalidInput, match=f"at most {MAX_LENGTH} characters"):
            hasher.hash("x" * (MAX_LENGTH + 1))

    def test_s13_never_truncated(self, hasher):
        """A 100-character password differing only at character 90 does not verify."""
        password = "".join(chr(ord("a") + i % 26) for i in range(100))
        other = password[:89] + "#" + password[90:]
        assert len(other) == 100
        assert other != password
        assert not hasher.verify(hasher.hash(password), other)
        # Nor past bcrypt's 72 bytes, nor at the very end of the longest allowed.
        longest = "y" * MAX_LENGTH
        assert not hasher.verify(hasher.hash(longest), longest[:-1] + "z")
        assert not hasher.verify(hasher.hash(longest), longest[:-1])

    @pytest.mark.parametrize(
        "password",
        [
            "пароль для входа",  # Cyrillic
            "パスワードは秘密です",  # Japanese, 10 characters
            "كلمة السر الطويلة",  # Arabic, right to left
            "🔑🔒🗝️🐉🐉🐉🐉🐉",  # emoji, including a variation selector
            "tab\tand\nnewline",  # control characters are characters too
            "   spaces   ",  # leading and trailing spaces are kept, not trimmed
        ],
    )
    def test_s13_any_unicode(self, hasher, password):
        password_hash = hasher.hash(password)
        assert hasher.verify(password_hash, password)
        assert not hasher.verify(password_hash, password.strip() + "x")

    @pytest.mark.parametrize(
        "password",
        ["alllowercaseletters", "ALLUPPERCASE", "58203947165", "no digits or symbols at all"],
    )
    def test_s13_no_composition_rules(self, hasher, password):
        assert hasher.verify(hasher.hash(password), password)

    def test_s13_canonically_equivalent_spellings_are_one_password(self, hasher):
        """NFC: "é" as one code point or as "e" plus a combining accent."""
        composed, decomposed = "caf\u00e9 au lait", "cafe\u0301 au lait"
        assert composed != decomposed
        assert hasher.verify(hasher.hash(composed), decomposed)
        assert hasher.verify(hasher.hash(decomposed), composed)

    def test_s13_length_counts_code_points_after_nfc(self, hasher):
        seven_letters = "e\u0301" * 7  # 14 code points typed, 7 characters
        with pytest.raises(InvalidInput, match="at least 8"):
            hasher.hash(seven_letters)
        assert hasher.hash("e\u0301" * 8)

    def test_s13_compatibility_characters_stay_distinct(self, hasher):
        """Not NFKC: ligatures, full-width letters, Roman numerals are not their look-alikes."""
        for typed, lookalike in [
            ("\ufb01nancial plan", "financial plan"),
            ("\uff50\uff41\uff53\uff53 phrase", "pass phrase"),
            ("chapter \u2168 of ten", "chapter IX of ten"),
        ]:
            assert not hasher.verify(hasher.hash(typed), lookalike)

    @pytest.mark.parametrize(
        "password", ["password", "PASSWORD", "Password1", "iloveyou", "12345678", "qwertyuiop"]
    )
    def test_s13_common_passwords_are_refused_case_insensitively(self, hasher, password):
        with pytest.raises(InvalidInput, match="most commonly used passwords"):
            hasher.hash(password)

    def test_s13_the_common_password_list_ships_with_the_package(self):
        passwords = common_passwords()
        assert len(passwords) > 19_000
        assert {"password", "123456789", "qwerty"} <= passwords
        assert all(p == p.casefold() for p in passwords)

    def test_s13_unpaired_surrogates_are_refused_not_a_crash(self, hasher):
        with pytest.raises(InvalidInput, match="surrogate"):
            check_policy("abcdefgh\ud800")
        assert not hasher.verify(hasher.hash(PASSWORD), PASSWORD + "\ud800")

    def test_s13_absurd_input_is_refused_before_any_work(self, hasher):
        with pytest.raises(InvalidInput, match="at most"):
            check_policy("x" * 1_000_000)
        assert not hasher.verify(hasher.hash(PASSWORD), "x" * 1_000_000)

    def test_s13_choosing_a_password_goes_through_the_policy(self, runtime, factories):
        with pytest.raises(InvalidInput, match="most commonly used"):
            factories.user("weak@example.com", password="Sunshine")
        with runtime.uow(read_only=True) as uow:
            assert service.find_user(uow, "weak@example.com") is None
