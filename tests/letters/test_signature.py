"""Signature presence on text PDFs (fast: no OCR). Presence, not authenticity."""

from __future__ import annotations

from dataclasses import replace

import pytest

from keyholder.letters import PRESENCE_NOTE, SignatureLevel, prescreen_letter
from tests.letters import corpus


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
