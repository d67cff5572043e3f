"""The ``fpdf`` letter generator (held out until the stop-29 report): its manifest
details match the others', its ink is where the spec says, its PDFs carry a text layer,
and it is deterministic."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from benchmarks.corpora.build import HELD_OUT, build
from benchmarks.corpora.fpdf_letters import render
from benchmarks.corpora.spec import random_spec


def _text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        pages = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()
    return " ".join(pages).replace("\r", "").replace("\n", " ")


def _ink_images(pdf: bytes) -> list[np.ndarray]:
    """The alpha of every image in the PDF (the ink is embedded as RGBA images)."""
    document = pdfium.PdfDocument(pdf)
    try:
        found = []
        for i in range(len(document)):
            for obj in document[i].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
                found.append(np.asarray(obj.get_bitmap(render=False).to_pil()))
        return found
    finally:
        document.close()


def test_signed_and_unsigned_letters() -> None:
    signed = random_spec(11, 3, signed=True)
    unsigned = random_spec(11, 3, signed=False)
    assert signed.signature is not None
    signed = replace(signed, signature=replace(signed.signature, ink="blue"), clutter="none")
    unsigned = replace(unsigned, clutter="none")
    with_ink, without = render(signed), render(unsigned)
    assert set(with_ink.details) == {"band_gap_mm", "ink_reaches"}
    assert set(with_ink.details["ink_reaches"]) == {"closing", "name"}  # type: ignore[arg-type]
    assert set(without.details) == {"band_gap_mm"}
    assert with_ink.pdf is not None
    assert without.pdf is not None
    assert len(_ink_images(with_ink.pdf)) == 1
    assert _ink_images(without.pdf) == []
    # the ink shows on the page image: blue pixels that the unsigned letter lacks
    blue = [
        int(((p[..., 2].astype(int) - p[..., 0]) > 60).sum())
        for p in (np.asarray(with_ink.pages[-1]), np.asarray(without.pages[-1]))
    ]
    assert blue[0] > blue[1] + 500
    for rendering, spec in ((with_ink, signed), (without, unsigned)):
        assert rendering.pdf is not None
        text = _text(rendering.pdf)
        assert spec.contract_on_letter in text
        assert spec.executive_email in text
        assert spec.email_to_add in text


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    assert HELD_OUT != "fpdf"  # a tuning generator since the stop-29 report
    conditions = ["clean", "text-pdf", "scan"]
    first = build("fpdf", 1, 31, tmp_path / "a", conditions=conditions)
    again = build("fpdf", 1, 31, tmp_path / "b", conditions=conditions)
    assert first == again
    assert not any(row["held_out"] for row in first)
    for row in first:
        a, b = ((tmp_path / d / row["file"]).read_bytes() for d in ("a", "b"))
        assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest(), row["file"]
