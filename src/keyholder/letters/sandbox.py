"""Run a pre-screen in a child process with time and memory limits (S33).

Parsing PDFs and images and running OCR on uploaded files is where a hostile
file does harm; the child can only hurt itself. The parent sends the request
as one JSON line followed by the file's bytes on stdin and reads one JSON
object back: ``{"report": …, "annotated_png": base64 | null}`` or
``{"error": {"type", "detail"}}``. The child sets its own limits
(RLIMIT_AS, RLIMIT_CPU) before reading anything; a wall-clock timeout in the
parent kills its whole process group (Tesseract included).

    python -m keyholder.letters.sandbox MEMORY_MB CPU_SECONDS   # the child's side
"""

from __future__ import annotations

import base64
import json
import os
import resource
import signal
import subprocess
import sys
from dataclasses import asdict
from datetime import date
from typing import Any

from keyholder.config import Settings
from keyholder.errors import InvalidInput, KeyholderError, PayloadTooLarge, UnsupportedMediaType
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
_PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "TESSDATA_PREFIX")


def child_environment() -> dict[str, str]:
    passed = {name: os.environ[name] for name in _PASSED_ON if name in os.environ}
    return {**passed, **_SINGLE_THREADED}


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
    command = [
        sys.executable, "-m", "keyholder.letters.sandbox", str(memory_mb), str(int(timeout) + 5)
    ]  # fmt: skip
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_environment(),
        start_new_session=True,  # its own process group, killed whole on timeout
    )
    try:
        out, err = child.communicate(json.dumps(request).encode() + b"\n" + data, timeout=timeout)
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


def main() -> None:
    memory_mb, cpu_seconds = int(sys.argv[1]), int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
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
