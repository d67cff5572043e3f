"""The held-out ``typst`` letter generator: manifest rows shaped like the others', ink
where the spec says and nowhere when unsigned, signatures sized like real ones, every
condition produced, and the same bytes for the same seed."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from benchmarks.corpora.build import HELD_OUT, build
from benchmarks.corpora.spec import SIGNATURE_KINDS, SignatureSpec, random_spec
from benchmarks.corpora.typst_letters import render
from benchmarks.corpora.typst_signatures import signature


def _blue(page: np.ndarray) -> int:
    return int(((page[..., 2].astype(int) - page[..., 0]) > 60).sum())


def test_signed_letter_has_ink_and_unsigned_none() -> None:
    signed = random_spec(11, 3, signed=True)
    assert signed.signature is not None
    signed = replace(signed, signature=replace(signed.signature, ink="blue"), clutter="none")
    unsigned = replace(random_spec(11, 3, signed=False), clutter="none")
    with_ink, without = render(signed), render(unsigned)
    assert set(with_ink.details) == {"band_gap_mm", "ink_reaches"}
    assert set(with_ink.details["ink_reaches"]) == {"closing", "name"}  # type: ignore[arg-type]
    assert set(without.details) == {"band_gap_mm"}
    assert _blue(np.asarray(with_ink.pages[-1])) > _blue(np.asarray(without.pages[-1])) + 500
    assert _blue(np.asarray(without.pages[-1])) < 50
    for rendering, spec in ((with_ink, signed), (without, unsigned)):
        assert rendering.pdf is not None
        document = pdfium.PdfDocument(rendering.pdf)
        text = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
        document.close()
        assert spec.contract_on_letter in text
        assert spec.email_to_add in text


def test_signature_sizes_like_real_ones() -> None:
    for i in range(9):
        kind = SIGNATURE_KINDS[i % 3]
        pen = ("ballpoint", "gel", "fountain", "felt")[i % 4]
        sig = SignatureSpec(kind, pen, "blue", "none", i)
        mark, _ = signature("Mei-Ling van der Berg", sig, width=(25, 80), height=8 + 2 * i, dpi=200)
        w, h = mark.size_mm
        assert 25 <= w <= 81, (kind, w)
        assert 7.5 <= h <= 25.5, (kind, h)


def test_rows_conditions_and_same_bytes(tmp_path: Path) -> None:
    assert HELD_OUT == "typst"
    conditions = ["clean", "text-pdf", "scan", "photo"]
    first = build("typst", 2, 31, tmp_path / "a", conditions=conditions)
    again = build("typst", 2, 31, tmp_path / "b", conditions=conditions)
    assert first == again
    assert {row["condition"] for row in first} == set(conditions)
    assert all(row["held_out"] for row in first)
    other = build("fpdf", 1, 31, tmp_path / "c", conditions=["clean"])
    assert set(first[0]) == set(other[0])
    for row in first:
        a, b = ((tmp_path / d / row["file"]).read_bytes() for d in ("a", "b"))
        assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest(), row["file"]
