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
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytesseract

from keyholder.letters.clean import row_runs
from keyholder.letters.document import Box, Image, Line, Word

# psm 3: automatic page segmentation (letterheads, columns). Inverted-text
# detection is off: letters are dark on light, and it costs ~15% of the time.
TESSERACT_CONFIG = "--oem 1 --psm 3 -c tessedit_do_invert=0"
# A band of a few lines of text, or the block under a signature: one uniform block.
BAND_CONFIG = "--oem 1 --psm 6 -c tessedit_do_invert=0"
BAND_WIDTH = 1000
# Orientation is judged on the TEXT_BANDS densest bands of text each way round,
# ink in solid blocks thicker than SOLID_INK pixels (a sidebar, a logo) not counted.
TEXT_BANDS = 2
SOLID_INK = 15
# Lines with an email address or digits that read with less confidence than this
# are read again on their own, enlarged: small punctuation ("kenji.novak@") is
# where 200 dpi loses most, and these are the items that must be exact.
REREAD_CONFIG = "--oem 1 --psm 7 -c tessedit_do_invert=0"
REREAD_BELOW = 85.0
# Re-reads (scale, only the line's own rows), tried in turn until two readings
# agree: the crops Tesseract reads best differ from line to line.
REREADS = ((2.0, True), (2.0, False), (3.0, True))
MAX_REREADS = 8
_WORTH_REREADING = re.compile(r"@|\d")
# A line of a label ("Email address to add", at most FORM_LABEL_WORDS words with
# its leader) ending in this word (a form's dot leader, or its colon) wants its value.
_LEADER_END = re.compile(r"[.:|\u2026]+")
FORM_LABEL_WORDS = 5
# Two lines on one row closer than this (in line heights) are one line that
# Tesseract's layout analysis split; closer than SPLIT_WORD_GAP, one word.
SPLIT_LINE_GAP = 0.6
SPLIT_WORD_GAP = 0.12
# Below this mean word confidence a page may be upside down or sideways.
DOUBTFUL_CONFIDENCE = 60.0
_REAL_WORD = re.compile(r"[A-Za-z]{3,}")
# White (the page's own edge, repeated) added round an image Tesseract crashed on.
CRASH_MARGIN = 8


class OcrUnavailable(Exception):
    """Tesseract is not installed (or cannot run) on this machine."""


class OcrFailed(OcrUnavailable):
    """Tesseract ran and crashed on this image, twice (see ``read_words``)."""


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
    try:
        data, margin = _image_to_data(grey, config, timeout), 0
    except pytesseract.TesseractError as exc:
        # Tesseract can crash on one image (a floating-point exception, "(-8, '')",
        # on a photocopied page): the same page with a white margin is another
        # image to its layout analysis, and read again once.
        margin = CRASH_MARGIN
        padded = cv2.copyMakeBorder(grey, margin, margin, margin, margin, cv2.BORDER_REPLICATE)
        try:
            data = _image_to_data(np.asarray(padded, dtype=np.uint8), config, timeout)
        except pytesseract.TesseractError:
            raise OcrFailed(f"Tesseract failed: {exc}") from exc
    return lines_by_image(data, [Placement(page_number, -margin, -margin)])[0]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an image Tesseract read lies on a page: the page, the image's top left
    corner, and how much it was enlarged (boxes map back as ``x0 + x / scale``)."""

    page: int
    x0: int
    y0: int
    scale: float = 1.0

    def box(self, left: int, top: int, width: int, height: int) -> Box:
        s = self.scale
        return Box(self.page, self.x0 + round(left / s), self.y0 + round(top / s),
                   round(width / s), round(height / s))  # fmt: skip


def lines_by_image(data: dict[str, list[Any]], placements: list[Placement]) -> list[list[Line]]:
    """Tesseract's words (``image_to_data``) as lines for each image it read, in
    page coordinates: the words of its n-th image (``page_num`` n) go to the
    n-th list, placed by ``placements[n - 1]``; lines in reading order."""
    grouped: list[dict[tuple[int, int, int], list[Word]]] = [{} for _ in placements]
    pages = data.get("page_num") or [1] * len(data["text"])
    for i, raw in enumerate(data["text"]):
        text = raw.strip()
        confidence = float(data["conf"][i])
        image = int(pages[i]) - 1
        if not text or confidence < 0 or not 0 <= image < len(placements):
            continue
        box = placements[image].box(
            data["left"][i], data["top"][i], data["width"][i], data["height"][i]
        )
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        grouped[image].setdefault(key, []).append(Word(text, box, confidence))
    result = []
    for lines in grouped:
        ordered = [Line(tuple(words)) for words in lines.values()]
        result.append(
            join_form_rows(
                join_split_lines(sorted(ordered, key=lambda line: (line.box.y, line.box.x)))
            )
        )
    return result


def _image_to_data(grey: Image | str, config: str, timeout: float) -> dict[str, list[Any]]:
    """Tesseract's words and boxes; raises ``pytesseract.TesseractError`` when it crashes."""
    with _single_threaded():
        try:
            data: dict[str, list[Any]] = pytesseract.image_to_data(
                grey, config=config, output_type=pytesseract.Output.DICT, timeout=timeout
            )
        except pytesseract.TesseractNotFoundError as exc:
            raise OcrUnavailable(f"Tesseract failed: {exc}") from exc
        except pytesseract.TesseractError:  # a RuntimeError too: the caller reads again
            raise
        except RuntimeError as exc:  # pytesseract's way of saying it killed a slow Tesseract
            raise OcrUnavailable(f"Tesseract did not finish within {timeout:g} s") from exc
    return data


def join_split_lines(lines: list[Line]) -> list[Line]:
    """Lines Tesseract put in two blocks though they touch on one row are one line
    ("Si" | "ncerely,"); a word cut in two with no gap between is one word."""
    joined: list[Line] = []
    for line in lines:
        previous = joined[-1] if joined else None
        if previous is None:
            joined.append(line)
            continue
        a, b = previous.box, line.box
        height = max(a.height, b.height)
        overlap = min(a.bottom, b.bottom) - max(a.y, b.y)
        gap = b.x - a.right
        if overlap < 0.5 * min(a.height, b.height) or not -2 <= gap <= SPLIT_LINE_GAP * height:
            joined.append(line)
            continue
        words = list(previous.words)
        first, *rest = line.words
        if gap <= SPLIT_WORD_GAP * height:
            last = words.pop()
            first = Word(
                last.text + first.text, last.box.union(first.box),
                min(last.confidence, first.confidence),
            )  # fmt: skip
        joined[-1] = Line((*words, first, *rest))
    return joined


def join_form_rows(lines: list[Line]) -> list[Line]:
    """A form's row that Tesseract read as two lines far apart, the label with its
    dot leader ("Company account ...") and the value right of it on the same row
    (read a pixel or two higher, it can come first), is one line."""
    rows = list(lines)
    for label in lines:
        words = label.words
        if (
            label not in rows
            or not 2 <= len(words) <= FORM_LABEL_WORDS
            or not _LEADER_END.fullmatch(words[-1].text)
            or not any(c.isalpha() for c in label.text)
        ):
            continue
        a = label.box
        beside = [
            line
            for line in rows
            if line is not label
            and line.box.page == a.page
            and line.box.x >= a.right - 2
            and min(a.bottom, line.box.bottom) - max(a.y, line.box.y)
            >= 0.5 * min(a.height, line.box.height)
        ]
        if beside:
            value = min(beside, key=lambda line: line.box.x)
            rows.remove(value)
            rows[rows.index(label)] = Line((*label.words, *value.words))
    return sorted(rows, key=lambda line: (line.box.y, line.box.x))


def reread_doubtful_lines(
    grey: Image, lines: list[Line], page_number: int, *, timeout: float = 0
) -> list[Line]:
    """``lines`` with each doubtful line holding an address or number read again,
    enlarged, when that reads with more confidence.

    A re-read that disagrees with the first reading is not taken on confidence
    alone (Tesseract can be surer of a wrong "inittech"): the line is read up
    to three ways (``REREADS``) until two readings agree, and ``best_reading``
    chooses among them. All of it is one Tesseract run (``read_crops``), where a
    run for each line and way cost about half the page's time.
    """
    doubtful = [
        n
        for n, line in enumerate(lines)
        if line.confidence < REREAD_BELOW and _WORTH_REREADING.search(line.text)
    ][:MAX_REREADS]
    if not doubtful:
        return lines
    # Every way of every doubtful line is read in the one run (reading a crop
    # costs far less than a run); the ways are then taken in turn as if each
    # were read only when the earlier ones disagreed, as before batching.
    crops = [
        crop_region(grey, _reread_region(lines[n], page_number), scale=scale, one_line=one_line)
        for scale, one_line in REREADS
        for n in doubtful
    ]
    try:
        read = read_crops(crops, config=REREAD_CONFIG, timeout=timeout)
    except OcrFailed:  # the first reading stands
        return lines
    readings = {n: [lines[n]] for n in doubtful}
    for way in range(len(REREADS)):
        for k, n in enumerate(doubtful):
            if len({_letters_of(r) for r in readings[n]}) < len(readings[n]):
                continue  # two readings agree already
            words = tuple(word for line in read[way * len(doubtful) + k] for word in line.words)
            # The same crop read twice (nothing to trim) is one reading, not two agreeing.
            if words and Line(words) not in readings[n]:
                readings[n].append(Line(words))
    return [best_reading(readings[n]) if n in readings else line for n, line in enumerate(lines)]


def best_reading(readings: list[Line]) -> Line:
    """Of the readings two or more agree on (spaces aside), the one in fewest
    words (OCR splits "globex" more often than it joins words), then the surest;
    with no agreement, the surest."""
    texts = [_letters_of(r) for r in readings]
    agreed = [r for r, text in zip(readings, texts, strict=True) if texts.count(text) > 1]
    if not agreed:
        return max(readings, key=_mean_confidence)
    return min(agreed, key=lambda r: (len(r.words), -_mean_confidence(r)))


def _letters_of(line: Line) -> str:
    return line.text.replace(" ", "")


def _reread_region(line: Line, page_number: int) -> Box:
    box = line.box
    pad = max(4, box.height // 3)
    return Box(page_number, box.x - pad, box.y - pad, box.width + 2 * pad, box.height + 2 * pad)


def read_region(
    grey: Image,
    region: Box,
    *,
    config: str,
    scale: float = 1.0,
    timeout: float = 0,
    one_line: bool = False,
) -> list[Line]:
    """Lines read in ``region`` of the page (optionally enlarged), boxes in page pixels.

    ``one_line``: only the region's most inked run of rows is read (see ``text_line_rows``).
    """
    crop = crop_region(grey, region, scale=scale, one_line=one_line)
    return [] if crop is None else _read_crop(crop, config, timeout)


def read_regions(
    grey: Image,
    regions: list[Box],
    *,
    config: str,
    scale: float = 1.0,
    timeout: float = 0,
    one_line: bool = False,
) -> list[list[Line]]:
    """Each of ``regions`` read as ``read_region`` reads it, all in one Tesseract run."""
    crops = [crop_region(grey, r, scale=scale, one_line=one_line) for r in regions]
    return read_crops(crops, config=config, timeout=timeout)


@dataclass(frozen=True, slots=True)
class Crop:
    """A part of a page made ready for Tesseract, and where it lies on the page."""

    image: Image
    placement: Placement


def crop_region(
    grey: Image, region: Box, *, scale: float = 1.0, one_line: bool = False
) -> Crop | None:
    """The part of ``grey`` in ``region`` (its most inked rows when ``one_line``),
    enlarged by ``scale``; None when the region is off the page."""
    x0, y0 = max(0, region.x), max(0, region.y)
    x1, y1 = min(grey.shape[1], region.right), min(grey.shape[0], region.bottom)
    crop = grey[y0:y1, x0:x1]
    if crop.size == 0:
        return None
    if one_line:
        top, bottom = text_line_rows(crop)
        crop, y0 = crop[top:bottom], y0 + top
    if scale != 1.0:
        crop = np.asarray(
            cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC),
            dtype=np.uint8,
        )
    return Crop(np.ascontiguousarray(crop), Placement(region.page, x0, y0, scale))


def read_crops(crops: list[Crop | None], *, config: str, timeout: float = 0) -> list[list[Line]]:
    """The lines read on each crop (none for None), boxes in page pixels, in one
    Tesseract run.

    Starting Tesseract and loading its model costs more than reading a line
    (about 0.15 s of CPU a run, against a few hundredths for the line): the
    crops are written as separate images and handed to Tesseract as a list (its
    ``page_num`` says which crop a word is on), so each crop is still read
    alone, with the same page segmentation as on its own, and its words cannot
    stray into a neighbour's. When Tesseract crashes on the run, each crop is
    read on its own (with ``read_words``' retry).
    """
    present = [(n, crop) for n, crop in enumerate(crops) if crop is not None]
    result: list[list[Line]] = [[] for _ in crops]
    if len(present) == 1:
        n, crop = present[0]
        result[n] = _read_crop(crop, config, timeout)
    elif present:
        if not tesseract_available():
            raise OcrUnavailable("Tesseract is not installed")
        try:
            data = _images_to_data([crop.image for _, crop in present], config, timeout)
        except pytesseract.TesseractError:
            for n, crop in present:
                result[n] = _read_crop(crop, config, timeout)
            return result
        read = lines_by_image(data, [crop.placement for _, crop in present])
        for (n, _), lines in zip(present, read, strict=True):
            result[n] = lines
    return result


def _read_crop(crop: Crop, config: str, timeout: float) -> list[Line]:
    lines = read_words(crop.image, crop.placement.page, timeout=timeout, config=config)
    return [Line(tuple(_placed(word, crop.placement) for word in line.words)) for line in lines]


def _placed(word: Word, placement: Placement) -> Word:
    """A word read on a crop (in the crop's pixels) placed on the page."""
    b = word.box
    return Word(word.text, placement.box(b.x, b.y, b.width, b.height), word.confidence)


def _images_to_data(images: list[Image], config: str, timeout: float) -> dict[str, list[Any]]:
    """Tesseract's words and boxes on several images, read in one run: Tesseract
    takes a text file listing image files for a multi-page input."""
    with tempfile.TemporaryDirectory(prefix="keyholder-ocr-") as folder:
        names = []
        for n, image in enumerate(images):
            name = str(Path(folder) / f"crop-{n:03d}.png")
            if not cv2.imwrite(name, image, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
                raise OcrFailed(f"could not write a crop for Tesseract ({image.shape})")
            names.append(name)
        listing = Path(folder) / "crops.txt"
        listing.write_text("\n".join(names) + "\n", encoding="utf-8")
        return _image_to_data(str(listing), config, timeout)


def text_line_rows(grey: Image) -> tuple[int, int]:
    """The most inked run of rows in ``grey`` (top, bottom), with a margin.

    Tesseract's box for a line on a tilted or curved page can take in the top
    of the next line; read again with it, the two make garbage.
    """
    _, ink = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    rows = ink.sum(axis=1)
    runs = row_runs(rows > max(2, grey.shape[1] // 200), gap=2)
    if len(runs) < 2:
        return 0, grey.shape[0]
    top, bottom = max(runs, key=lambda run: int(rows[run[0] : run[1]].sum()))
    margin = max(3, (bottom - top) // 4)
    return max(0, top - margin), min(grey.shape[0], bottom + margin)


def _mean_confidence(line: Line) -> float:
    return float(np.mean([w.confidence for w in line.words]))


def reading_quality(lines: list[Line], *, minimum_words: int = 5) -> float:
    """Mean confidence of word-like words (0 when there are too few)."""
    scores = [w.confidence for line in lines for w in line.words if _REAL_WORD.search(w.text)]
    return float(np.mean(scores)) if len(scores) >= minimum_words else 0.0


def best_quarter_turns(
    page: Image, *, candidates: tuple[int, ...], timeout: float = 0, stay: int = 0
) -> int:
    """How many quarter turns (counter-clockwise, as ``np.rot90``) make ``page`` read best.

    Reads the densest band of text (a few lines) in each candidate orientation
    and compares confidence: a fraction of a second per orientation, where
    Tesseract's own orientation detection takes several seconds on a page.
    """
    bands = [_densest_text_bands(np.rot90(page, turns)) for turns in candidates]
    if any(not found for found in bands):
        return stay
    # Every band of every way round in one Tesseract run (each band read alone).
    crops: list[Crop | None] = [Crop(band, Placement(1, 0, 0)) for found in bands for band in found]
    read = iter(read_crops(crops, config=BAND_CONFIG, timeout=timeout))
    scores = {
        turns: max(reading_quality(next(read), minimum_words=3) for _ in found)
        for turns, found in zip(candidates, bands, strict=True)
    }
    best = max(scores, key=lambda turns: scores[turns])
    # Stay put (``stay``) unless another way round reads clearly better.
    return best if scores[best] > scores.get(stay, 0.0) + 10 else stay


def _densest_text_bands(page: Image) -> list[Image]:
    """The TEXT_BANDS densest bands of a few rows of ink, apart, solid blocks left
    out: a letterhead's dark sidebar or a bold heading of two words was the densest
    band, unreadable every way round, and a phone photo stayed sideways (issue 14)."""
    dark = (page < 128).astype(np.uint8)
    solid = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((SOLID_INK, SOLID_INK), np.uint8))
    text = np.asarray(cv2.subtract(dark, cv2.dilate(solid, np.ones((5, 5), np.uint8))))
    rows = text.sum(axis=1).astype(np.float64)
    height = min(page.shape[0], max(120, page.shape[0] // 12))  # three or four lines
    bands = []
    for _ in range(TEXT_BANDS):
        if rows.sum() == 0:
            break
        top = int(np.argmax(np.convolve(rows, np.ones(height), mode="valid")))
        rows[max(0, top - height // 2) : top + height + height // 2] = 0
        inked = np.flatnonzero(text[top : top + height].any(axis=0))
        left = int(inked[0]) if len(inked) else 0
        width = min(page.shape[1] - left, BAND_WIDTH)
        bands.append(np.ascontiguousarray(page[top : top + height, left : left + width]))
    return bands
