"""Declarative base shared by every slice's models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, MetaData, Uuid
from sqlalchemy.orm import DeclarativeBase

from keyholder.db.types import UTCDateTime

# Stable constraint names, so migrations can name what they alter or drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


def load_all_models() -> MetaData:
    """Import every slice's models so ``Base.metadata`` is complete."""
    # Imported here, not at the top: the model modules import this one.
    from keyholder.access import models as _access  # noqa: F401, PLC0415
    from keyholder.accounts import models as _accounts  # noqa: F401, PLC0415
    from keyholder.audit import models as _audit  # noqa: F401, PLC0415
    from keyholder.desk import models as _desk  # noqa: F401, PLC0415
    from keyholder.identity import models as _identity  # noqa: F401, PLC0415
    from keyholder.mail import models as _mail  # noqa: F401, PLC0415
    from keyholder.scim import models as _scim  # noqa: F401, PLC0415
    from keyholder.webhooks import models as _webhooks  # noqa: F401, PLC0415

    return Base.metadata
