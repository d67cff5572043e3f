"""desk.blobs: content-addressed storage in the database or a directory (S34)."""

from __future__ import annotations

import hashlib
import os

import pytest
from sqlalchemy import func, select, update

from keyholder.desk.blobs import (
    BlobCorrupted,
    BlobMissing,
    DatabaseBlobStore,
    DirectoryBlobStore,
    blob_store,
    load_blob,
    store_blob,
)
from keyholder.desk.models import Blob
from tests.runtimes import runtime_with

DATA = b"the same bytes, stored by their hash"
DIGEST = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def blob_dir(tmp_path):
    return tmp_path / "blobs"


@pytest.fixture
def directory_runtime(runtime, settings, clock, engine, blob_dir):
    with runtime_with(settings, clock, engine, blob_dir=blob_dir) as changed:
        yield changed


@pytest.fixture(params=["database", "directory"])
def any_runtime(request, runtime):
    """A runtime for each blob store."""
    if request.param == "database":
        return runtime
    return request.getfixturevalue("directory_runtime")


def store(runtime, data: bytes = DATA, *, commit: bool = True) -> str:
    with runtime.uow() as uow:
        digest = store_blob(uow, data)
        if commit:
            uow.commit()
        return digest


def load(runtime, digest: str) -> bytes:
    with runtime.uow(read_only=True) as uow:
        return load_blob(uow, digest)


def files_in(directory):
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


class TestBothStores:
    def test_s34_stored_and_found_by_sha256(self, any_runtime):
        assert store(any_runtime) == DIGEST
        assert load(any_runtime, DIGEST) == DATA

    def test_the_same_bytes_twice_are_one_blob(self, any_runtime, blob_dir, engine):
        assert store(any_runtime) == store(any_runtime) == DIGEST
        with any_runtime.uow(read_only=True) as uow:
            rows = uow.session.scalar(select(func.count()).select_from(Blob))
        if isinstance(blob_store(any_runtime.settings), DirectoryBlobStore):
            assert rows == 0
            assert files_in(blob_dir) == [f"{DIGEST[:2]}/{DIGEST}"]
        else:
            assert rows == 1

    def test_the_same_bytes_twice_in_one_transaction_are_one_blob(self, any_runtime):
        with any_runtime.uow() as uow:
            assert store_blob(uow, DATA) == store_blob(uow, DATA)
            uow.commit()
        assert load(any_runtime, DIGEST) == DATA

    def test_an_unknown_digest_is_missing(self, any_runtime):
        with pytest.raises(BlobMissing):
            load(any_runtime, "0" * 64)

    def test_empty_and_binary_content(self, any_runtime):
        data = bytes(range(256)) * 4
        assert load(any_runtime, store(any_runtime, data)) == data


class TestDatabaseStore:
    def test_blob_rolls_back_with_its_transaction(self, runtime):
        store(runtime, commit=False)
        with pytest.raises(BlobMissing):
            load(runtime, DIGEST)

    def test_reading_checks_the_hash(self, runtime):
        store(runtime)
        with runtime.uow() as uow:
            uow.session.execute(update(Blob).values(data=b"tampered"))
            uow.commit()
        with pytest.raises(BlobCorrupted):
            load(runtime, DIGEST)

    def test_the_database_is_the_default_store(self, runtime):
        assert runtime.settings.blob_dir is None
        assert isinstance(blob_store(runtime.settings), DatabaseBlobStore)


class TestDirectoryStore:
    def test_s34_files_are_named_by_hash_alone_and_private(self, directory_runtime, blob_dir):
        store(directory_runtime)
        path = blob_dir / DIGEST[:2] / DIGEST
        assert path.read_bytes() == DATA
        assert files_in(blob_dir) == [f"{DIGEST[:2]}/{DIGEST}"]  # no temporary files left
        assert path.stat().st_mode & 0o077 == 0

    def test_a_file_outlives_a_rolled_back_transaction_harmlessly(self, directory_runtime):
        store(directory_runtime, commit=False)
        # The file stays (it cannot roll back); nothing refers to it, and the
        # same bytes stored again find it in place.
        assert load(directory_runtime, DIGEST) == DATA
        assert store(directory_runtime) == DIGEST

    def test_reading_checks_the_hash(self, directory_runtime, blob_dir):
        store(directory_runtime)
        (blob_dir / DIGEST[:2] / DIGEST).write_bytes(b"tampered")
        with pytest.raises(BlobCorrupted):
            load(directory_runtime, DIGEST)

    def test_a_damaged_file_is_replaced_when_the_bytes_come_again(
        self, directory_runtime, blob_dir
    ):
        store(directory_runtime)
        (blob_dir / DIGEST[:2] / DIGEST).write_bytes(b"x" * len(DATA))  # same size, wrong bytes
        store(directory_runtime)
        assert load(directory_runtime, DIGEST) == DATA

    def test_a_failed_write_leaves_no_file(self, directory_runtime, blob_dir, monkeypatch):
        def fail(_fd):
            raise OSError("disk full")

        monkeypatch.setattr(os, "fsync", fail)
        with pytest.raises(OSError, match="disk full"):
            store(directory_runtime)
        assert files_in(blob_dir) == []

    @pytest.mark.parametrize("digest", ["../../etc/passwd", "/etc/passwd", DIGEST.upper(), ""])
    def test_a_digest_that_is_not_one_never_becomes_a_path(self, directory_runtime, digest):
        with pytest.raises(BlobMissing):
            load(directory_runtime, digest)
        with pytest.raises(BlobMissing):
            DirectoryBlobStore(directory_runtime.settings.blob_dir).path_for(digest)

    def test_blobs_stored_in_the_database_before_are_still_found(
        self, runtime, directory_runtime, blob_dir
    ):
        store(runtime)  # before the operator set KEYHOLDER_BLOB_DIR
        assert load(directory_runtime, DIGEST) == DATA
        assert files_in(blob_dir) == []
