"""Email addresses read badly from photos and scans: read again, or explained as OCR confusions.

Blur costs small punctuation and thin strokes: "acme.example" comes out as
"acme.cxample" or "acmeexample". When an address the letter states differs
from the one it should be (the form's email to add, an executive contact's
address on record), its line is first read again, enlarged and sharpened. If
that still differs, the reading is compared with the expected address: when
every difference is a known OCR confusion (a lost dot, "c" for "e", "rn" for
"m", "1" for "l", ...) and the words were read with low confidence (or the
only confusions are ones a confident reading makes too: a capital I for an l,
a space for an underscore), the item takes the expected value and keeps what
was read in ``corrected_from``.

This is a security boundary: look-alike domains ("acrne.example",
"acme-corp.example", a Cyrillic letter) are exactly what the checks exist to
catch. So a correction never happens on a PDF's text layer or on a confident
reading, never for a difference that is not a confusion (letters added or
removed, a hyphen), never on non-ASCII text; and the checks never *pass* on a
corrected value (see ``checks``): they say what was read, what it was taken
for and ask the reviewer to confirm by eye.
"""

from __future__ import annotations

import re
from functools import cache

import cv2
import numpy as np

from keyholder.letters.checks import AccountRecords, TypedFields
from keyholder.letters.document import Box, Image, Line, Page, TextSource
from keyholder.letters.found import Found, LetterFields
from keyholder.letters.ocr import OcrUnavailable, read_words, text_line_rows

# Readings at least this confident are taken as they are: a clear "acrne"
# is what the letter says, not a blurred "acme".
CORRECTABLE_BELOW = 90.0
MAX_CONFUSIONS = 2
# (what OCR read, what was printed): shapes that blur or low resolution merge.
CONFUSIONS: tuple[tuple[str, str], ...] = (
    ("c", "e"), ("e", "c"), ("o", "e"), ("rn", "m"), ("m", "rn"), ("ni", "m"), ("in", "m"),
    ("l", "i"), ("i", "l"), ("1", "l"), ("l", "1"), ("1", "i"), ("i", "1"), ("|", "l"),
    ("!", "l"), ("0", "o"), ("o", "0"), ("cl", "d"), ("vv", "w"), ("s", "5"), ("5", "s"),
    ("", "."), (" ", "."), (",", "."), ("_", "."), (" ", ""), ("j", "l"), ("j", "i"),
    ("g", "q"), ("q", "g"), ("o", "b"), (" ", "_"),
)  # fmt: skip
# Confusions that a confident reading makes too: in many typefaces a capital I
# and a small l are the same stroke ("Iisa@" at 91% for "lisa@"), and a thin
# underscore is lost to the line under it, leaving a space.
CONFIDENT_CONFUSIONS = frozenset({"'i' for 'l'", "'l' for 'i'", "'|' for 'l'", "' ' for '_'"})
REREAD_SCALE = 3.0
REREAD_CONFIG = "--oem 1 --psm 7 -c tessedit_do_invert=0"


def explain_by_confusions(read: str, expected: str) -> list[str] | None:
    """The OCR confusions that turn ``expected`` into ``read`` (fewest first), or None.

    Both are compared as they are (lower case); an exact match needs none.
    """
    if not (read.isascii() and expected.isascii()) or abs(len(read) - len(expected)) > 2:
        return None
    found = _align(read, expected)
    return None if found is None else list(found)


def _align(read: str, expected: str) -> tuple[str, ...] | None:
    @cache
    def best(i: int, j: int) -> tuple[str, ...] | None:
        if i == len(read) and j == len(expected):
            return ()
        options: list[tuple[str, ...]] = []
        if i < len(read) and j < len(expected) and read[i] == expected[j]:
            rest = best(i + 1, j + 1)
            if rest is not None:
                options.append(rest)
        for wrong, right in CONFUSIONS:
            if read.startswith(wrong, i) and expected.startswith(right, j):
                rest = best(i + len(wrong), j + len(right))
                if rest is not None and len(rest) < MAX_CONFUSIONS:
                    options.append((_describe(wrong, right), *rest))
        return min(options, key=len) if options else None

    return best(0, 0)


def _describe(wrong: str, right: str) -> str:
    if not wrong:
        return f"a lost {right!r}"
    if not right:
        return f"a stray {wrong!r}"
    return f"{wrong!r} for {right!r}"


def reconcile_emails(
    pages: list[Page], fields: LetterFields, *, typed: TypedFields, records: AccountRecords | None
) -> None:
    """Read again or explain the letter's two addresses when they differ from what is expected."""
    to_add = [typed.email_to_add.strip().lower()] if typed.email_to_add else []
    executives = [c.email.strip().lower() for c in records.executive_contacts] if records else []
    executives += [typed.executive_email.strip().lower()] if typed.executive_email else []
    if to_add and fields.email_to_add is not None:
        fields.email_to_add = _reconcile(pages, fields.email_to_add, to_add)
    if executives and fields.executive_email is not None:
        fields.executive_email = _reconcile(pages, fields.executive_email, executives)


def _reconcile(pages: list[Page], found: Found, expected: list[str]) -> Found:
    if found.box is None or found.value in expected:
        return found
    page = pages[found.box.page - 1]
    line = _line_of(page, found.box)
    if page.text_source is not TextSource.OCR or line is None:
        return found
    # The address as the letter's reading took it, too: its word can hold more than
    # the address ("add_|.schaefer@..." for the label "to add" and "l.schaefer@...").
    readings = [(found.text, found.value), *_readings(line.text)]
    exact = [(text, read) for text, read in readings if read in expected]
    if not exact:
        readings += _read_again(page, line.box)
        exact = [(text, read) for text, read in readings if read in expected]
    if exact:
        text, read = exact[0]
        return Found(read, text, found.box)
    for text, read in readings:
        # The space after the label read as an underscore: "add_rafael_h@..." for
        # "to add" and "rafael_h@...". Another address, as read: confirmed by eye.
        label = _LABEL_JOINED.match(read)
        if label and read[label.end() :] in expected:
            joined = (f"the label's space read as {label.group(0)[-1]!r}",)
            return Found(read[label.end() :], text, found.box, corrected_from=read,
                         confusions=joined)  # fmt: skip
    confident = _confidence(line, found.box) >= CORRECTABLE_BELOW
    explained: list[tuple[int, str, str, str, tuple[str, ...]]] = []
    for text, read in readings:
        for value in expected:
            how = explain_by_confusions(read, value)
            if how and not (confident and not CONFIDENT_CONFUSIONS.issuperset(how)):
                explained.append((len(how), text, read, value, tuple(how)))
    if not explained:
        return found
    _, text, read, value, confusions = min(explained)
    return Found(value, text, found.box, corrected_from=read, confusions=confusions)


def _line_of(page: Page, box: Box) -> Line | None:
    for line in page.lines:
        if "@" in line.text and _overlaps(line.box, box):
            return line
    return None


_LABEL_JOINED = re.compile(r"(?:to|add|email|address|admin(?:istrator)?)?_+")
_AROUND_AT = re.compile(r"(?:[^\s:;]+ ){0,2}[^\s:;]*@[^\s:;]*(?: [^\s:;]+){0,2}")


def _readings(text: str) -> list[tuple[str, str]]:
    """(text, address as read) for the "@" word with up to two words either side.

    Spaces next to a dot or the "@" are OCR's ("olivia. okafor@ acme.example")
    and go; any other space stays, for ``explain_by_confusions`` to count.
    """
    tidy = re.sub(r" ?([.@]) ?", r"\1", text.strip())
    match = _AROUND_AT.search(tidy)
    if match is None:
        return []
    words = match.group(0).split(" ")
    at = next(i for i, word in enumerate(words) if "@" in word)
    readings = []
    for first in range(at, -1, -1):
        for last in range(at, len(words)):
            chosen = " ".join(words[first : last + 1])
            readings.append((chosen, chosen.lower().strip(".,;:()<>\"'")))
    return readings


def _confidence(line: Line, box: Box) -> float:
    words = [w for w in line.words if _overlaps(w.box, box)]
    return min((w.confidence for w in words), default=100.0)


def _overlaps(a: Box, b: Box) -> bool:
    return (
        a.page == b.page and a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom
    )


def _read_again(page: Page, box: Box) -> list[tuple[str, str]]:
    """The line in ``box`` read once more, enlarged and sharpened."""
    return _readings(" ".join(line.text for line in _read_box(page, box)))


def _read_box(page: Page, box: Box) -> list[Line]:
    pad = max(6, box.height // 2)
    x0, y0 = max(0, box.x - pad), max(0, box.y - pad)
    x1, y1 = min(page.width, box.right + pad), min(page.height, box.bottom + pad)
    crop = page.image[y0:y1, x0:x1]
    if crop.size == 0:
        return []
    grey = np.asarray(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    top, bottom = text_line_rows(grey)
    grey = grey[top:bottom]
    try:
        return read_words(_sharpened(grey), box.page, config=REREAD_CONFIG, timeout=10)
    except OcrUnavailable:
        return []


def _sharpened(grey: Image) -> Image:
    big = cv2.resize(grey, None, fx=REREAD_SCALE, fy=REREAD_SCALE, interpolation=cv2.INTER_CUBIC)
    soft = cv2.GaussianBlur(big, (0, 0), 2.0)
    return np.asarray(cv2.addWeighted(big, 1.8, soft, -0.8, 0), dtype=np.uint8)
