"""Migration 0013: contacts already on record stay executives on record (issue 18)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from keyholder.db import migrate
from keyholder.db.base import load_all_models
from tests.conftest import START


def test_contacts_from_before_are_confirmed_when_they_were_added(blank_engine):
    migrate.upgrade(blank_engine, "0010")
    tables = load_all_models().tables
    account_id, contact_id = uuid.uuid4(), uuid.uuid4()
    added = START - timedelta(days=400)
    with blank_engine.begin() as connection:
        # Only the columns 0010 had, through the tables' column types.
        connection.execute(
            tables["enterprise_accounts"]
            .insert()
            .values(
                id=account_id,
                name="acme-corp",
                display_name="Acme",
                contract_number="ENT-2024-000001",
                created_at=added,
                updated_at=added,
            )
        )
        connection.execute(
            tables["account_contacts"]
            .insert()
            .values(
                id=contact_id,
                account_id=account_id,
                kind="executive",
                name="Dana Whitfield",
                title="CEO",
                email="dana@acme.example",
                added_at=added,
            )
        )

    migrate.upgrade(blank_engine)

    contacts = tables["account_contacts"]
    with blank_engine.connect() as connection:
        row = connection.execute(
            select(contacts.c.confirmed_at, contacts.c.changed_at, contacts.c.confirm_token_hash)
        ).one()
        reminded = connection.execute(
            select(tables["enterprise_accounts"].c.admin_reminder_sent_at)
        ).scalar_one()
    assert row.confirmed_at == added
    assert row.changed_at == added
    assert row.confirm_token_hash is None
    assert reminded is None


def test_it_downgrades_and_upgrades_again(blank_engine):
    from alembic import command  # noqa: PLC0415

    migrate.upgrade(blank_engine, "0013")
    config = migrate.alembic_config(blank_engine)
    with blank_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    assert migrate.current_revision(blank_engine) != "0013"
    migrate.upgrade(blank_engine)
    assert migrate.schema_differences(blank_engine) == []
