"""Signature presence, mostly on text PDFs (fast: no OCR). Presence, not authenticity."""

from __future__ import annotations

import random
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from benchmarks.corpora.clutter import MAKERS
from benchmarks.corpora.signatures import Band, InkLayer, multiply, signature_ink
from benchmarks.corpora.spec import SignatureSpec, random_spec
from benchmarks.signature_bands import FONT, one_band, typeset_words
from keyholder.letters import PRESENCE_NOTE, SignatureLevel, prescreen_letter
from keyholder.letters.clean import TWO_TONE, two_tone
from keyholder.letters.document import Box, Line, Page, TextSource, Word
from keyholder.letters.fields import LetterFields
from keyholder.letters.found import Found
from keyholder.letters.report import LetterReport
from keyholder.letters.signature import SIGNATURE_SCORE, find_signature
from tests.letters import corpus, drawing, generated
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

    @pytest.mark.parametrize("clutter", ["stamp", "seal", "logo"])
    def test_unsigned_with_a_drawn_mark_is_unclear(
        self, letter: corpus.Letter, clutter: str
    ) -> None:
        # Never "signature-like ink"; and not "no ink" either: the band holds ink,
        # which a signature written inside the stamp or seal would be part of.
        signature = signature_of(replace(letter, clutter=clutter), "none")

        assert signature["level"] == SignatureLevel.UNCERTAIN

    def test_unsigned_with_a_signature_line_is_no_handwriting(self, letter: corpus.Letter) -> None:
        signature = signature_of(replace(letter, clutter="rule"), "none")

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


# --- ink judged against the paper: bands drawn with the corpora's pens -------------------

MM_PX = drawing.DPI / 25.4
BAND = Band(gap=22.0, text_height=3.0, width=120.0)  # mm, as the corpora's generators


def band_page(
    layers: list[InkLayer],
    *,
    paper: int = 238,
    noise: float = 3.0,
    blur: float = 0.7,
    photo: float | None = None,
) -> tuple[list[Page], LetterFields]:
    """A page holding the closing, the typed name ``BAND.gap`` below it and ``layers``
    between them, like a grey scan: paper tone, sensor noise, a little blur. With
    ``photo`` (a scale, 0.65-0.95), like a phone photo as the corpora make them:
    more blur, scaled down, JPEG."""
    font = drawing.load_font("sans", 3.8 * MM_PX)
    image = Image.new("RGB", (1400, 620), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    left, baseline = 160, 140
    lines = []
    for text, y in (("Sincerely,", baseline), ("Jane Doe", baseline + round(BAND.gap * MM_PX))):
        draw.text((left, y), text, fill=(20, 20, 20), font=font, anchor="ls")
        x0, y0, x1, y1 = draw.textbbox((left, y), text, font=font, anchor="ls")
        lines.append(Line((Word(text, Box(1, x0, y0, x1 - x0, y1 - y0), 100.0),)))
    array = np.asarray(image).copy()
    for layer in layers:
        multiply(
            array, layer, round(left + layer.x_mm * MM_PX), round(baseline + layer.y_mm * MM_PX)
        )
    rng = np.random.default_rng(5)
    scanned = cv2.GaussianBlur(array.astype(np.float32) * paper / 255, (0, 0), blur)
    scanned += rng.normal(0, noise, scanned.shape)
    pixels = np.clip(scanned, 0, 255).astype(np.uint8)
    if photo is not None:
        pixels = cv2.resize(pixels, None, fx=photo, fy=photo, interpolation=cv2.INTER_AREA)
        _, jpeg = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 70])
        pixels = cv2.imdecode(jpeg, cv2.IMREAD_UNCHANGED)
        lines = [
            Line(tuple(replace(w, box=_scaled(w.box, photo)) for w in line.words)) for line in lines
        ]
    page = Page(1, pixels, "image", TextSource.TEXT_LAYER, lines)
    return [page], LetterFields(closing=lines[0], name_line=lines[1])


def _scaled(box: Box, scale: float) -> Box:
    return Box(
        box.page, round(box.x * scale), round(box.y * scale),
        round(box.width * scale), round(box.height * scale),
    )  # fmt: skip


def ballpoint(seed: int, *, strength: float, kind: str = "full") -> InkLayer:
    """A thin ballpoint signature (0.14-0.36 mm, semi-transparent, skipping), its ink's
    coverage scaled by ``strength`` (a pen running dry, a light hand)."""
    spec = SignatureSpec(kind=kind, pen="ballpoint", ink="blue", overlap="none", seed=seed)
    layer = signature_ink("Jane Doe", spec, BAND, drawing.DPI)
    return replace(layer, alpha=layer.alpha * strength)


def clutter_layer(kind: str, number: int) -> InkLayer:
    spec = random_spec(3, number)
    return MAKERS[kind](spec, BAND, drawing.DPI, random.Random(f"test/{kind}/{number}"))


class TestInkAgainstThePaper:
    """Thin, faint pen strokes are ink; drawn marks are not handwriting; "no ink
    where the signature belongs" only for a band that holds nothing ink-like."""

    @pytest.mark.parametrize("seed", [12, 13, 14])
    def test_thin_faint_ballpoint_is_signature_like(self, seed: int) -> None:
        finding = find_signature(*band_page([ballpoint(seed, strength=0.55)]))

        assert finding.level is SignatureLevel.INK, finding.evidence
        assert finding.verdict == "signature-like ink"

    def test_a_faint_signature_is_never_no_ink(self) -> None:
        # Some hairlines break up too much to be sure of: unclear, never "no ink".
        levels = [
            find_signature(*band_page([ballpoint(seed, strength=0.55)])).level
            for seed in range(15, 21)
        ]

        assert SignatureLevel.NONE not in levels
        assert levels.count(SignatureLevel.INK) >= len(levels) // 2, levels

    @pytest.mark.parametrize("number", [1, 2])
    @pytest.mark.parametrize("kind", ["stamp", "seal", "logo"])
    def test_stamp_seal_or_logo_alone_is_not_signature_ink(self, kind: str, number: int) -> None:
        finding = find_signature(*band_page([clutter_layer(kind, number)]))

        assert finding.level is not SignatureLevel.INK, finding.evidence

    # Issue 14: grainy stamp ink broke these seals' rings and this stamp's lettering
    # into pieces that looked like pen strokes ("signature-like ink" on unsigned
    # letters). The seal's disc and the stamp's box are blanked whole: "unclear".
    @pytest.mark.parametrize(
        ("kind", "number"), [("seal", 0), ("seal", 11), ("seal", 27), ("stamp", 12)]
    )
    def test_grainy_seal_or_stamp_alone_is_unclear(self, kind: str, number: int) -> None:
        finding = find_signature(*band_page([clutter_layer(kind, number)]))

        assert finding.level is SignatureLevel.UNCERTAIN, finding.evidence
        assert finding.verdict.startswith("unclear")

    @pytest.mark.parametrize(("number", "seed"), [(0, 12), (0, 13), (11, 14), (27, 13)])
    def test_signature_across_a_seal_is_found(self, number: int, seed: int) -> None:
        layers = [clutter_layer("seal", number), ballpoint(seed, strength=0.8)]

        assert find_signature(*band_page(layers)).level is SignatureLevel.INK

    @pytest.mark.parametrize(("number", "seed"), [(11, 13), (3, 14)])
    def test_signature_inside_a_seal_is_unclear_never_none(self, number: int, seed: int) -> None:
        # Its strokes go with the seal's disc; what is left says "a person looks".
        seal = clutter_layer("seal", number)
        initials = ballpoint(seed, strength=0.8, kind="initials")
        (seal_h, seal_w), (h, w) = seal.alpha.shape, initials.alpha.shape
        inside = replace(
            initials,
            x_mm=seal.x_mm + (seal_w - w) / 2 / MM_PX,
            y_mm=seal.y_mm + (seal_h - h) / 2 / MM_PX,
        )

        assert find_signature(*band_page([seal, inside])).level is SignatureLevel.UNCERTAIN

    def test_signature_running_under_a_seal_is_found(self) -> None:
        # Its end lies under the seal, the rest beside it. Once the seal's ring was
        # found, circles Hough found through the pen's strokes, away from the seal's
        # centre, were blanked too, and the signature with them: "unclear" (stop 34).
        layers = [clutter_layer("seal", 11), ballpoint(13, strength=0.8)]

        assert find_signature(*band_page(layers)).level is SignatureLevel.INK

    # A stamp the band cuts (its lower half over the typed name, or hanging off the
    # band's left end): the side left near the band's corner is a tilted rule.
    @pytest.mark.parametrize(("number", "down", "left"), [(7, True, False), (10, False, True)])
    def test_stamp_cut_by_the_band_is_not_signature_ink(
        self, number: int, down: bool, left: bool
    ) -> None:
        stamp = clutter_layer("stamp", number)
        h_mm, w_mm = (side / MM_PX for side in stamp.alpha.shape)
        cut = replace(
            stamp,
            y_mm=BAND.gap - 0.55 * h_mm if down else stamp.y_mm,
            x_mm=-0.6 * w_mm if left else stamp.x_mm,
        )

        finding = find_signature(*band_page([cut]))

        assert finding.level is not SignatureLevel.INK, finding.evidence

    def test_signature_over_a_stamp_is_found(self) -> None:
        layers = [clutter_layer("stamp", 1), ballpoint(12, strength=0.8)]

        assert find_signature(*band_page(layers)).level is SignatureLevel.INK

    def test_very_faint_strokes_are_unclear_not_none(self) -> None:
        finding = find_signature(*band_page([ballpoint(11, strength=0.25)]))

        assert finding.level is SignatureLevel.UNCERTAIN, finding.evidence
        assert finding.verdict.startswith("unclear")

    # Issue 14: thick felt-tip initials were erased as a logo's solid shapes, and
    # initials written over the closing or the typed name left only a tail in the
    # band; both were told "no ink where the signature belongs".
    @pytest.mark.parametrize(
        ("pen", "overlap", "seed", "photo"),
        [
            ("felt", "none", 19, None),
            ("felt", "none", 27, 0.75),
            ("fountain", "closing", 17, None),
            ("gel", "name", 2, None),
            ("gel", "name", 13, 0.75),
        ],
    )
    def test_initials_are_never_no_ink(
        self, pen: str, overlap: str, seed: int, photo: float | None
    ) -> None:
        spec = SignatureSpec(kind="initials", pen=pen, ink="black", overlap=overlap, seed=seed)
        layer = signature_ink("Jane Doe", spec, BAND, drawing.DPI)
        damage = {"blur": 1.2, "noise": 4.0, "photo": photo} if photo else {}

        finding = find_signature(*band_page([layer], **damage))  # type: ignore[arg-type]

        assert finding.level is not SignatureLevel.NONE, finding.evidence

    # Issue 14: initials are too narrow to score as a signature, and were "unclear"
    # even alone in the band; a stroke shaped as a pen writes them is ink there.
    # Faded (``strength``) until they score under a signature's mark.
    @pytest.mark.parametrize(
        ("seed", "photo", "strength"),
        [(19, None, 1.0), (5, None, 0.5), (14, 0.75, 0.7), (22, 0.75, 0.7)],
    )
    def test_ballpoint_initials_alone_are_signature_like(
        self, seed: int, photo: float | None, strength: float
    ) -> None:
        spec = SignatureSpec(
            kind="initials", pen="ballpoint", ink="blue", overlap="none", seed=seed
        )
        layer = signature_ink("Jane Doe", spec, BAND, drawing.DPI)
        layer = replace(layer, alpha=layer.alpha * strength)
        damage = {"blur": 1.2, "noise": 4.0, "photo": photo} if photo else {}

        finding = find_signature(*band_page([layer], **damage))  # type: ignore[arg-type]

        assert finding.level is SignatureLevel.INK, finding.evidence
        # Seed 5's leaning straight stroke, erased as a rule until stop 44, now
        # scores as a signature's with the rest.
        if finding.score < SIGNATURE_SCORE:
            assert finding.evidence.endswith("shaped as initials")

    @pytest.mark.parametrize("noise", [1.0, 6.0])
    def test_empty_band_is_no_ink(self, noise: float) -> None:
        finding = find_signature(*band_page([], noise=noise))

        assert finding.level is SignatureLevel.NONE, finding.evidence
        assert finding.verdict == "no ink where the signature belongs"

    @pytest.mark.parametrize("edge", ["closing", "name"])
    def test_a_band_with_one_edge_found_is_never_none(self, edge: str) -> None:
        # Its place is a guess (five line heights from the one line found): it may
        # lie beside the signature. An empty one is unclear, not "no ink".
        pages, both = band_page([])
        one = (
            LetterFields(closing=both.closing)
            if edge == "closing"
            else LetterFields(name_line=both.name_line)
        )

        finding = find_signature(pages, one)

        assert finding.level is SignatureLevel.UNCERTAIN, finding.evidence
        assert "a guess" in finding.evidence

    @pytest.mark.parametrize("edge", ["closing", "name"])
    def test_ink_read_into_a_line_is_never_none(self, edge: str) -> None:
        # Issue 14 (held-out scan): initials written over the typed name, which OCR
        # took into the name's line; the band stopped above that tall box, empty.
        layer = ballpoint(4, strength=0.9, kind="initials")
        height_mm = layer.alpha.shape[0] / MM_PX
        y_mm = -0.6 * height_mm if edge == "closing" else BAND.gap - 0.9 * height_mm
        pages, fields = band_page([replace(layer, y_mm=y_mm)])
        line = fields.closing if edge == "closing" else fields.name_line
        assert line is not None
        (word,) = line.words
        ink_top = 140 + round(y_mm * MM_PX)  # band_page's closing sits on row 140
        ink_bottom = ink_top + round(height_mm * MM_PX)
        top, bottom = (
            (word.box.y, ink_bottom + 4) if edge == "closing" else (ink_top - 4, word.box.bottom)
        )
        box = Box(1, word.box.x, top, word.box.width, bottom - top)
        tall = Line((replace(word, box=box),))
        # The page's other lines keep the line height a line of print's.
        others = [Line((replace(word, box=replace(word.box, y=500 + 10 * n)),)) for n in range(4)]
        page = replace(pages[0], lines=[*pages[0].lines, *others])
        fields = replace(fields, **{"closing" if edge == "closing" else "name_line": tall})

        finding = find_signature([page], fields)

        assert finding.level is not SignatureLevel.NONE, finding.evidence

    def test_an_empty_band_on_a_fax_is_unclear_never_none(self) -> None:
        # A fax's threshold can drop a thin ballpoint signature whole.
        pages, fields = band_page([])
        pages[0].image = np.where(pages[0].image > 128, 255, 0).astype(np.uint8)
        assert two_tone(pages[0].image)
        pages[0].notes.append(TWO_TONE)

        finding = find_signature(pages, fields)

        assert finding.level is SignatureLevel.UNCERTAIN, finding.evidence
        assert "black and white" in finding.evidence

    def test_a_grey_scan_is_not_two_tone(self) -> None:
        pages, _ = band_page([ballpoint(11, strength=1.0)])

        assert not two_tone(pages[0].image)

    def test_no_band_is_unclear_never_none(self) -> None:
        pages, _ = band_page([ballpoint(11, strength=1.0)])

        finding = find_signature(pages, LetterFields())

        assert finding.level is None
        assert finding.verdict.startswith("unclear")


class TestPhotographedStrokes:
    """A phone photo breaks a thin ballpoint line into letter-sized pieces, which the
    drawn-marks rules then took one by one for printed shapes (issue 14): the
    pieces are joined by direction and judged together. Seals, stamps and logos
    photographed the same way stay what they were."""

    @pytest.mark.parametrize(
        ("kind", "seed", "blur"), [("full", 6, 1.6), ("initials", 3, 1.2), ("initials", 12, 1.2)]
    )
    def test_a_broken_ballpoint_line_is_signature_like(
        self, kind: str, seed: int, blur: float
    ) -> None:
        layer = ballpoint(seed, strength=0.8, kind=kind)

        finding = find_signature(*band_page([layer], blur=blur, noise=4.0, photo=0.75))

        assert finding.level is SignatureLevel.INK, finding.evidence

    @pytest.mark.parametrize(
        ("kind", "number"), [("stamp", 1), ("stamp", 5), ("seal", 0), ("seal", 11), ("logo", 2)]
    )
    def test_photographed_clutter_is_not_signature_ink(self, kind: str, number: int) -> None:
        layer = clutter_layer(kind, number)

        finding = find_signature(*band_page([layer], blur=1.4, noise=4.0, photo=0.75))

        assert finding.level is not SignatureLevel.INK, finding.evidence

    # Signatures written over the closing: the band under the closing holds only
    # their feet, letter-sized; the closing's row is taken in (its words blanked).
    @pytest.mark.parametrize(("seed", "above"), [(10, 0.65), (17, 0.5), (20, 0.65)])
    def test_a_signature_over_the_closing_is_found(self, seed: int, above: float) -> None:
        layer = ballpoint(seed, strength=0.9)
        height_mm = layer.alpha.shape[0] / MM_PX

        finding = find_signature(*band_page([replace(layer, y_mm=1.0 - above * height_mm)]))

        assert finding.level is SignatureLevel.INK, finding.evidence

    @pytest.mark.parametrize("number", [1, 3, 5])
    @pytest.mark.parametrize("kind", ["stamp", "seal"])
    def test_a_stamp_or_seal_over_the_closing_is_not_signature_ink(
        self, kind: str, number: int
    ) -> None:
        layer = clutter_layer(kind, number)
        height_mm = layer.alpha.shape[0] / MM_PX

        finding = find_signature(*band_page([replace(layer, y_mm=-0.5 * height_mm)]))

        assert finding.level is not SignatureLevel.INK, finding.evidence


# Small ballpoint initials written over the closing: the band holds only their
# tails, and with the closing's row taken in they were signature-like ink, 5.1 x
# 3.1 line heights, but under the pen-sized stroke asked there (4 x 2 line heights
# for one stroke), so the letter was "unclear" (stop 41, Pillow letter 5402-0034).
# With no drawn mark in the band or the row, no stamp or seal is there to be read.
@needs_tesseract
@pytest.mark.parametrize("condition", ["clean", "scan"])
def test_small_initials_over_the_closing_are_signature_like(condition: str) -> None:
    report = generated.screen("pillow", 5402, 34, condition)

    assert report.json["signature"]["level"] == SignatureLevel.INK.value


# Small ballpoint initials beside the closing: their "/", a thin straight line
# leaning at 64 degrees, was erased as a rule and the rest were letter-sized pieces
# (stop 44, Pillow 5502 letter 12, scan). Gel initials over the typed name with a
# seal at the band's other end: initials beside a drawn mark were never taken,
# however far from it (letter 1). Both were "unclear".
@needs_tesseract
@pytest.mark.parametrize(("number", "condition"), [(12, "scan"), (1, "clean"), (1, "scan")])
def test_small_initials_clear_of_drawn_marks_are_signature_like(
    number: int, condition: str
) -> None:
    report = generated.screen("pillow", 5502, number, condition)

    assert report.json["signature"]["level"] == SignatureLevel.INK.value, report.json["signature"]


# A ballpoint flourish across the typed name hid the name from OCR: the band was
# five line heights under the closing, above the strokes (stop 45, fpdf 5701
# letter 14, scan). With the title read, it is measured again down to the title.
@needs_tesseract
def test_a_signature_over_a_name_unread_is_found_down_to_the_title() -> None:
    report = generated.screen("fpdf", 5701, 14, "scan")

    assert report.json["signature"]["level"] == SignatureLevel.INK.value, report.json["signature"]


# ... but only where the band found none: taken down, the band holds the name's row
# and the label beside it ("Authorised signature"), flagged as typed text where the
# signature belongs, which left a signed letter's check "unknown" (stop 45's first
# version, fpdf 5801 letter 9, scan: the name read "Yuki S. Whit! e-Price").
@needs_tesseract
def test_a_signature_in_the_band_is_not_measured_again_down_to_the_title() -> None:
    report = generated.screen("fpdf", 5801, 9, "scan")

    signature = report.json["signature"]
    assert (signature["level"], signature["flags"]) == (SignatureLevel.INK.value, [])


def test_an_email_address_read_unsure_under_the_name_is_not_ink_like() -> None:
    # A phone photo of an unsigned pillow letter (stop 32): the executive's email
    # address under the title was read at 59% confidence, so not blanked, and blur
    # ran its letters together into "drawn" shapes: the empty band became unclear.
    font = ImageFont.truetype(FONT, 31)
    page = Image.new("RGB", (1400, 700), (235, 228, 225))
    draw = ImageDraw.Draw(page)
    closing = typeset_words(draw, "Sincerely,", 200, 120, font)
    name = typeset_words(draw, "Ibrahim Sato", 200, 330, font)
    title = typeset_words(draw, "Chief Executive Officer", 200, 378, font)
    email = [
        replace(w, confidence=59.0)
        for w in typeset_words(draw, "i.sato@mail.example.net", 200, 426, font)
    ]
    lines = [Line(tuple(words)) for words in (closing, name, title, email)]
    fields = LetterFields(
        closing=lines[0],
        name_line=lines[1],
        executive_email=Found(email[0].text, email[0].text, email[0].box),
    )
    blurred = cv2.GaussianBlur(np.asarray(page), (0, 0), 1.2)

    finding = find_signature([Page(1, blurred, "image", TextSource.OCR, lines=lines)], fields)

    assert finding.level is SignatureLevel.NONE, finding.evidence


class TestBandsOfTheHarness:
    """Bands of ``benchmarks/signature_bands.py`` that were once judged wrongly; each
    test says how."""

    # Ballpoint strokes of 30-50 darkness on a photo: only their darkest specks were
    # ink, and the band was "unclear" although the signature is plain to see.
    @pytest.mark.parametrize(
        ("number", "kind"), [(106, "full"), (122, "flourish"), (153, "flourish")]
    )
    def test_a_photographed_ballpoint_signature_is_signature_like(
        self, number: int, kind: str
    ) -> None:
        outcome = one_band(61, number, "photo", None, signed=True)

        assert (outcome.pen, outcome.kind) == ("ballpoint", kind)
        assert outcome.level == SignatureLevel.INK.value, outcome.evidence

    # A felt tip's downstroke two line heights long was cut out as a stamp frame's
    # upright side, which made the whole band "unclear".
    @pytest.mark.parametrize("number", [37, 41])
    def test_a_felt_downstroke_is_not_a_frame(self, number: int) -> None:
        outcome = one_band(61, number, "photo", None, signed=True)

        assert outcome.pen == "felt"
        assert outcome.level == SignatureLevel.INK.value, outcome.evidence

    # A felt tip's loops covered most of a circle and were blanked as a seal, with
    # everything inside it: "a seal or stamp ..., no pen strokes beyond it" (stop 30;
    # fpdf letters, synthetic photos). A seal's ring is inked all round.
    @pytest.mark.parametrize("number", [5, 57])
    def test_a_felt_tip_s_loops_are_not_a_seal(self, number: int) -> None:
        outcome = one_band(112, number, "photo", "felt", signed=True)

        assert outcome.clutter in {"none", "rule"}
        assert outcome.level == SignatureLevel.INK.value, outcome.evidence

    # A seal larger than the band, cut by its top and bottom: the ring was found but
    # its outer edge not, and the lettering between the rings scored as a pen's.
    @pytest.mark.parametrize(("number", "condition"), [(180, "clean"), (129, "photo")])
    def test_a_seal_larger_than_the_band_is_not_signature_like(
        self, number: int, condition: str
    ) -> None:
        outcome = one_band(61, number, condition, None, signed=False)

        assert outcome.clutter == "seal"
        assert outcome.level != SignatureLevel.INK.value, outcome.evidence

    # fpdf's seals (stop 29): the outer ring about 1.8 times the inner one, cut by
    # the band's edges; the inner was blanked, the outer's arcs scored as a pen's.
    @pytest.mark.parametrize(
        ("inner_mm", "ratio", "centre_mm"), [(6.0, 1.9, 11.0), (8.0, 1.8, 0.0), (5.5, 1.8, 11.0)]
    )
    def test_a_seal_with_a_wide_outer_ring_is_not_signature_like(
        self, inner_mm: float, ratio: float, centre_mm: float
    ) -> None:
        px = drawing.DPI / 25.4
        inner, outer = inner_mm * px, inner_mm * ratio * px
        size = round(2 * outer + 8)
        seal = Image.new("L", (size, size), 0)
        draw = ImageDraw.Draw(seal)
        middle = size / 2
        for radius, width in ((outer, 5), (outer - 7, 2), (inner, 3)):
            box = [middle - radius, middle - radius, middle + radius, middle + radius]
            draw.ellipse(box, outline=255, width=width)
        font = drawing.load_font("sans", 3.0 * px, bold=True)
        for n, letter in enumerate("ACME CORPORATION * "):
            angle, reach = np.deg2rad(200 + n * 19), (inner + outer) / 2
            at = (middle + reach * np.cos(angle), middle + reach * np.sin(angle))
            draw.text(at, letter, fill=255, font=font, anchor="mm")
        draw.text((middle, middle), "AC", fill=255, font=font, anchor="mm")
        layer = InkLayer(
            np.asarray(seal, dtype=np.float32) / 255 * 0.85, (110, 70, 170), drawing.DPI,
            x_mm=60.0, y_mm=centre_mm - size / 2 / px,
        )  # fmt: skip

        finding = find_signature(*band_page([layer]))

        assert finding.level is not SignatureLevel.INK, finding.evidence

    # Signed under the typed name, over the title: the band between the closing and
    # the name is empty, and the letter was told "no ink where the signature belongs".
    @pytest.mark.parametrize("number", [53, 171])
    def test_a_signature_under_the_typed_name_is_not_no_ink(self, number: int) -> None:
        outcome = one_band(723, number, "clean", None, signed=True, maker="fpdf")

        assert outcome.overlap == "name"
        assert outcome.level != SignatureLevel.NONE.value, outcome.evidence
        assert "typed name" in outcome.evidence

    # Written across the typed name or over the title, with the band above empty: a
    # pen-sized stroke there was only "unclear" (stop 37: 4 of seed 801's 200 signed
    # scans), as if it could be print under the title.
    @pytest.mark.parametrize(
        ("seed", "number", "condition"),
        [(801, 18, "scan"), (801, 158, "scan"), (723, 171, "clean")],
    )
    def test_a_signature_across_the_title_under_an_empty_band_is_signature_like(
        self, seed: int, number: int, condition: str
    ) -> None:
        outcome = one_band(seed, number, condition, None, signed=True, maker="fpdf")

        assert outcome.overlap == "name"
        assert outcome.level == SignatureLevel.INK.value, outcome.evidence
        assert "across the typed name or the title" in outcome.evidence

    # Written across the typed name and on over the title, with nothing but the
    # ink's head, or nothing at all, between the closing and the name: "no ink"
    # (stop 32, seed 761, in every condition), or "unclear". Seed 771's ballpoint
    # strokes under the name came with a straight run erased as a frame's side, and
    # were "no ink" until any ink-like mark there counted, drawn marks or not. Seed
    # 791's felt strokes under the name were erased as solid shapes, leaving specks,
    # and were "no ink" until the marks erased as drawn counted too (stop 34).
    @pytest.mark.parametrize(
        ("seed", "number", "condition", "pen"),
        [(761, 121, "clean", "felt"), (761, 159, "clean", "fountain"),
         (771, 84, "photo", "ballpoint"), (771, 152, "photo", "ballpoint"),
         (791, 197, "photo", "felt")],
    )  # fmt: skip
    def test_a_signature_under_the_name_over_the_title_is_not_no_ink(
        self, seed: int, number: int, condition: str, pen: str
    ) -> None:
        outcome = one_band(seed, number, condition, None, signed=True, maker="fpdf")

        assert (outcome.pen, outcome.overlap) == (pen, "name")
        assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence
        assert "under the typed name" in outcome.evidence

    @pytest.mark.parametrize(
        ("number", "condition"), [(22, "clean"), (156, "clean"), (27, "photo")]
    )
    def test_a_signature_across_the_name_is_signature_like(
        self, number: int, condition: str
    ) -> None:
        outcome = one_band(761, number, condition, None, signed=True, maker="fpdf")

        assert outcome.overlap == "name"
        assert outcome.level == SignatureLevel.INK.value, outcome.evidence
        assert "across the typed name" in outcome.evidence
        assert outcome.flags == ""  # neither the title as typed text nor the name as a font

    # A seal in the band and nothing else, the signature beside it across the typed
    # name and the title: "a seal or stamp ..., no pen strokes beyond it" (stop 37).
    # Band 176's stroke in the band, a leaning straight line, was erased as a rule
    # until stop 44; it is now judged in the band, clear of the seal.
    @pytest.mark.parametrize(("number", "beside"), [(0, True), (90, True), (176, False)])
    def test_a_signature_beside_a_seal_under_the_band_is_signature_like(
        self, number: int, beside: bool
    ) -> None:
        outcome = one_band(801, number, "scan", None, signed=True, maker="fpdf")

        assert (outcome.clutter, outcome.overlap) == ("seal", "name")
        assert outcome.level == SignatureLevel.INK.value, outcome.evidence
        assert ("beside the seal or stamp" in outcome.evidence) is beside

    # ... but a seal that the band cuts and that runs on under it, not seen as one in
    # the taller region (its ring and lettering run together on a photo), is itself
    # a long, tall stroke there: not a signature beside it.
    def test_a_seal_running_on_under_the_band_is_not_a_signature_beside_it(self) -> None:
        outcome = one_band(802, 189, "photo", None, signed=False)

        assert outcome.clutter == "seal"
        assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence

    # Measured from the typed name down only, the lower half of a seal cut by the
    # band's bottom edge was "signature-like": the seal is whole only when the band
    # is measured with it.
    @pytest.mark.parametrize("number", [98, 121, 168])
    def test_a_seal_across_the_name_is_not_signature_like(self, number: int) -> None:
        outcome = one_band(762, number, "photo", None, signed=False)

        assert outcome.clutter == "seal"
        assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence

    # A stamp's bold capitals run together by grainy ink ("ORI" of "ORIGINAL"),
    # with no frame found beside them: one short, dense stroke was "signature-like".
    @pytest.mark.parametrize("number", [12, 37])
    def test_a_stamp_s_bold_lettering_alone_is_not_signature_like(self, number: int) -> None:
        outcome = one_band(723, number, "clean", None, signed=False, maker="fpdf")

        assert outcome.clutter == "stamp"
        assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence

    # A tilted stamp's capitals, run together into word-long marks: the tilt made
    # them taller than print in the band and longer than a letter, and with no
    # frame found beside them (69) or with a frame's sides erased (8, 150) they
    # scored as a pen's strokes (stop 33).
    @pytest.mark.parametrize("number", [8, 69, 150])
    def test_a_tilted_stamp_s_lettering_is_not_signature_like(self, number: int) -> None:
        outcome = one_band(761, number, "clean", None, signed=False, maker="fpdf")

        assert outcome.clutter == "stamp"
        assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence

    # The band's bottom cut a tilted stamp's frame: its upright sides were left too
    # short to be taken for rules, and with a row of its capitals they scored as a
    # pen's strokes, although a side of the frame was erased beside them (stop 33).
    # Since stop 45 the frame is found whole round the band and blanked.
    @pytest.mark.parametrize("number", [17, 84])
    def test_a_stamp_frame_s_cut_sides_are_not_signature_like(self, number: int) -> None:
        outcome = one_band(781, number, "clean", None, signed=False, maker="fpdf")

        assert (outcome.clutter, outcome.drawn) == ("stamp", "blanked")
        assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence

    # The typed name "Mei-Ling Whitmore-Price" was not blanked as print (a capital
    # after the hyphen): taken in with the name's row, it joined a stamp's frame
    # into one mark that scored as a pen's strokes (stop 33).
    def test_a_hyphenated_typed_name_joined_to_a_stamp_is_not_signature_like(self) -> None:
        outcome = one_band(786, 15, "photo", None, signed=False, maker="fpdf")

        assert outcome.clutter == "stamp"
        assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence

    # A seal the band cut, by its right side (783, 782) or above and below (789): a
    # third of its ring or less was in the band, too little to find it by, and its
    # lettering and arcs scored as a pen's strokes (stop 34). Seals are looked for
    # round the band, out to the page's right edge.
    @pytest.mark.parametrize(
        ("seed", "number", "condition"),
        [(783, 36, "photo"), (783, 158, "photo"), (782, 22, "scan"), (789, 46, "scan")],
    )
    def test_a_seal_the_band_cuts_is_not_signature_like(
        self, seed: int, number: int, condition: str
    ) -> None:
        outcome = one_band(seed, number, condition, None, signed=False, maker="fpdf")

        assert (outcome.clutter, outcome.drawn) == ("seal", "blanked")
        assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence

    # Looked for round the band, a "seal" can be a pen's: a felt tip's loops the band
    # cut (782, 125: in the band's rows alone they passed for a ring inked all round),
    # a loop beside a real seal, taken with it (789, 139), or a felt "D" whole round
    # the band, inked all round, 2.2 line heights in radius (783, 5: written across
    # the typed name, found below it). Each was blanked with the signature in it
    # while the search was being built.
    @pytest.mark.parametrize(
        ("seed", "number", "condition", "clutter"),
        [(782, 125, "scan", "none"), (789, 139, "scan", "seal"), (783, 5, "photo", "none")],
    )
    def test_a_pen_s_loops_round_the_band_are_not_a_seal(
        self, seed: int, number: int, condition: str, clutter: str
    ) -> None:
        outcome = one_band(seed, number, condition, None, signed=True, maker="fpdf")

        assert outcome.clutter == clutter
        assert outcome.level == SignatureLevel.INK.value, outcome.evidence
