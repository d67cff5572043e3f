"""Run a pre-screen in a child process with time and memory limits (S33).

Parsing PDFs and images and running OCR on uploaded files is where a hostile
file does harm; the child can only hurt itself. The parent sends the request
as one JSON line followed by the file's bytes on stdin and reads one JSON
object back: ``{"report": …, "annotated_png": base64 | null}`` or
``{"error": {"type", "detail"}}``. The child sets its own limits
(RLIMIT_AS, RLIMIT_CPU) before reading anything; a wall-clock timeout in the
parent kills its whole process group (Tesseract included).

What else the child is kept from (S33):

- our secrets: it gets a short list of environment variables, none of ours;
- our files: it inherits no file descriptor but its three pipes, and works in
  a fresh private directory (0700, also its TMPDIR and HOME, deleted after);
- our user, when the service runs as root: before reading the letter it
  switches for good to ``letters_user`` (``nobody`` by default), so it cannot
  read the database file, the .env or the blob store, nor signal other
  processes. The switch happens in the child once the interpreter has started
  (as ``Popen(user=…)`` would, but after Python found its own files, which
  need not be readable by that user); the letter only arrives afterwards,
  over stdin.

What it is not kept from (the residual risk): a kernel exploit, the network,
and files every user may read; there is no seccomp filter or namespace. A
deployment that needs more runs the service in a container or under a
systemd unit with ``PrivateNetwork=``/``ProtectSystem=``.

    python -m keyholder.letters.sandbox MEMORY_MB CPU_SECONDS [UID GID]   # the child's side
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from typing import Any

from PIL import Image

from keyholder.config import Settings
from keyholder.errors import (
    ConfigurationError,
    InvalidInput,
    KeyholderError,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from keyholder.letters.checks import AccountRecords, ExecutiveContact, TypedFields
from keyholder.letters.load import Limits
from keyholder.letters.prescreen import limits_from, prescreen_letter
from keyholder.letters.report import LetterReport

_ERRORS: dict[str, type[KeyholderError]] = {
    cls.__name__: cls for cls in (InvalidInput, PayloadTooLarge, UnsupportedMediaType)
}
# Threads the child's libraries may start: one each (2-core machines, shared).
_SINGLE_THREADED = {"OMP_THREAD_LIMIT": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
# All the child sees of our environment: no secrets (KEYHOLDER_SECRET_KEY,
# database URLs) within reach of code that parses hostile files.
_PASSED_ON = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "TESSDATA_PREFIX")
DEFAULT_USER = "nobody"
# The letters user may not be able to read Python's own files (an interpreter
# installed under /root), so what a pre-screen imports only when it needs it
# is imported before the switch (found by comparing sys.modules before and
# after pre-screening every kind of letter and a few broken files). A module
# missed here makes that pre-screen fail ("could not be read"), never pass.
# importlib's resource readers (a library finds its data files with them) came
# along with `keyholder.config` until it stopped importing `limits`.
_IMPORTED_BEFORE_SWITCH = (
    "encodings.idna",
    "stringprep",
    "gzip",
    "mmap",
    "numpy.random",
    "importlib.readers",
    "importlib.resources.readers",
)


def child_environment(workdir: str | None = None) -> dict[str, str]:
    """The child's whole environment; its HOME and TMPDIR are its private ``workdir``."""
    passed = {name: os.environ[name] for name in _PASSED_ON if name in os.environ}
    private = {"HOME": workdir, "TMPDIR": workdir} if workdir else {}
    return {**passed, **_SINGLE_THREADED, **private}


def child_user(settings: Settings | None) -> tuple[int, int] | None:
    """(uid, gid) the child switches to when we run as root; None when we do not."""
    if os.geteuid() != 0:
        return None  # an unprivileged service cannot switch, and needs no switch
    name = settings.letters_user if settings else DEFAULT_USER
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ConfigurationError(
            f"KEYHOLDER_LETTERS_USER: no user {name!r} on this machine to read letters as"
        ) from None
    if entry.pw_uid == 0 or entry.pw_gid == 0:
        raise ConfigurationError(
            f"KEYHOLDER_LETTERS_USER: {name!r} is root or in group root; name an unprivileged user"
        )
    return entry.pw_uid, entry.pw_gid


@contextmanager
def private_workdir(owner: tuple[int, int] | None) -> Iterator[str]:
    """A fresh directory only the child (``owner``, or us) may enter; removed afterwards."""
    path = tempfile.mkdtemp(prefix="keyholder-letter-")  # mode 0700
    try:
        if owner is not None:
            os.chown(path, *owner)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def start_child(arguments: Sequence[str], workdir: str) -> subprocess.Popen[bytes]:
    """Start ``python ARGUMENTS`` in ``workdir`` with pipes only: no other descriptor."""
    return subprocess.Popen(  # noqa: S603 - our own interpreter, no shell
        [sys.executable, *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=workdir,
        env=child_environment(workdir),
        close_fds=True,  # the default, stated: no socket or database file leaks in
        pass_fds=(),
        start_new_session=True,  # its own process group, killed whole on timeout
    )


def prescreen_in_subprocess(
    data: bytes,
    *,
    typed: TypedFields | None = None,
    records: AccountRecords | None = None,
    settings: Settings | None = None,
    today: date | None = None,
    filename: str | None = None,
    annotated: bool = False,
) -> LetterReport:
    """``prescreen_letter`` in a child process with the settings' time and memory limits."""
    limits = limits_from(settings)
    if len(data) > limits.max_bytes:  # refuse before paying for a process
        raise PayloadTooLarge(f"a letter may be at most {limits.max_bytes} bytes")
    timeout = settings.letters_timeout_seconds if settings else 60.0
    memory_mb = settings.letters_memory_limit_mb if settings else 1536
    request = {
        "typed": asdict(typed or TypedFields()),
        "records": asdict(records) if records else None,
        "limits": asdict(limits),
        "max_age_days": settings.letters_max_age_days if settings else 30,
        "today": today.isoformat() if today else None,
        "filename": filename,
        "annotated": annotated,
    }
    user = child_user(settings)
    arguments = ["-m", "keyholder.letters.sandbox", str(memory_mb), str(int(timeout) + 5)]
    arguments += [str(n) for n in user or ()]
    payload = json.dumps(request).encode() + b"\n" + data
    with private_workdir(user) as workdir:
        child = start_child(arguments, workdir)
        try:
            out, err = child.communicate(payload, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            raise InvalidInput(
                f"reading the letter took longer than {timeout:g} s; it was stopped"
            ) from None
    if child.returncode != 0 or not out:
        reason = err.decode(errors="replace").strip().splitlines()[-1:] or [
            f"exit status {child.returncode}"
        ]
        if child.returncode < 0 or "MemoryError" in reason[0]:
            reason = [f"stopped by its limits ({memory_mb} MB, {timeout:g} s)"]
        raise InvalidInput(f"the letter could not be read: {reason[0]}")
    answer = json.loads(out)
    if "error" in answer:
        error = _ERRORS.get(answer["error"]["type"], InvalidInput)
        raise error(answer["error"]["detail"])
    png = answer.get("annotated_png")
    return LetterReport(answer["report"], base64.b64decode(png) if png else None)


def _records(data: dict[str, Any] | None) -> AccountRecords | None:
    if data is None:
        return None
    contacts = tuple(ExecutiveContact(**c) for c in data.pop("executive_contacts"))
    domains = tuple(data.pop("verified_domains"))
    return AccountRecords(**data, verified_domains=domains, executive_contacts=contacts)


def _settings_like(request: dict[str, Any]) -> Settings:
    limits = Limits(**request["limits"])
    return Settings.model_construct(
        letters_max_bytes=limits.max_bytes,
        letters_max_pixels=limits.max_pixels,
        letters_max_pages=limits.max_pages,
        letters_max_age_days=request["max_age_days"],
    )


def enter_sandbox(memory_mb: int, cpu_seconds: int, user: tuple[int, int] | None) -> None:
    """The child's first act, before it reads any input: limits, then our user for good."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    if user is not None:
        for name in _IMPORTED_BEFORE_SWITCH:
            importlib.import_module(name)
        Image.init()  # every image format plugin, so identifying a file reads no module
        uid, gid = user
        os.setgroups([])
        os.setgid(gid)  # real, effective and saved: no way back
        os.setuid(uid)
        if os.getuid() != uid or os.geteuid() != uid:
            raise SystemExit("could not switch to the letters user")


def main() -> None:
    memory_mb, cpu_seconds, *ids = (int(argument) for argument in sys.argv[1:])
    enter_sandbox(memory_mb, cpu_seconds, (ids[0], ids[1]) if ids else None)
    header, _, data = sys.stdin.buffer.read().partition(b"\n")
    request = json.loads(header)
    try:
        report = prescreen_letter(
            data,
            typed=TypedFields(**request["typed"]),
            records=_records(request["records"]),
            settings=_settings_like(request),
            today=date.fromisoformat(request["today"]) if request["today"] else None,
            filename=request["filename"],
            annotated=request["annotated"],
        )
    except KeyholderError as exc:
        answer: dict[str, Any] = {"error": {"type": type(exc).__name__, "detail": exc.detail}}
    else:
        png = report.annotated_png
        answer = {
            "report": report.json,
            "annotated_png": base64.b64encode(png).decode() if png else None,
        }
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
