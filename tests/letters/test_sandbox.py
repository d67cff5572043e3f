"""The pre-screen in a child process with time and memory limits (S33)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from keyholder.config import Settings
from keyholder.errors import (
    ConfigurationError,
    InvalidInput,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from keyholder.letters import AccountRecords, TypedFields, prescreen_in_subprocess
from keyholder.letters.sandbox import child_environment, child_user
from tests.letters import corpus
from tests.letters.conftest import needs_tesseract

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the user switch happens only as root")


def settings(**overrides: object) -> Settings:
    return Settings(env="development", **overrides)  # type: ignore[arg-type]


class TestSandbox:
    def test_s33_report_comes_back_from_the_child(
        self, letter: corpus.Letter, typed: TypedFields, records: AccountRecords
    ) -> None:
        report = prescreen_in_subprocess(
            corpus.text_pdf(letter), typed=typed, records=records, settings=settings(),
            today=corpus.TODAY, annotated=True,
        )  # fmt: skip

        assert report.json["summary"] == {"pass": 9, "fail": 0, "unknown": 0}
        assert report.json["records"]["executive_contacts"][0]["name"] == letter.executive_name
        assert (report.annotated_png or b"").startswith(b"\x89PNG")

    def test_s32_refusals_in_the_child_are_raised_in_the_parent(self) -> None:
        with pytest.raises(UnsupportedMediaType):
            prescreen_in_subprocess(b"<html>not a letter</html>", settings=settings())

    def test_s33_oversized_input_is_refused_before_starting_a_child(self) -> None:
        with pytest.raises(PayloadTooLarge):
            prescreen_in_subprocess(b"%PDF-" + b"0" * 100, settings=settings(letters_max_bytes=50))

    def test_s33_time_limit_stops_the_child(self, letter: corpus.Letter) -> None:
        with pytest.raises(InvalidInput, match="longer than"):
            prescreen_in_subprocess(
                corpus.text_pdf(letter), settings=settings(letters_timeout_seconds=0.05)
            )

    def test_s33_memory_limit_stops_the_child(self) -> None:
        # 12,000 x 12,000 white pixels: a small PNG that needs ~430 MB once decoded.
        huge = corpus.png_bytes(Image.new("1", (12_000, 12_000), 1))

        with pytest.raises(InvalidInput, match="stopped by its limits"):
            prescreen_in_subprocess(
                huge,
                settings=settings(letters_memory_limit_mb=256, letters_max_pixels=200_000_000),
            )

    def test_s33_the_child_gets_no_secrets_from_our_environment(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("KEYHOLDER_SECRET_KEY", "do-not-leak")
        monkeypatch.setenv("KEYHOLDER_DATABASE_URL", "postgresql://user:pw@db/keyholder")

        environment = child_environment("/private/keyholder-letter-x")

        assert not any(name.startswith("KEYHOLDER_") for name in environment)
        assert environment["OMP_THREAD_LIMIT"] == "1"
        assert environment["HOME"] == environment["TMPDIR"] == "/private/keyholder-letter-x"


@dataclass(frozen=True)
class Sighting:
    """What /proc showed of a process while it ran."""

    command: str
    uid: int
    cwd: str
    tmpdir: str | None
    open_files: frozenset[str]


class ProcessWatcher:
    """Looks at our children in /proc until stopped: the real child, no hook in it."""

    def __init__(self) -> None:
        self.sightings: list[Sighting] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ProcessWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        ours = {os.getpid()}
        while not self._stop.wait(0.02):
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    self._look(entry, ours)

    def _look(self, proc: Path, ours: set[int]) -> None:
        try:
            status = dict(line.split(":", 1) for line in (proc / "status").read_text().splitlines())
            if int(status["PPid"]) not in ours:
                return
            ours.add(int(proc.name))  # Tesseract is the child's child
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "keyholder.letters.sandbox" not in command and "tesseract" not in command:
                return  # forked, not yet our program: still a copy of pytest
            environ = dict(
                item.split("=", 1)
                for item in (proc / "environ").read_text().split("\0")
                if "=" in item
            )
            if not environ:
                return  # it exited between our reads: an ended process shows no environment
            files = frozenset(str(fd.readlink()) for fd in (proc / "fd").iterdir())
            self.sightings.append(
                Sighting(
                    command,
                    int(status["Uid"].split()[0]),
                    str((proc / "cwd").readlink()),
                    environ.get("TMPDIR"),
                    files,
                )
            )
        except (OSError, ValueError, KeyError):
            pass  # it ended while we looked


@pytest.fixture
def open_secret_file(tmp_path: Path) -> Iterator[Path]:
    """A file only we may read, held open and inheritable, as a database file would be."""
    path = tmp_path / "keyholder.db"
    path.write_text("secrets")
    path.chmod(0o600)
    fd = os.open(path, os.O_RDONLY)
    os.set_inheritable(fd, True)
    yield path
    os.close(fd)


def one_line_scan() -> bytes:
    """A picture of one typed line: the quickest thing Tesseract can read."""
    image = Image.new("RGB", (900, 200), "white")
    ImageDraw.Draw(image).text(
        (30, 60), "Contract number: ENT-2024-001234", fill="black", font=ImageFont.load_default(40)
    )
    return corpus.png_bytes(image)


@needs_tesseract
def test_s33_the_child_runs_apart_and_tesseract_still_reads_the_letter(
    open_secret_file: Path,
) -> None:
    """A private 0700 directory as cwd and TMPDIR, no inherited descriptor, and as root
    an unprivileged user (S33): watched from outside, in the real child and its Tesseract."""
    with ProcessWatcher() as watcher:
        report = prescreen_in_subprocess(one_line_scan(), settings=settings())

    assert report.json["pages"][0]["text_source"] == "ocr"
    assert report.json["items"]["contract_number"]["value"] == "ENT-2024-001234"
    children = [s for s in watcher.sightings if "keyholder.letters.sandbox" in s.command]
    assert children, "the child was never seen"
    workdir = children[0].cwd
    assert Path(workdir).name.startswith("keyholder-letter-")
    assert not Path(workdir).exists()  # removed afterwards
    for sighting in watcher.sightings:
        assert sighting.cwd == workdir
        assert sighting.tmpdir == workdir
        assert str(open_secret_file) not in sighting.open_files
    if os.geteuid() == 0:
        assert children[-1].uid == 65534  # nobody, for the rest of its life
        tesseracts = [s for s in watcher.sightings if "keyholder.letters.sandbox" not in s.command]
        assert all(s.uid == 65534 for s in tesseracts)


@as_root
class TestLettersUser:
    def test_s33_as_root_the_child_switches_to_the_letters_user(self) -> None:
        assert child_user(settings()) == (65534, 65534)
        assert child_user(settings(letters_user="daemon"))[0] not in (0, 65534)  # type: ignore[index]

    def test_s33_an_unknown_letters_user_is_a_configuration_error(self) -> None:
        with pytest.raises(ConfigurationError, match="KEYHOLDER_LETTERS_USER"):
            prescreen_in_subprocess(b"%PDF-", settings=settings(letters_user="no-such-user"))

    def test_s33_root_is_refused_as_the_letters_user(self) -> None:
        with pytest.raises(ConfigurationError, match="unprivileged"):
            child_user(settings(letters_user="root"))
