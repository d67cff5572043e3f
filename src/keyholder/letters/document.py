"""What the pre-screen reads: pages, words with their boxes, lines of words."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]  # RGB (height, width, 3) or grey (height, width)


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle on one page, in pixels of that page's image (origin top left)."""

    page: int  # 1-based
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    def union(self, other: Box) -> Box:
        x, y = min(self.x, other.x), min(self.y, other.y)
        right, bottom = max(self.right, other.right), max(self.bottom, other.bottom)
        return Box(self.page, x, y, right - x, bottom - y)

    def as_json(self) -> dict[str, int]:
        return {"page": self.page, "x": self.x, "y": self.y, "w": self.width, "h": self.height}


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    box: Box
    confidence: float  # 0-100; 100 for words from a PDF's text layer


@dataclass(frozen=True, slots=True)
class Line:
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    @property
    def box(self) -> Box:
        box = self.words[0].box
        for word in self.words[1:]:
            box = box.union(word.box)
        return box

    @property
    def confidence(self) -> float:
        return min(word.confidence for word in self.words)


class TextSource(StrEnum):
    TEXT_LAYER = "text-layer"  # a PDF page with its own text: no OCR needed
    OCR = "ocr"
    NONE = "none"  # OCR unavailable or failed


@dataclass
class Page:
    """One page as loaded (and, for scans and photos, cleaned up) and read."""

    number: int
    image: Image  # RGB, what boxes refer to
    source_kind: str  # "pdf" or "image"
    text_source: TextSource = TextSource.NONE
    lines: list[Line] = field(default_factory=list)
    # PDF only: boxes of embedded images (a pasted signature shows up here).
    image_boxes: list[Box] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what clean-up did, for the report

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


def group_into_lines(words: list[Word]) -> list[Line]:
    """Words in reading order, grouped into lines by vertical overlap.

    Used for the text layer of PDFs (OCR gives its own lines). Words are sorted
    top to bottom; a word joins the current line when its vertical middle lies
    within that line's band.
    """
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.box.y + w.box.height / 2, w.box.x)):
        middle = word.box.y + word.box.height / 2
        if lines:
            current = lines[-1]
            top = min(w.box.y for w in current)
            bottom = max(w.box.bottom for w in current)
            if top <= middle <= bottom:
                current.append(word)
                continue
        lines.append([word])
    return [Line(tuple(sorted(line, key=lambda w: w.box.x))) for line in lines]
