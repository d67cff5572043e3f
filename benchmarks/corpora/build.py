"""A corpus on disk: each letter rendered by one generator, in every condition, and a
manifest (JSON lines, one row per file) with the ground truth.

The spec of letter ``n`` depends only on (seed, n): the same seed gives the same
letters, word for word, under every generator, so generators can be compared letter
by letter. The files depend on (generator, seed, n, condition) and nothing else.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.corpora import (
    fpdf_degrade,
    fpdf_letters,
    html_letters,
    pillow_letters,
    reportlab_letters,
    typst_degrade,
    typst_letters,
)
from benchmarks.corpora.base import DPI, Rendering, png_of  # noqa: F401 - png_of re-exported for tests
from benchmarks.corpora.degrade import CONDITIONS, DEGRADE, encode, pages_pdf
from benchmarks.corpora.spec import DEFAULT_TODAY, LetterSpec, random_spec

GENERATORS: dict[str, Callable[[LetterSpec], Rendering]] = {
    "html": html_letters.render,
    "reportlab": reportlab_letters.render,
    "pillow": pillow_letters.render,
    "fpdf": fpdf_letters.render,
    "typst": typst_letters.render,
}
HELD_OUT = "typst"  # see README.md: kept out of all tuning, reported once at the end
# Generators that bring their own damage for some conditions: each function takes all
# the clean pages and returns one file (the others use degrade.py page by page).
OWN_DEGRADE: dict[
    str, dict[str, Callable[[list[Image.Image], int, np.random.Generator], tuple[bytes, str]]]
] = {
    "fpdf": fpdf_degrade.DEGRADE,
    "typst": typst_degrade.DEGRADE,
}
SIGNATURE_LEVEL = {True: "signature-like ink", False: "no handwriting"}


def conditions_for(rendering: Rendering, wanted: Iterable[str]) -> list[str]:
    return [c for c in wanted if c != "text-pdf" or rendering.pdf is not None]


def letter_files(
    rendering: Rendering, condition: str, seed: int, generator: str = ""
) -> tuple[bytes, str]:
    """One condition's file bytes and extension (``generator`` picks its own damage)."""
    if condition == "text-pdf":
        assert rendering.pdf is not None
        return rendering.pdf, "pdf"
    if condition == "clean":
        if len(rendering.pages) == 1:
            return encode(rendering.pages[0], "PNG", dpi=DPI), "png"
        return pages_pdf(rendering.pages, DPI), "pdf"
    rng = np.random.default_rng(seed)
    own = OWN_DEGRADE.get(generator, {}).get(condition)
    if own is not None:
        return own(rendering.pages, DPI, rng)
    outputs = [DEGRADE[condition](page, DPI, rng) for page in rendering.pages]
    if len(outputs) == 1:
        return outputs[0]
    return pages_pdf([Image.open(io.BytesIO(data)) for data, _ in outputs], DPI), "pdf"


def check_args(spec: LetterSpec) -> list[str]:
    """The ``keyholder letters check`` options that play the request form."""
    typed = spec.typed()
    return [
        "--account",
        typed["account_name"],
        "--email-to-add",
        typed["email_to_add"],
        "--contract",
        typed["contract_number"],
        "--executive-email",
        typed["executive_email"],
    ]


def build(
    generator: str,
    letters: int,
    seed: int,
    out: Path,
    *,
    conditions: Iterable[str] = CONDITIONS,
    today: date = DEFAULT_TODAY,
    first: int = 0,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Write ``letters`` letters (numbers ``first``..) to ``out`` with ``manifest.jsonl``."""
    render = GENERATORS[generator]
    wanted = list(conditions)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for number in range(first, first + letters):
        spec = random_spec(seed, number, today=today)
        rendering = render(spec)
        for condition in conditions_for(rendering, wanted):
            file_seed = random.Random(f"file/{generator}/{seed}/{number}/{condition}").randint(
                0, 2**63
            )
            data, ext = letter_files(rendering, condition, file_seed, generator)
            name = f"{generator}-{seed}-{number:04d}-{condition}.{ext}"
            (out / name).write_bytes(data)
            rows.append(
                {
                    "file": name,
                    "generator": generator,
                    "held_out": generator == HELD_OUT,
                    "template": rendering.template,
                    "font": rendering.font,
                    "condition": condition,
                    "pages": len(rendering.pages),
                    **spec.manifest(),
                    "expected_signature_level": SIGNATURE_LEVEL[spec.signed],
                    "ink": rendering.details,
                    "check_args": check_args(spec),
                }
            )
        if log:
            log(
                f"{generator} letter {number}: {rendering.template}, {rendering.font}, "
                f"{'signed' if spec.signed else 'unsigned'}, {spec.variant}"
            )
    with (out / "manifest.jsonl").open("w", encoding="utf-8") as manifest:
        for row in rows:
            manifest.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    return rows
