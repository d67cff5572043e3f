"""Prepared reads (``db.prepared``) read what SQLAlchemy reads, and survive a lost connection."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text

from keyholder.accounts.models import EnterpriseAccount
from keyholder.accounts.repository import _MEMBER_LOOKUP, _MEMBER_LOOKUP_BY_ID
from keyholder.bootstrap import Runtime
from keyholder.db.engine import make_engine
from keyholder.db.prepared import PreparedRead
from keyholder.identity.credentials import revoke_all_credentials
from keyholder.identity.models import User
from keyholder.identity.service import _API_TOKEN_ACTOR, authenticate_api_token
from keyholder.identity.tokens import hash_token
from tests.factories import Factories


def sqlalchemy_row(engine: Engine, read: PreparedRead, values: dict[str, object]) -> object:
    with engine.connect() as connection:
        return connection.execute(read._statement, values).first()


def test_rows_read_back_as_sqlalchemy_reads_them(
    runtime: Runtime, engine: Engine, factories: Factories
) -> None:
    # UUIDs, zoned datetimes, permission sets, enums and NULLs, on this engine.
    account = factories.account()
    staff = factories.staff()
    member = factories.user()
    factories.member(account, member, "view,billing")
    token = factories.token(staff)
    values: list[tuple[PreparedRead, dict[str, object]]] = [
        (_API_TOKEN_ACTOR, {"token_hash": hash_token(token)}),
        (_MEMBER_LOOKUP, {"name": account.name, "email": member.email, "caller_id": staff.id}),
        (_MEMBER_LOOKUP, {"name": account.name, "email": "nobody@example.com", "caller_id": None}),
        (_MEMBER_LOOKUP, {"name": "no-such-account", "email": member.email, "caller_id": None}),
        (
            _MEMBER_LOOKUP_BY_ID,
            {"account_id": account.id, "email": member.email, "caller_id": member.id},
        ),
        (
            _MEMBER_LOOKUP_BY_ID,
            {"account_id": uuid.uuid4(), "email": member.email, "caller_id": None},
        ),
    ]
    for read, params in values:
        ours = read.first(engine, params)
        theirs = sqlalchemy_row(engine, read, params)
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours._asdict() == theirs._asdict()  # type: ignore[attr-defined]
            assert [type(v) for v in ours] == [type(v) for v in theirs]  # type: ignore[attr-defined]


def test_a_read_sees_a_revocation_committed_a_moment_before(
    runtime: Runtime, factories: Factories
) -> None:
    user = factories.user()
    token = factories.token(user)
    assert authenticate_api_token(runtime.uow(), token) is not None
    with runtime.uow() as uow:  # "log out everywhere", committed
        revoke_all_credentials(uow, user.id)
        uow.commit()
    assert authenticate_api_token(runtime.uow(), token) is None


def test_a_prepared_read_is_refused_once_the_session_has_begun(runtime: Runtime) -> None:
    with runtime.uow(read_only=True) as uow:
        uow.session.scalar(select(User.id).limit(1))
        with pytest.raises(RuntimeError, match="first work"):
            uow.read_engine()


@pytest.fixture
def own_engine(database_url: str, db_backend: str) -> Iterator[Engine]:
    if db_backend != "postgresql":
        pytest.skip("a server-side connection loss needs a server")
    engine = make_engine(database_url, ping_after_idle_seconds=3600, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def terminate_pooled_connection(engine: Engine) -> None:
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = make_engine(str(engine.url.render_as_string(hide_password=False)))
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        connection.commit()
    admin.dispose()


def test_a_prepared_read_survives_a_connection_the_server_closed(
    own_engine: Engine, factories: Factories
) -> None:
    account = factories.account()
    terminate_pooled_connection(own_engine)
    params = {"name": account.name, "email": None, "caller_id": None}
    row = _MEMBER_LOOKUP.first(own_engine, params)
    assert row is not None
    assert row.account_name == account.name


def test_an_idle_pooled_connection_the_server_closed_is_replaced_before_use(
    database_url: str, db_backend: str, factories: Factories
) -> None:
    if db_backend != "postgresql":
        pytest.skip("a server-side connection loss needs a server")
    account = factories.account()
    # Every pooled connection counts as idle here, so each checkout pings first.
    engine = make_engine(database_url, ping_after_idle_seconds=0, pool_size=1, max_overflow=0)
    try:
        terminate_pooled_connection(engine)
        with engine.connect() as connection:  # the ORM and Core path, not a prepared read
            name = connection.scalar(
                select(EnterpriseAccount.name).where(EnterpriseAccount.id == account.id)
            )
        assert name == account.name
    finally:
        engine.dispose()
