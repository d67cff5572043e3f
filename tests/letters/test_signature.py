"""Signature presence, mostly on text PDFs (fast: no OCR). Presence, not authenticity."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from keyholder.letters import PRESENCE_NOTE, SignatureLevel, prescreen_letter
from keyholder.letters.report import LetterReport
from tests.letters import corpus, drawing
from tests.letters.conftest import needs_tesseract


def signature_of(letter: corpus.Letter, kind: str) -> dict[str, object]:
    report = prescreen_letter(corpus.text_pdf(replace(letter, signature=kind)), today=corpus.TODAY)
    return dict(report.json["signature"])


class TestTextPdf:
    def test_ink_strokes_are_signature_like(self, letter: corpus.Letter) -> None:
        signature = signature_of(letter, "ink")

        assert signature["level"] == SignatureLevel.INK
        assert signature["flags"] == []
        assert signature["note"] == PRESENCE_NOTE
        assert "authenticity" in PRESENCE_NOTE

    def test_unsigned_is_no_handwriting(self, letter: corpus.Letter) -> None:
        signature = signature_of(letter, "none")

        assert signature["level"] == SignatureLevel.NONE
        assert signature["band"] is not None

    @pytest.mark.parametrize("kind", ["slash-s", "script-font"])
    def test_typed_signatures_are_flagged(self, letter: corpus.Letter, kind: str) -> None:
        signature = signature_of(letter, kind)

        assert signature["level"] == SignatureLevel.NONE
        assert any("typed" in str(flag) for flag in signature["flags"])  # type: ignore[attr-defined]

    def test_pasted_image_is_flagged(self, letter: corpus.Letter) -> None:
        signature = signature_of(letter, "pasted-image")

        assert signature["level"] == SignatureLevel.INK
        assert signature["flags"] == ["the signature is an image pasted into the PDF"]


class TestClutterInTheBand:
    """Stamps, seals, printed logos and signature lines are not handwriting."""

    @pytest.mark.parametrize("clutter", corpus.CLUTTER)
    def test_unsigned_with_clutter_is_no_handwriting(
        self, letter: corpus.Letter, clutter: str
    ) -> None:
        signature = signature_of(replace(letter, clutter=clutter), "none")

        assert signature["level"] == SignatureLevel.NONE

    @pytest.mark.parametrize("clutter", corpus.CLUTTER)
    def test_signed_with_clutter_is_still_found(self, letter: corpus.Letter, clutter: str) -> None:
        signature = signature_of(replace(letter, clutter=clutter), "ink")

        assert signature["level"] == SignatureLevel.INK


@needs_tesseract
@pytest.mark.skipif(
    not drawing.script_font_available(), reason="no script font (make installs fonts-dancingscript)"
)
class TestScriptFontInAnImage:
    """A name set in a cursive font is ink in the band, but OCR reads it as the name."""

    # Letters whose script-font name the page's OCR did not read as words.
    @pytest.mark.parametrize(("condition", "seed"), [("clean", 5), ("clean", 14), ("scan", 7)])
    def test_is_flagged_and_never_passes(self, condition: str, seed: int) -> None:
        letter = corpus.random_letter(random.Random(seed), seed=seed)
        report = screen(replace(letter, signature="script-font", multipage=False), condition)

        flags = report.json["signature"]["flags"]
        assert any("reads as printed text" in flag for flag in flags), flags
        assert report.status("signature") == "unknown"

    @pytest.mark.parametrize("condition", ["clean", "scan"])
    def test_handwriting_is_not_flagged(self, letter: corpus.Letter, condition: str) -> None:
        report = screen(replace(letter, signature="ink"), condition)

        assert report.json["signature"]["flags"] == []
        assert report.status("signature") == "pass"


def screen(letter: corpus.Letter, condition: str) -> LetterReport:
    data, filename = corpus.letter_file(letter, condition, random.Random(3))
    return prescreen_letter(data, today=corpus.TODAY, filename=filename)
