"""Content-addressed file storage (S34): bytes are stored and found by their SHA-256.

Two stores behind one Protocol (``db.tx.BlobStore``), chosen by ``settings.blob_dir``:

* ``DatabaseBlobStore`` (the default) keeps bytes in the ``blobs`` table, in the
  caller's transaction: they commit or roll back with the message they belong to.
* ``DirectoryBlobStore`` keeps each blob in a file named after its hash. A file
  cannot roll back with the transaction, so a failed use case may leave one
  behind; that is harmless by design: nothing refers to it, and storing the same
  bytes again finds it in place. Files are written atomically (temporary file,
  fsync, rename), so a reader never sees half a blob.

Either store checks the hash on every read: what comes back is what was stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from keyholder.config import Settings
from keyholder.db.tx import BlobStore, Tx
from keyholder.desk.models import Blob

_DIGEST = re.compile(r"[0-9a-f]{64}")


class BlobMissing(LookupError):
    """No blob with this hash in the store."""


class BlobCorrupted(LookupError):
    """The stored bytes no longer match their hash."""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verified(digest: str, data: bytes) -> bytes:
    if _digest(data) != digest:
        raise BlobCorrupted(f"blob {digest} does not match its hash")
    return data


class DatabaseBlobStore:
    """Blobs in the ``blobs`` table, written in the caller's transaction."""

    def store(self, tx: Tx, data: bytes) -> str:
        """Store ``data`` (once, however often it is stored) and return its SHA-256."""
        digest = _digest(data)
        session = tx.session
        if session.scalar(select(Blob.sha256).where(Blob.sha256 == digest)) is None:
            # Two transactions storing the same new bytes at once: the second
            # waits for the first and then does nothing, instead of failing.
            insert = postgresql.insert if tx.dialect == "postgresql" else sqlite.insert
            session.execute(
                insert(Blob)
                .values(sha256=digest, size=len(data), data=data, created_at=tx.clock.now())
                .on_conflict_do_nothing(index_elements=[Blob.sha256])
            )
        return digest

    def load(self, tx: Tx, digest: str) -> bytes:
        """The bytes whose SHA-256 is ``digest``; BlobMissing or BlobCorrupted otherwise."""
        data = tx.session.scalar(select(Blob.data).where(Blob.sha256 == digest))
        if data is None:
            raise BlobMissing(f"blob {digest} is missing from the database")
        return _verified(digest, data)

    def delete(self, tx: Tx, digest: str) -> None:
        """Delete the row in the caller's transaction: it goes only if the caller commits."""
        tx.session.execute(delete(Blob).where(Blob.sha256 == digest))


class DirectoryBlobStore:
    """Blobs as files ``<root>/<first two hex digits>/<sha256>``.

    The names come from the hash alone (S34), never from anything a sender
    chose, and a digest is checked to be 64 hex digits before it becomes a path.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, digest: str) -> Path:
        if not _DIGEST.fullmatch(digest):
            raise BlobMissing(f"{digest!r} is not a SHA-256 digest")
        return self.root / digest[:2] / digest

    def store(self, tx: Tx, data: bytes) -> str:
        """Store ``data`` (once, however often it is stored) and return its SHA-256."""
        digest = _digest(data)
        path = self.path_for(digest)
        with contextlib.suppress(FileNotFoundError):
            if _digest(path.read_bytes()) == digest:
                return digest  # stored before; a damaged copy is replaced below
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp: a fresh private (0600) file in the same directory, so the
        # rename below is atomic; readers see the old state or the whole blob.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)  # the rename itself survives a crash
        return digest

    def load(self, tx: Tx, digest: str) -> bytes:
        """The bytes whose SHA-256 is ``digest``; BlobMissing or BlobCorrupted otherwise."""
        try:
            data = self.path_for(digest).read_bytes()
        except FileNotFoundError as exc:
            raise BlobMissing(f"blob {digest} is missing from {self.root}") from exc
        return _verified(digest, data)

    def delete(self, tx: Tx, digest: str) -> None:
        """Unlink the file after the caller commits.

        A file cannot roll back: unlinked before a failed commit, the rows that
        still name it would point at nothing. After the commit, a crash before
        the unlink leaves a file nothing refers to, which is harmless (S34).
        """
        path = self.path_for(digest)

        def unlink() -> None:
            path.unlink(missing_ok=True)
            _fsync_directory(path.parent)

        tx.after_commit(unlink)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def blob_store(settings: Settings) -> BlobStore:
    """The store the settings choose: a directory when ``blob_dir`` is set, else the database.

    ``bootstrap`` calls it once; the runtime hands the store to every unit of
    work (``tx.blobs``), so the bytes go in the caller's transaction.
    """
    if settings.blob_dir is not None:
        return DirectoryBlobStore(settings.blob_dir)
    return DatabaseBlobStore()


def store_blob(tx: Tx, data: bytes) -> str:
    """Store ``data`` in the runtime's store (once, however often) and return its SHA-256."""
    return tx.blobs.store(tx, data)


def delete_blob(tx: Tx, digest: str) -> None:
    """Delete the bytes under ``digest`` from the runtime's store once the caller commits.

    A copy in the database from before a directory was configured goes too
    (``load_blob`` would still find it there).
    """
    tx.blobs.delete(tx, digest)
    if not isinstance(tx.blobs, DatabaseBlobStore):
        DatabaseBlobStore().delete(tx, digest)


def load_blob(tx: Tx, digest: str) -> bytes:
    """The bytes stored under ``digest``, checked against it.

    With a directory configured, blobs stored in the database before it was
    set are still found there: switching stores loses nothing.
    """
    store = tx.blobs
    try:
        return store.load(tx, digest)
    except BlobMissing:
        if isinstance(store, DatabaseBlobStore):
            raise
        return DatabaseBlobStore().load(tx, digest)
