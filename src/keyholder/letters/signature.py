"""Is there handwriting where the signature belongs? Presence, never authenticity.

The signature band lies between the closing ("Sincerely,") and the typed name
under it. In that band printed words (OCR'd with confidence, or the PDF's text
layer) and ruled lines are removed; the ink left is measured: handwriting
leaves wide, tall, connected strokes, while an empty band leaves specks.
Thresholds were calibrated on generated letters with a seed the tests and the
benchmark's evaluation do not use (benchmarks/letters.py --calibrate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

from keyholder.letters.clean import even_out_lighting
from keyholder.letters.document import Box, Image, Page, TextSource
from keyholder.letters.fields import LetterFields

# Ink darker than this (0-255, lighting evened out) counts; paper is ~255.
INK_LEVEL = 150
# Thresholds on the ink score (see ``_score``). Calibration seed 7 of
# benchmarks/letters.py (100 letters, five conditions): unsigned bands scored at
# most 0.32, signed ones at least 1.69; "signature-like" starts near the
# geometric middle of that gap, "uncertain" just above the unsigned maximum.
SIGNATURE_SCORE = 0.75
UNCERTAIN_SCORE = 0.4
# Printed words as OCR reads them: lower or Title Case, "/s/", or a number.
# Scribbles come out as short capitals ("WAN") or punctuation, so they stay.
_PRINTED_WORD = re.compile(r"^(?:[A-Z]?[a-z][a-z'.,-]+|[/|]s[/|]|[0-9][0-9.,/-]*)$")
PRINTED_CONFIDENCE = 80.0

PRESENCE_NOTE = (
    "This detects whether handwriting-like ink is present where the signature "
    "belongs. It does not verify who signed: it is not a check of authenticity."
)


class SignatureLevel(StrEnum):
    INK = "signature-like ink"
    UNCERTAIN = "uncertain"
    NONE = "no handwriting"


@dataclass
class SignatureFinding:
    level: SignatureLevel | None  # None: no band found, nothing measured
    score: float = 0.0
    band: Box | None = None
    ink_box: Box | None = None
    flags: list[str] = field(default_factory=list)
    evidence: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "level": self.level.value if self.level else None,
            "score": round(self.score, 3),
            "band": self.band.as_json() if self.band else None,
            "ink_box": self.ink_box.as_json() if self.ink_box else None,
            "flags": self.flags,
            "evidence": self.evidence,
            "note": PRESENCE_NOTE,
        }


def find_signature(pages: list[Page], fields: LetterFields) -> SignatureFinding:
    anchor = fields.closing or fields.name_line
    if anchor is None:
        return SignatureFinding(
            None, evidence="no closing line or typed name found: the signature band is unknown"
        )
    page = pages[anchor.box.page - 1]
    line_height = _line_height(page)
    band = _band(page, fields, line_height)
    finding = _measure_ink(page, band, line_height, fields)
    if fields.typed_signature is not None and not finding.flags:
        # Usually reported already as typed text in the band; said once.
        finding.flags.append(f"typed signature {fields.typed_signature.text!r}")
    return finding


def _line_height(page: Page) -> int:
    heights = [w.box.height for line in page.lines for w in line.words if w.text.isalpha()]
    return int(np.median(heights)) if heights else max(20, page.height // 80)


def _band(page: Page, fields: LetterFields, line_height: int) -> Box:
    closing, name = fields.closing, fields.name_line
    if name is not None and closing is not None and name.box.page != closing.box.page:
        name = None  # the name went onto the next page: use a fixed-height band
    top = closing.box.bottom + line_height // 4 if closing else None
    bottom = name.box.y - line_height // 6 if name else None
    if top is None:
        assert bottom is not None
        top = max(0, bottom - 5 * line_height)
    if bottom is None or bottom - top < line_height:
        bottom = min(page.height, top + 5 * line_height)
    anchors = [line.box.x for line in (closing, name) if line is not None]
    left = max(0, min(anchors) - 2 * line_height)
    right = min(page.width, left + int(page.width * 0.6))
    return Box(page.number, left, top, right - left, bottom - top)


def _measure_ink(page: Page, band: Box, line_height: int, fields: LetterFields) -> SignatureFinding:
    crop = page.image[band.y : band.bottom, band.x : band.right]
    if crop.size == 0:
        return SignatureFinding(None, band=band, evidence="the signature band is empty")
    grey = even_out_lighting(np.asarray(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), dtype=np.uint8))
    ink = (cv2.medianBlur(grey, 3) < INK_LEVEL).astype(np.uint8)
    flags: list[str] = []
    typed = _mask_printed_words(page, band, ink, fields)
    if typed:
        flags.append(f"typed text where the signature belongs: {' '.join(typed)!r}")
    if page.text_source is TextSource.TEXT_LAYER and any(
        _overlaps(box, band) and box.width * box.height < 0.5 * page.width * page.height
        for box in page.image_boxes
    ):  # a small image in a text PDF; a scanned PDF is one page-sized image
        flags.append("the signature is an image pasted into the PDF")
    # Ruled lines ("signature: ______") are not handwriting.
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(15, 3 * line_height), 1))
    ink = np.asarray(cv2.subtract(ink, cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    min_area = max(6, (line_height * line_height) // 60)
    kept = [s for s in stats[1:count] if s[cv2.CC_STAT_AREA] >= min_area]
    if not kept:
        return SignatureFinding(
            SignatureLevel.NONE, 0.0, band, None, flags, "no ink between the closing and the name"
        )
    left = min(s[cv2.CC_STAT_LEFT] for s in kept)
    top = min(s[cv2.CC_STAT_TOP] for s in kept)
    right = max(s[cv2.CC_STAT_LEFT] + s[cv2.CC_STAT_WIDTH] for s in kept)
    bottom = max(s[cv2.CC_STAT_TOP] + s[cv2.CC_STAT_HEIGHT] for s in kept)
    ink_pixels = int(sum(s[cv2.CC_STAT_AREA] for s in kept))
    largest = max(s[cv2.CC_STAT_WIDTH] for s in kept)
    score = _score(ink_pixels, right - left, bottom - top, largest, line_height)
    ink_box = Box(
        band.page, band.x + int(left), band.y + int(top), int(right - left), int(bottom - top)
    )
    level = (
        SignatureLevel.INK
        if score >= SIGNATURE_SCORE
        else SignatureLevel.UNCERTAIN
        if score >= UNCERTAIN_SCORE
        else SignatureLevel.NONE
    )
    colour = _ink_colour(crop, ink)
    evidence = (
        f"{ink_pixels} ink pixels in {len(kept)} strokes spanning "
        f"{(right - left) / line_height:.1f} x {(bottom - top) / line_height:.1f} line heights"
        + (f", {colour} ink" if colour else "")
    )
    return SignatureFinding(level, score, band, ink_box, flags, evidence)


def _score(ink_pixels: int, width: int, height: int, largest: int, line_height: int) -> float:
    """Roughly 1 for a small handwritten signature, more for bigger ones, ~0 for specks.

    Three things must all be there: enough ink (a line height squared is a few
    letters' worth), a spread at least a few letters wide, and one stroke that
    is long on its own (noise and dust are many short specks).
    """
    amount = ink_pixels / (1.5 * line_height * line_height)
    spread = width / (4 * line_height)
    stroke = largest / (1.5 * line_height)
    tall = height / (0.8 * line_height)
    product = min(amount, 3.0) * min(spread, 2.0) * min(stroke, 2.0) * min(tall, 1.5)
    return float(product**0.5)


def _mask_printed_words(page: Page, band: Box, ink: np.ndarray, fields: LetterFields) -> list[str]:
    """Blank the printed words in the band; return those that are not the closing or name."""
    skip = {id(line) for line in (fields.closing, fields.name_line) if line is not None}
    typed: list[str] = []
    for line in page.lines:
        for word in line.words:
            if not _overlaps(word.box, band):
                continue
            trusted = page.text_source is TextSource.TEXT_LAYER or (
                word.confidence >= PRINTED_CONFIDENCE and _PRINTED_WORD.match(word.text)
            )
            if not trusted:
                continue
            x0, y0 = max(0, word.box.x - band.x - 2), max(0, word.box.y - band.y - 2)
            x1, y1 = word.box.right - band.x + 2, word.box.bottom - band.y + 2
            ink[y0:y1, x0:x1] = 0
            if id(line) not in skip and _inside(word.box, band):
                typed.append(word.text)
    return typed


def _overlaps(a: Box, b: Box) -> bool:
    return (
        a.page == b.page and a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom
    )


def _inside(a: Box, b: Box) -> bool:
    middle_y = a.y + a.height / 2
    return b.y <= middle_y <= b.bottom


def _ink_colour(crop: Image, ink: np.ndarray) -> str | None:
    pixels = crop[ink.astype(bool)]
    if len(pixels) < 50:
        return None
    hsv = cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_RGB2HSV).reshape(-1, 3)
    saturated = hsv[hsv[:, 1] > 80]
    if len(saturated) < 0.4 * len(hsv):
        return None
    hue = float(np.median(saturated[:, 0]))  # OpenCV hue: 0-180
    return "blue" if 95 <= hue <= 135 else "coloured"
