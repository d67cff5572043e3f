"""The typed name's row read alone: the row one line's pitch above the title.

Two cases (issue 14). The first reading lost the name: a signature crossing
it, or OCR reading it into another line ("\\orindceun tnandes" over a clean
"President"). Or it read the name as one line with the signature over it ("Lo
Porpe", five line heights tall, for "Lena O'Donnell"). Read alone, the row is
print with at most a stroke or two through it. The marks those leave as words
of their own ("|", "—") are dropped first, so that the row's first column ends
where the name does (``name_in_row``).
"""

from __future__ import annotations

import re

from keyholder.letters.clean import ocr_ready
from keyholder.letters.document import Box, Image, Line, Page, TextSource, Word
from keyholder.letters.fields import LetterFields
from keyholder.letters.ocr import REREAD_CONFIG, crop_region, read_crops
from keyholder.letters.signature_block import (
    BLOCK_LINES,
    first_column,
    letters_in,
    looks_like_name,
    title_without_name,
    typical_height,
)

OCR_TIMEOUT_SECONDS = 30
# The typed name's row above a title, read alone and enlarged two ways (one run).
NAME_READINGS = ((2.0, False), (3.0, True))
# A typed name is doubtful when read taller than this many line heights (the
# signature read into it) or with a word read under NAME_SURE confidence.
TALL_NAME = 1.6
NAME_SURE = 60.0
_EDGE_MARKS = re.compile(r"^[^\w]+|[^\w.]+$")
# Capitalised words of three letters or more and initials, run together: not
# "McDonald", which is one name.
_GLUED_NAME = r"(?:[A-Z][a-z]{2,}|[A-Z]\.)(?:[A-Z][a-z]{2,}|[A-Z]\.)+"

# Pages made ready for OCR (``ocr_ready``), by page number, within one pre-screen.
Ready = dict[int, Image]


def ready_for_ocr(page: Page, ready: Ready | None) -> Image:
    """``page`` made ready for OCR, once per pre-screen when ``ready`` keeps it."""
    if ready is None:
        return ocr_ready(page.image)
    if page.number not in ready:
        ready[page.number] = ocr_ready(page.image)
    return ready[page.number]


def read_name_above_title(page: Page, closing: Line | None, *, ready: Ready | None = None) -> bool:
    """Read the row one line's pitch above the first title (or address) under
    ``closing`` (or, with none, among the page's last lines) that has no name
    above it; True when it reads as a name (it replaces the lines read across
    that row)."""
    if page.text_source is not TextSource.OCR:
        return False
    if closing is not None:
        below = [line for line in page.lines if line.box.y > closing.box.bottom - 2]
    else:
        # The lines after the body's last sentence (a line ending in a full stop
        # or holding six words or more).
        sentences = [
            n
            for n, line in enumerate(page.lines)
            if line.text.rstrip().endswith((".", ":")) or len(line.words) >= 6
        ]
        below = page.lines[sentences[-1] + 1 if sentences else 0 :][:BLOCK_LINES]
    height = typical_height(page.lines)
    at = title_without_name(below, height)
    if at is None:
        return False
    title = first_column(below[at], height).box
    region = _row_above(page, title, top=closing.box.bottom + 1 if closing else 0)
    if region is None:
        return False
    for name in _name_readings(ready_for_ocr(page, ready), region, height):
        if looks_like_name(name.text):
            page.lines = sorted(
                [
                    line
                    for line in page.lines
                    if not region.y <= line.box.y + line.box.height // 2 < title.y
                ]
                + [name],
                key=lambda line: (line.box.y, line.box.x),
            )
            return True
    return False


def name_doubtful(page: Page, line: Line) -> bool:
    """The typed name read taller than print (ink read into it) or unsurely."""
    height = typical_height(page.lines).get(page.number, float(line.box.height))
    return line.box.height > TALL_NAME * height or any(w.confidence < NAME_SURE for w in line.words)


def name_sureness(line: Line | None, height: float) -> float:
    """How surely the typed name was read: its least sure word; a line taller than
    print (ink read into it) less than any other."""
    if line is None or not line.words:
        return -2.0
    if line.box.height > TALL_NAME * height:
        return -1.0
    return min(w.confidence for w in line.words)


def reread_tall_name(
    pages: list[Page], fields: LetterFields, *, ready: Ready | None = None
) -> bool:
    """Read the typed name's row alone when the name was read as a line taller than
    print (the signature read into it) over a title; True when a reading that
    looks like a name, its words read more surely than the first reading's,
    replaced the name's line."""
    line, title = fields.name_line, fields.executive_title
    if line is None or title is None or title.box is None or fields.executive_name is None:
        return False
    page = pages[line.box.page - 1]
    height = typical_height(page.lines)
    typical = height.get(page.number, float(line.box.height))
    # Only a line read taller than print: a word read unsurely in a line of print
    # reads no better alone ("Schäfer" read "Schafer" at 0%, then "Schafér" at 66%).
    if page.text_source is not TextSource.OCR or line.box.height <= TALL_NAME * typical:
        return False
    was = min((w.confidence for w in line.words if letters_in(w.text)), default=-1.0)
    top = fields.closing.box.bottom + 1 if fields.closing else line.box.y - line.box.height
    region = _row_above(page, title.box, top=max(0, top))
    if region is None:
        return False
    readings = [
        name
        for name in _name_readings(ready_for_ocr(page, ready), region, height)
        if looks_like_name(name.text)
    ]
    best = max(readings, key=lambda name: name_sureness(name, typical), default=None)
    if best is None or name_sureness(best, typical) <= was:
        return False
    page.lines = sorted(
        [other for other in page.lines if other is not line] + [best],
        key=lambda other: (other.box.y, other.box.x),
    )
    return True


def _row_above(page: Page, title: Box, *, top: int) -> Box | None:
    """The row one line's pitch above ``title`` (the pitch from the title to the
    line under it, or one and a half of the title's height), from the page's
    left of the title to its middle; None when ``top`` leaves no row."""
    after = [line.box.y for line in page.lines if line.box.y > title.bottom]
    pitch = min(min(after) - title.y, 2 * title.height) if after else title.height * 3 // 2
    pitch = max(pitch, title.height)
    top = max(top, title.y - pitch - pitch // 4)
    region = Box(page.number, title.x - pitch, top, page.width // 2 + pitch, title.y - 1 - top)
    return region if region.height >= title.height // 2 else None


def _name_readings(grey: Image, region: Box, height: dict[int, float]) -> list[Line]:
    """The row in ``region`` read each way of ``NAME_READINGS`` (one Tesseract run),
    each reading as ``name_in_row`` takes it."""
    crops = [
        crop_region(grey, region, scale=scale, one_line=one_line)
        for scale, one_line in NAME_READINGS
    ]
    names = []
    for lines in read_crops(crops, config=REREAD_CONFIG, timeout=OCR_TIMEOUT_SECONDS):
        name = name_in_row(tuple(word for line in lines for word in line.words), height)
        if name is not None:
            names.append(name)
    return names


def name_in_row(words: tuple[Word, ...], height: dict[int, float]) -> Line | None:
    """The name in a row read alone: its words tidied (``tidy_name``) before its
    first column is taken, so that the marks a stroke left between the name and
    the stroke's end ("Lena O'Donnell | — “eA") do not join them into one."""
    tidied = tidy_name(Line(words)) if words else None
    return _before_the_stroke(first_column(tidied, height)) if tidied is not None else None


def _before_the_stroke(line: Line) -> Line:
    """A row that does not read as a name, cut before its first unsure word after
    which what is left does (the signature's stroke read on from the name's end:
    "Mei-Ling C. Al-Mansouri S XEN i J", the "S" at 29%)."""
    if looks_like_name(line.text):
        return line
    for n in range(2, len(line.words)):
        if line.words[n].confidence < NAME_SURE:
            name = Line(line.words[:n])
            if looks_like_name(name.text):
                return name
    return line


def tidy_name(line: Line) -> Line | None:
    """A name row read alone, without the marks a signature's stroke leaves at
    its words' ends ("“tena", "Sato~") or as words of their own ("|", "—"), and
    a hyphen it drew between the two words of a name read as one
    ("Kwame-Lindholm")."""
    words = [
        Word(_EDGE_MARKS.sub("", w.text), w.box, w.confidence)
        for w in line.words
        if _EDGE_MARKS.sub("", w.text)
    ]
    if len(words) == 1:
        words = _split_glued(words[0])
    return Line(tuple(words)) if words else None


def _split_glued(word: Word) -> list[Word]:
    """A name read as one word, split into its words: a hyphen the stroke drew
    between them ("Kwame-Lindholm"), or the spaces of small bold print lost
    ("CharlotteJ.Mensah"); each part's box its share of the word's."""
    text = word.text
    if re.fullmatch(r"[A-Z][a-z]+-[A-Z][a-z]+", text):
        parts = text.split("-")
    elif re.fullmatch(_GLUED_NAME, text):
        parts = re.findall(r"[A-Z][a-z]+|[A-Z]\.", text)
    else:
        return [word]
    box, at, split = word.box, 0, []
    for part in parts:
        start = box.width * text.index(part, at) // len(text)
        at = text.index(part, at) + len(part)
        end = box.width * at // len(text)
        split.append(Word(part, Box(box.page, box.x + start, box.y, end - start, box.height),
                          word.confidence))  # fmt: skip
    return split
