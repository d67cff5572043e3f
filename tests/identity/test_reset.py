"""Self-service password reset (identity.reset): SECURITY.md S1 to S11, S14, S31, S35."""

from __future__ import annotations

import bisect
import re
import statistics
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from keyholder.audit.models import AuditEvent
from keyholder.audit.service import list_events, verify_chain
from keyholder.bootstrap import Runtime, bootstrap
from keyholder.clock import FixedClock
from keyholder.config import Settings
from keyholder.db.base import load_all_models
from keyholder.db.uow import RequestContext
from keyholder.errors import (
    Conflict,
    Gone,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from keyholder.identity import reset
from keyholder.identity.models import StaffRole, TokenPurpose, User, UserSession, UserToken
from keyholder.identity.reset import issue_reset_link, request_password_reset, reset_password
from keyholder.identity.service import authenticate_api_token, authenticate_session, log_in
from keyholder.identity.tokens import hash_token, new_token
from keyholder.mail.models import OutboxMessage
from tests.factories import OPERATOR, PASSWORD, Factories

NEW_PASSWORD = "a brand new pass phrase"
LINK = re.compile(r"https://keyholder\.test/reset/(khr_[A-Za-z0-9_-]+)")
SECOND = timedelta(seconds=1)
CARA = "cara@customer.example"


# --- helpers -----------------------------------------------------------------------


def mails(runtime: Runtime, kind: str, to: str | None = None) -> list[OutboxMessage]:
    with runtime.uow(read_only=True) as uow:
        rows = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        ).all()
    return [row for row in rows if to is None or row.recipients == [to]]


def token_from(mail: OutboxMessage) -> str:
    match = LINK.search(mail.body)
    assert match, mail.body
    return match.group(1)


def request_token(runtime: Runtime, email: str = CARA) -> str:
    """Ask for a reset as the user would and read the token from the email."""
    request_password_reset(runtime.uow(), email, limiter=runtime.rate_limiter)
    return token_from(mails(runtime, "password_reset", email)[-1])


def can_log_in(runtime: Runtime, email: str, password: str) -> bool:
    try:
        log_in(
            runtime.uow(),
            email,
            password,
            client_address=None,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
    except NotAuthenticated:
        return False
    return True


def edit_user(runtime: Runtime, current_email: str, /, **values: object) -> None:
    """Change a user's row directly, as another use case would."""
    with runtime.uow() as uow:
        uow.session.execute(update(User).where(User.email == current_email).values(**values))
        uow.commit()


def events(runtime: Runtime, action: str) -> list[AuditEvent]:
    return list(reversed(list_events(runtime.uow(read_only=True), action=action)))


def count(runtime: Runtime, model: type[object], *where: object) -> int:
    with runtime.uow(read_only=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)))


@pytest.fixture
def cara(factories: Factories) -> User:
    """A customer with a verified email (users made by an operator are verified)."""
    return factories.user(CARA, password=PASSWORD)


# --- asking for a link -------------------------------------------------------------


class TestRequest:
    def test_eligible_customer_gets_one_link_by_email(self, runtime, cara):
        request_password_reset(
            runtime.uow(), "  Cara@Customer.EXAMPLE ", limiter=runtime.rate_limiter
        )

        [mail] = mails(runtime, "password_reset")
        assert mail.recipients == [CARA]
        assert mail.subject == "Reset your Keyholder password"
        assert token_from(mail).startswith("khr_")
        assert "expires in 60 minutes" in mail.body

    @pytest.mark.parametrize(
        ("address", "change", "reason"),
        [
            pytest.param("nobody@customer.example", None, "unknown_email", id="unknown"),
            pytest.param("not an address", None, "invalid_email", id="malformed"),
            pytest.param("new@customer.example", {"email_verified_at": None}, "unverified",
                         id="unverified"),
            pytest.param("gone@customer.example", {"is_active": False}, "inactive", id="inactive"),
            *(
                pytest.param(f"{role}@keyholder.example", {"staff_role": role}, "staff",
                             id=f"S31-{role}")
                for role in StaffRole
            ),
        ],
    )  # fmt: skip
    def test_s1_s31_no_link_for_addresses_that_may_not_reset(
        self, runtime, factories, address, change, reason
    ):
        """S1: nothing to tell apart; S31: staff are never recovered by a customer flow."""
        if change is not None:
            factories.user(address, password=PASSWORD)
            edit_user(runtime, address, **change)

        assert request_password_reset(runtime.uow(), address, limiter=runtime.rate_limiter) is None

        assert mails(runtime, "password_reset") == []
        assert count(runtime, UserToken) == 0
        [refused] = events(runtime, "password_reset.request_refused")
        assert refused.data["after"] == {"reason": reason}

    def test_s4_link_uses_the_configured_base_url(self, runtime, settings, clock, engine, cara):
        """S4: the link is built from settings.base_url only (trailing slash or not)."""
        other = settings.model_copy(update={"base_url": "https://id.example.org/"})
        elsewhere = bootstrap(other, clock=clock, engine=engine)
        request_password_reset(elsewhere.uow(), CARA, limiter=elsewhere.rate_limiter)
        elsewhere.hashing.close()  # not close(): the engine is the session's

        [mail] = mails(runtime, "password_reset")
        assert re.search(r"\nhttps://id\.example\.org/reset/khr_[A-Za-z0-9_-]{43}\n", mail.body)

    def test_s5_admin_whose_email_just_changed_gets_no_link(self, runtime, factories, clock):
        """S5: an account admin's fresh email cannot receive a reset for N days."""
        account = factories.account("acme-corp")
        factories.admin_of(account, "boss@acme.example")
        edit_user(runtime, "boss@acme.example", email_changed_at=clock.now() - timedelta(days=1))

        request_password_reset(runtime.uow(), "boss@acme.example", limiter=runtime.rate_limiter)

        assert mails(runtime, "password_reset") == []
        [refused] = events(runtime, "password_reset.request_refused")
        assert refused.data["after"] == {"reason": "email_recently_changed"}
        # Once the block (7 days by default) has passed, the link goes out.
        clock.advance(runtime.settings.email_change_reset_block - timedelta(days=1) + SECOND)
        request_password_reset(runtime.uow(), "boss@acme.example", limiter=runtime.rate_limiter)
        assert len(mails(runtime, "password_reset")) == 1

    def test_s5_applies_to_admins_only(self, runtime, factories, clock):
        """S5: a member without `manage` whose email changed may still reset."""
        account = factories.account("acme-corp")
        factories.member(account, factories.user("viewer@acme.example"), "view,billing")
        edit_user(runtime, "viewer@acme.example", email_changed_at=clock.now())

        request_password_reset(runtime.uow(), "viewer@acme.example", limiter=runtime.rate_limiter)

        assert len(mails(runtime, "password_reset", "viewer@acme.example")) == 1

    def test_s6_token_has_256_bits_and_only_its_hash_is_stored(self, runtime, cara):
        """S6: from `secrets`, ≥ 128 bits; in no table but the outgoing email itself."""
        token = request_token(runtime)

        secret = token.removeprefix("khr_")
        assert len(secret) == 43  # 32 random bytes, url-safe base64
        with runtime.uow(read_only=True) as uow:
            stored = uow.session.scalars(select(UserToken.token_hash)).all()
        assert stored == [hash_token(token)]
        found_in = set()
        with runtime.engine.connect() as connection:
            for table in load_all_models().sorted_tables:
                for row in connection.execute(select(table)):
                    if any(secret in str(value) for value in row):
                        found_in.add(table.name)
        # The outbox holds the email until the relay delivers it: the one copy.
        assert found_in == {"outbox"}

    def test_s9_a_newer_link_revokes_the_older_one(self, runtime, cara):
        """S9: issuing a token revokes the user's older unused ones."""
        older = request_token(runtime)
        newer = request_token(runtime)

        with pytest.raises(Gone):
            reset_password(runtime.uow(), older, NEW_PASSWORD, hasher=runtime.password_hasher)
        reset_password(runtime.uow(), newer, NEW_PASSWORD, hasher=runtime.password_hasher)
        assert can_log_in(runtime, CARA, NEW_PASSWORD)

    def test_s35_request_is_audited_without_the_token(self, runtime, cara):
        """S35: UTC time, actor, target, client address, request id; never the token."""
        context = RequestContext(client_address="203.0.113.7", request_id="req-1")
        request_password_reset(runtime.uow(context), CARA, limiter=runtime.rate_limiter)
        token = token_from(mails(runtime, "password_reset")[0])

        [event] = events(runtime, "password_reset.request")
        assert (event.actor, event.target) == ("anonymous", f"user:{CARA}")
        assert (event.client_address, event.request_id) == ("203.0.113.7", "req-1")
        assert event.at == runtime.clock.now()
        assert event.data["after"]["via"] == "email"
        assert token not in str(event.data)
        assert token.removeprefix("khr_") not in str(event.data)

    def test_s1_timing_does_not_tell_a_customer_from_an_unknown_address(
        self, runtime, factories, record_property, monkeypatch
    ):
        """S1: 100 alternating samples of each; their timings must be hard to tell apart.

        A sent request writes a token and an email more than a refused one, which
        the pacer (``reset._Pacer``, here fresh for this test) makes up for.
        Passes when the medians differ by < 25 % (or < 0.5 ms), or, on a machine
        so loaded that medians wander, when the distributions overlap: a sent
        request is the slower of a random pair 30 to 70 % of the time. Without
        the pacer both fail (medians about 100 % apart, slower 75-90 % of the time).
        """
        monkeypatch.setattr(reset, "_PACER", reset._Pacer())
        factories.user("known@customer.example")
        addresses = ("known@customer.example", "nobody@customer.example")
        samples: dict[str, list[float]] = {address: [] for address in addresses}

        def timed(address: str) -> float:
            uow = runtime.uow()
            started = time.perf_counter()
            request_password_reset(uow, address, limiter=runtime.rate_limiter)
            return time.perf_counter() - started

        for _ in range(20):  # warm up caches, the connection pool and the pacer
            for address in addresses:
                timed(address)
        for i in range(100):
            for address in addresses if i % 2 else reversed(addresses):
                samples[address].append(timed(address))

        sent, refused = (samples[address] for address in addresses)
        sent_ms, refused_ms = statistics.median(sent) * 1000, statistics.median(refused) * 1000
        slower = share_slower(sent, refused)
        record_property("s1", {"sent_ms": sent_ms, "refused_ms": refused_ms, "slower": slower})
        assert len(mails(runtime, "password_reset")) == 120
        close_medians = abs(sent_ms - refused_ms) < max(0.25 * sent_ms, 0.5)
        assert close_medians or 0.3 < slower < 0.7, (sent_ms, refused_ms, slower)


def share_slower(first: list[float], second: list[float]) -> float:
    """How often a sample of ``first`` exceeds one of ``second`` (Mann-Whitney U / n·m)."""
    ordered = sorted(second)
    wins = sum(
        bisect.bisect_left(ordered, x)
        + (bisect.bisect_right(ordered, x) - bisect.bisect_left(ordered, x)) / 2
        for x in first
    )
    return wins / (len(first) * len(second))


# --- using a link ------------------------------------------------------------------


class TestReset:
    def test_sets_the_new_password_and_spends_the_token(self, runtime, cara, clock):
        token = request_token(runtime)
        clock.advance(timedelta(minutes=5))

        reset_password(runtime.uow(), token, NEW_PASSWORD, hasher=runtime.password_hasher)

        assert can_log_in(runtime, CARA, NEW_PASSWORD)
        assert not can_log_in(runtime, CARA, PASSWORD)
        with runtime.uow(read_only=True) as uow:
            user = uow.session.scalars(select(User).where(User.email == CARA)).one()
            record = uow.session.scalars(select(UserToken)).one()
        assert user.password_changed_at == clock.now()
        assert record.used_at == clock.now()

    def test_s2_a_request_that_is_not_used_changes_nothing(self, runtime, cara):
        """S2: the old password still works; sessions and tokens live on."""
        signed_in = log_in(
            runtime.uow(),
            CARA,
            PASSWORD,
            client_address=None,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        )
        with runtime.uow(read_only=True) as uow:
            before = uow.session.scalars(select(User).where(User.email == CARA)).one()

        request_password_reset(runtime.uow(), CARA, limiter=runtime.rate_limiter)

        assert can_log_in(runtime, CARA, PASSWORD)
        assert authenticate_session(runtime.uow(), signed_in.session_token) is not None
        with runtime.uow(read_only=True) as uow:
            after = uow.session.scalars(select(User).where(User.email == CARA)).one()
        assert (after.password_hash, after.password_changed_at) == (
            before.password_hash,
            before.password_changed_at,
        )

    def test_s7_a_token_works_once(self, runtime, cara):
        """S7: reuse → Gone, and the password stays what the first use set."""
        token = request_token(runtime)
        reset_password(runtime.uow(), token, NEW_PASSWORD, hasher=runtime.password_hasher)

        with pytest.raises(Gone, match="already used"):
            reset_password(
                runtime.uow(), token, "yet another pass phrase", hasher=runtime.password_hasher
            )

        assert can_log_in(runtime, CARA, NEW_PASSWORD)
        assert not can_log_in(runtime, CARA, "yet another pass phrase")

    @pytest.mark.parametrize(("offset", "works"), [(-SECOND, True), (SECOND, False)])
    def test_s8_expiry_at_ttl_minus_and_plus_one_second(
        self, runtime, cara, clock: FixedClock, offset, works
    ):
        """S8: the default TTL is 60 minutes, checked with the fixed clock."""
        assert Settings.model_fields["password_reset_ttl"].default == timedelta(minutes=60)
        token = request_token(runtime)

        clock.advance(runtime.settings.password_reset_ttl + offset)

        if works:
            reset_password(runtime.uow(), token, NEW_PASSWORD, hasher=runtime.password_hasher)
        else:
            with pytest.raises(Gone, match="expired"):
                reset_password(runtime.uow(), token, NEW_PASSWORD, hasher=runtime.password_hasher)
        assert can_log_in(runtime, CARA, NEW_PASSWORD) is works

    def test_s9_a_password_change_kills_the_token(self, runtime, cara, clock):
        """S9: a password set after the token was issued, by any path, voids it."""
        token = request_token(runtime)
        clock.advance(SECOND)
        edit_user(runtime, CARA, password_changed_at=clock.now())

        with pytest.raises(Gone):
            reset_password(runtime.uow(), token, NEW_PASSWORD, hasher=runtime.password_hasher)
        assert can_log_in(runtime, CARA, PASSWORD)
        assert events(runtime, "password_reset.failed")[0].data["after"]["reason"] == (
            "password_changed"
        )

    @pytest.mark.parametrize("back_again", [False, True])
    def test_s9_an_email_change_kills_the_token(self, runtime, cara, clock, back_again):
        """S9: a token is bound to the address it went to, even if the user changes back."""
        token = request_token(runtime)
        clock.advance(SECOND)
        edit_user(runtime, CARA, email="cara@elsewhere.example", email_changed_at=clock.now())
        if back_again:
            clock.advance(SECOND)
            edit_user(runtime, "cara@elsewhere.example", email=CARA, email_changed_at=clock.now())

        with pytest.raises(Gone):
            reset_password(runtime.uow(), token, NEW_PASSWORD, hasher=runtime.password_hasher)
        assert events(runtime, "password_reset.failed")[0].data["after"]["reason"] == (
            "email_changed"
        )

    def test_s10_the_same_token_twice_at_once_succeeds_once(self, runtime, cara):
        """S10: two threads submit one token together; exactly one succeeds."""
        for round_ in range(3):
            token = request_token(runtime)
            passwords = [f"racer number one, round {round_}", f"racer number two, round {round_}"]
            barrier = threading.Barrier(2)
            outcomes: dict[str, str] = {}

            def submit(password: str, token: str = token, barrier=barrier, outcomes=outcomes):
                barrier.wait()
                try:
                    reset_password(runtime.uow(), token, password, hasher=runtime.password_hasher)
                    outcomes[password] = "ok"
                except Gone:
                    outcomes[password] = "gone"

            threads = [threading.Thread(target=submit, args=(p,)) for p in passwords]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)

            assert sorted(outcomes.values()) == ["gone", "ok"], outcomes
            [winner] = [p for p, outcome in outcomes.items() if outcome == "ok"]
            [loser] = [p for p, outcome in outcomes.items() if outcome == "gone"]
            assert can_log_in(runtime, CARA, winner)
            assert not can_log_in(runtime, CARA, loser)
        assert len(events(runtime, "password_reset.complete")) == 3

    def test_s10_the_conditional_update_refuses_a_token_spent_meanwhile(
        self, runtime, cara, monkeypatch
    ):
        """S10: even when the checks read a stale row, the UPDATE … WHERE used_at IS NULL
        matches nothing for a spent token, so it cannot be spent twice."""
        token = request_token(runtime)
        reset_password(runtime.uow(), token, NEW_PASSWORD, hasher=runtime.password_hasher)
        monkeypatch.setattr(reset, "_failure", lambda *_: None)  # as if the read were stale

        with pytest.raises(Gone, match="already used"):
            reset_password(
                runtime.uow(), token, "yet another pass phrase", hasher=runtime.password_hasher
            )

        assert can_log_in(runtime, CARA, NEW_PASSWORD)
        assert len(events(runtime, "password_reset.complete")) == 1

    def test_s11_tokens_of_other_purposes_are_refused(self, runtime, factories, cara, client):
        """S11: an invitation, an email-verification, an API or a session token → not found."""
        account = factories.account("acme-corp")
        admin = factories.admin_of(account, "admin@acme.example")
        client.post(
            "/api/enterprise-accounts/acme-corp/members",
            json={"user": {"email": "new@acme.example"}, "permissions": ["view"]},
            headers=factories.auth(admin),
        )
        invitation = factories.last_invitation_token()
        verification, verification_hash = new_token("khv")
        with runtime.uow() as uow:
            uow.session.add(
                UserToken(
                    user_id=cara.id,
                    purpose=TokenPurpose.EMAIL_VERIFICATION,
                    token_hash=verification_hash,
                    email=CARA,
                    created_at=uow.clock.now(),
                    expires_at=uow.clock.now() + timedelta(days=1),
                )
            )
            uow.commit()
        api_token = factories.token(cara)
        session = log_in(
            runtime.uow(),
            CARA,
            PASSWORD,
            client_address=None,
            limiter=runtime.rate_limiter,
            hasher=runtime.password_hasher,
        ).session_token

        for other in (invitation, verification, api_token, session):
            with pytest.raises(NotFound):
                reset_password(runtime.uow(), other, NEW_PASSWORD, hasher=runtime.password_hasher)
        assert can_log_in(runtime, CARA, PASSWORD)

    def test_s11_a_token_resets_only_its_own_user(self, runtime, factories, cara):
        """S11: the token names its user; nothing the holder sends can pick another."""
        factories.user("dave@customer.example", password=PASSWORD)
        reset_password(
            runtime.uow(), request_token(runtime), NEW_PASSWORD, hasher=runtime.password_hasher
        )

        assert can_log_in(runtime, "dave@customer.example", PASSWORD)
        assert not can_log_in(runtime, "dave@customer.example", NEW_PASSWORD)

    def test_s14_every_session_and_api_token_ends_and_nobody_is_signed_in(
        self, runtime, factories, cara
    ):
        """S14: all credentials stop working, no new session, a notice without secrets."""
        sessions = [
            log_in(
                runtime.uow(),
                CARA,
                PASSWORD,
                client_address=None,
                limiter=runtime.rate_limiter,
                hasher=runtime.password_hasher,
            )
            for _ in "ab"
        ]
        api_tokens = [factories.token(cara) for _ in "ab"]
        bystander = factories.user("dave@customer.example", password=PASSWORD)
        bystander_token = factories.token(bystander)
        token = request_token(runtime)

        assert (
            reset_password(runtime.uow(), token, NEW_PASSWORD, hasher=runtime.password_hasher)
            is None
        )

        for signed_in in sessions:
            assert authenticate_session(runtime.uow(), signed_in.session_token) is None
        for api_token in api_tokens:
            assert authenticate_api_token(runtime.uow(), api_token) is None
        assert authenticate_api_token(runtime.uow(), bystander_token) is not None
        assert count(runtime, UserSession, UserSession.revoked_at.is_(None)) == 0
        [notice] = mails(runtime, "password_changed")
        assert notice.recipients == [CARA]
        assert "password" in notice.subject.lower()
        assert "was changed" in notice.body
        for secret in (NEW_PASSWORD, PASSWORD, token, token.removeprefix("khr_")):
            assert secret not in notice.body
            assert secret not in notice.subject
        [complete] = events(runtime, "password_reset.complete")
        assert complete.data["after"]["credentials_revoked"] == 4

    def test_s13_a_refused_password_leaves_the_token_usable(self, runtime, cara):
        """A password the policy refuses → InvalidInput, nothing spent or audited as failed."""
        token = request_token(runtime)

        with pytest.raises(InvalidInput):
            reset_password(runtime.uow(), token, "short", hasher=runtime.password_hasher)

        assert events(runtime, "password_reset.failed") == []
        reset_password(runtime.uow(), token, NEW_PASSWORD, hasher=runtime.password_hasher)
        assert can_log_in(runtime, CARA, NEW_PASSWORD)

    def test_unknown_token_is_not_found(self, runtime, cara):
        with pytest.raises(NotFound):
            reset_password(
                runtime.uow(), "khr_" + "A" * 43, NEW_PASSWORD, hasher=runtime.password_hasher
            )
        assert events(runtime, "password_reset.failed") == []

    def test_s31_a_user_made_staff_after_the_request_cannot_use_the_token(
        self, runtime, factories, cara
    ):
        """S31: staff never recover through the customer flow, even with a token in hand."""
        token = request_token(runtime)
        edit_user(runtime, CARA, staff_role=StaffRole.AGENT)

        with pytest.raises(Gone):
            reset_password(runtime.uow(), token, NEW_PASSWORD, hasher=runtime.password_hasher)
        assert can_log_in(runtime, CARA, PASSWORD)

    def test_s35_completion_and_failures_are_audited(self, runtime, cara, clock):
        """S35: `complete` with the change, `failed` for a dead token in its own transaction."""
        used = request_token(runtime)
        context = RequestContext(client_address="198.51.100.4", request_id="req-2")
        reset_password(runtime.uow(context), used, NEW_PASSWORD, hasher=runtime.password_hasher)
        expired = request_token(runtime)
        clock.advance(runtime.settings.password_reset_ttl)

        for dead in (used, expired):
            with pytest.raises(Gone):
                reset_password(
                    runtime.uow(context), dead, NEW_PASSWORD, hasher=runtime.password_hasher
                )

        [complete] = events(runtime, "password_reset.complete")
        assert (complete.actor, complete.target) == (CARA, f"user:{CARA}")
        assert (complete.client_address, complete.request_id) == ("198.51.100.4", "req-2")
        failed = events(runtime, "password_reset.failed")
        assert [(e.actor, e.target, e.data["after"]["reason"]) for e in failed] == [
            ("anonymous", f"user:{CARA}", "used"),
            ("anonymous", f"user:{CARA}", "expired"),
        ]
        assert all(e.client_address == "198.51.100.4" for e in failed)
        everything = str([e.data for e in list_events(runtime.uow(read_only=True))])
        for secret in (used, expired, NEW_PASSWORD):
            assert secret.removeprefix("khr_") not in everything
        assert verify_chain(runtime.uow(read_only=True)).intact


# --- links made by an operator -----------------------------------------------------


class TestIssueResetLink:
    def test_link_resets_without_any_email(self, runtime, cara):
        issued = issue_reset_link(runtime.uow(), CARA, actor=OPERATOR)

        assert issued.expires_at == runtime.clock.now() + runtime.settings.password_reset_ttl
        assert mails(runtime, "password_reset") == []
        reset_password(
            runtime.uow(),
            LINK.fullmatch(issued.link).group(1),
            NEW_PASSWORD,
            hasher=runtime.password_hasher,
        )
        assert can_log_in(runtime, CARA, NEW_PASSWORD)

    def test_only_platform_admins(self, runtime, factories, cara):
        agent = factories.user("sam@keyholder.example", staff_role=StaffRole.AGENT)
        with pytest.raises(PermissionDenied):
            issue_reset_link(runtime.uow(), CARA, actor=factories.actor(agent))

    def test_s31_refuses_staff(self, runtime, factories):
        factories.user("sam@keyholder.example", staff_role=StaffRole.REVIEWER)
        with pytest.raises(PermissionDenied, match="staff"):
            issue_reset_link(runtime.uow(), "sam@keyholder.example", actor=OPERATOR)
        assert count(runtime, UserToken) == 0

    def test_s5_refuses_an_admin_whose_email_just_changed(self, runtime, factories, clock):
        factories.admin_of(factories.account("acme-corp"), "boss@acme.example")
        edit_user(runtime, "boss@acme.example", email_changed_at=clock.now())
        with pytest.raises(Conflict, match="changed less than 7 days ago"):
            issue_reset_link(runtime.uow(), "boss@acme.example", actor=OPERATOR)
