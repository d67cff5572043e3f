"""OCR with Tesseract (through pytesseract), as words with boxes grouped in lines.

Tesseract runs single-threaded (OMP_THREAD_LIMIT=1): its OpenMP threads make it
several times slower on a 2-core machine that runs other work too. When the
binary is missing, ``OcrUnavailable`` says so and the pre-screen reports an
``unknown`` item instead of crashing.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import cv2
import numpy as np
import pytesseract

from keyholder.letters.document import Box, Image, Line, Word

# psm 3: automatic page segmentation (letterheads, columns). Inverted-text
# detection is off: letters are dark on light, and it costs ~15% of the time.
TESSERACT_CONFIG = "--oem 1 --psm 3 -c tessedit_do_invert=0"
# A band of a few lines of text, or the block under a signature: one uniform block.
BAND_CONFIG = "--oem 1 --psm 6 -c tessedit_do_invert=0"
BAND_WIDTH = 1000
# Lines with an email address or digits that read with less confidence than this
# are read again on their own, enlarged: small punctuation ("kenji.novak@") is
# where 200 dpi loses most, and these are the items that must be exact.
REREAD_CONFIG = "--oem 1 --psm 7 -c tessedit_do_invert=0"
REREAD_BELOW = 85.0
REREAD_SCALE = 2.0
MAX_REREADS = 8
_WORTH_REREADING = re.compile(r"@|\d")
# Below this mean word confidence a page may be upside down or sideways.
DOUBTFUL_CONFIDENCE = 60.0
_REAL_WORD = re.compile(r"[A-Za-z]{3,}")


class OcrUnavailable(Exception):
    """Tesseract is not installed (or cannot run) on this machine."""


def tesseract_available() -> bool:
    command = pytesseract.pytesseract.tesseract_cmd
    return shutil.which(command) is not None


@contextmanager
def _single_threaded() -> Iterator[None]:
    previous = os.environ.get("OMP_THREAD_LIMIT")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["OMP_THREAD_LIMIT"]
        else:
            os.environ["OMP_THREAD_LIMIT"] = previous


def read_words(
    grey: Image, page_number: int, *, timeout: float = 0, config: str = TESSERACT_CONFIG
) -> list[Line]:
    """Lines of words Tesseract reads on ``grey``, boxes in its pixel coordinates."""
    if not tesseract_available():
        raise OcrUnavailable("Tesseract is not installed")
    with _single_threaded():
        try:
            data = pytesseract.image_to_data(
                grey, config=config, output_type=pytesseract.Output.DICT,
                timeout=timeout,
            )  # fmt: skip
        except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError) as exc:
            raise OcrUnavailable(f"Tesseract failed: {exc}") from exc
        except RuntimeError as exc:  # pytesseract's way of saying it killed a slow Tesseract
            raise OcrUnavailable(f"Tesseract did not finish within {timeout:g} s") from exc
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for i, raw in enumerate(data["text"]):
        text = raw.strip()
        confidence = float(data["conf"][i])
        if not text or confidence < 0:
            continue
        box = Box(page_number, data["left"][i], data["top"][i], data["width"][i], data["height"][i])
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append(Word(text, box, confidence))
    ordered = [Line(tuple(words)) for words in lines.values()]
    return sorted(ordered, key=lambda line: (line.box.y, line.box.x))


def reread_doubtful_lines(
    grey: Image, lines: list[Line], page_number: int, *, timeout: float = 0
) -> list[Line]:
    """``lines`` with each doubtful line holding an address or number read again,
    enlarged, when that reads with more confidence."""
    budget = MAX_REREADS
    result = []
    for line in lines:
        if budget and line.confidence < REREAD_BELOW and _WORTH_REREADING.search(line.text):
            budget -= 1
            again = _reread(grey, line, page_number, timeout)
            if again is not None and _mean_confidence(again) > _mean_confidence(line):
                result.append(again)
                continue
        result.append(line)
    return result


def _reread(grey: Image, line: Line, page_number: int, timeout: float) -> Line | None:
    box = line.box
    pad = max(4, box.height // 3)
    region = Box(page_number, box.x - pad, box.y - pad, box.width + 2 * pad, box.height + 2 * pad)
    lines = read_region(grey, region, config=REREAD_CONFIG, scale=REREAD_SCALE, timeout=timeout)
    words = tuple(word for again in lines for word in again.words)
    return Line(words) if words else None


def read_region(
    grey: Image, region: Box, *, config: str, scale: float = 1.0, timeout: float = 0
) -> list[Line]:
    """Lines read in ``region`` of the page (optionally enlarged), boxes in page pixels."""
    x0, y0 = max(0, region.x), max(0, region.y)
    x1, y1 = min(grey.shape[1], region.right), min(grey.shape[0], region.bottom)
    crop = grey[y0:y1, x0:x1]
    if crop.size == 0:
        return []
    if scale != 1.0:
        crop = np.asarray(
            cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC),
            dtype=np.uint8,
        )
    lines = read_words(crop, region.page, timeout=timeout, config=config)

    def placed(word: Word) -> Word:
        b = word.box
        box = Box(
            region.page, x0 + round(b.x / scale), y0 + round(b.y / scale),
            round(b.width / scale), round(b.height / scale),
        )  # fmt: skip
        return Word(word.text, box, word.confidence)

    return [Line(tuple(placed(w) for w in line.words)) for line in lines]


def _mean_confidence(line: Line) -> float:
    return float(np.mean([w.confidence for w in line.words]))


def reading_quality(lines: list[Line], *, minimum_words: int = 5) -> float:
    """Mean confidence of word-like words (0 when there are too few)."""
    scores = [w.confidence for line in lines for w in line.words if _REAL_WORD.search(w.text)]
    return float(np.mean(scores)) if len(scores) >= minimum_words else 0.0


def best_quarter_turns(page: Image, *, candidates: tuple[int, ...], timeout: float = 0) -> int:
    """How many quarter turns (counter-clockwise, as ``np.rot90``) make ``page`` read best.

    Reads the densest band of text (a few lines) in each candidate orientation
    and compares confidence: a fraction of a second per orientation, where
    Tesseract's own orientation detection takes several seconds on a page.
    """
    scores = {}
    for turns in candidates:
        band = _densest_text_band(np.rot90(page, turns))
        if band is None:
            return 0
        lines = read_words(band, 1, timeout=timeout, config=BAND_CONFIG)
        scores[turns] = reading_quality(lines, minimum_words=3)
    best = max(scores, key=lambda turns: scores[turns])
    # Stay put unless another way round reads clearly better.
    return best if scores[best] > scores.get(0, 0.0) + 10 else 0


def _densest_text_band(page: Image) -> Image | None:
    dark = page < 128
    rows = dark.sum(axis=1).astype(np.float64)
    if rows.sum() == 0:
        return None
    height = min(page.shape[0], max(120, page.shape[0] // 12))  # three or four lines
    top = int(np.argmax(np.convolve(rows, np.ones(height), mode="valid")))
    band = dark[top : top + height]
    inked = np.flatnonzero(band.any(axis=0))
    left = int(inked[0]) if len(inked) else 0
    width = min(page.shape[1] - left, BAND_WIDTH)
    return np.ascontiguousarray(page[top : top + height, left : left + width])
