"""Content-addressed file storage (S34): bytes are stored and found by their SHA-256.

The database store keeps bytes in the ``blobs`` table, inside the caller's
transaction; the directory store (``KEYHOLDER_BLOB_DIR``) is pending.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from keyholder.db.uow import UnitOfWork
from keyholder.desk.models import Blob


def store_blob(uow: UnitOfWork, data: bytes) -> str:
    """Store ``data`` (once, however often it is stored) and return its SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    exists = uow.session.scalar(select(Blob.sha256).where(Blob.sha256 == digest))
    if exists is None:
        uow.session.add(Blob(sha256=digest, size=len(data), data=data, created_at=uow.clock.now()))
    return digest


def load_blob(uow: UnitOfWork, digest: str) -> bytes:
    blob = uow.session.get(Blob, digest)
    if blob is None:
        raise LookupError(f"blob {digest} is missing from the store")
    return blob.data
