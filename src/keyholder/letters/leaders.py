"""A form's dot leader as OCR reads it, told apart from the words around it.

OCR reads the dots between a form's label and its value as anything: "ee",
"cece", "000000eeeeeeeeet", ".......+.06-", "ees:". Taken as words, they become
the value after the label ("Account ee eee ees: Wide-world-importers" names the
account "ee"). ``leader_texts`` gives each word of a line the text the field
rules should see: a leader's words as dots, every other word as read.
"""

from __future__ import annotations

import re

from keyholder.letters.document import Line

# A word's box under a third of a line of text holds dots, not letters: a
# lower-case letter stands over half a line tall, even in a font with a small
# x-height.
DOT_SIZED = 1 / 3
# A line this many times taller than its words is no row of text.
NOT_A_ROW = 2.5
# A word read right after a leader, this unsure and with a word after it, is the
# leader read on: the value is the line's last word(s), read surely or in capitals.
LEADER_CONFIDENCE = 60
_ENDS = ":|"
# A value read unsurely, or in a box Tesseract got wrong ("“Tailspin" one pixel
# high), is still a value: an address, a capitalised or quoted name, or a slug
# ("northwind-traders"), whose hyphen joins runs of letters.
_SLUG_LIKE = re.compile(r"[a-z]{2,}-[a-z]{2,}")
_QUOTES = "\"'\u201c\u201d\u2018\u2019\u201e\u00ab\u00bb"
# Dots read as symbols ("Account .. © © © ° litware", Pillow 5502 letter 32, photo);
# a dash, a bar, a colon or a quote mark is read as what it is.
_DOT_SYMBOLS = "\u00a9\u00ae\u00b0\u00b7\u2022*+~^"


def leader_texts(line: Line, line_height: float | None) -> list[str]:
    """The text of each of the line's words, a dot leader's words made dots."""
    texts: list[str] = []
    after_leader = False
    last = len(line.words) - 1
    dot_height = _dot_height(line, line_height)
    for i, word in enumerate(line.words):
        text = word.text
        letters = any(c.isalnum() or c in _DOT_SYMBOLS for c in text)
        leader = (
            (letters and word.box.height < dot_height and _reads_like_dots(text))
            # the value can be read glued to the leader: "........acme-corp"
            or (text.startswith("..") and _reads_like_dots(text))
            or (
                after_leader
                and i < last
                and word.confidence < LEADER_CONFIDENCE
                and _reads_like_dots(text)
            )
        )
        texts.append(_as_dots(text) if leader and letters else text)
        # A colon or a bar ends the leader: the value comes next, however read.
        after_leader = leader and text[-1] not in _ENDS
    return texts


def _dot_height(line: Line, line_height: float | None) -> float:
    """The height under which a word is dots: a third of the page's line of text,
    and of the words surely read on this line; none on a line far taller than its
    words (a page read sideways: its "lines" run down the page, its words' boxes
    are their lengths)."""
    if line_height is None:
        return 0.0
    sure = sorted(
        w.box.height
        for w in line.words
        if w.confidence >= LEADER_CONFIDENCE and sum(c.isalnum() for c in w.text) >= 3
    )
    words = float(sure[len(sure) // 2]) if sure else line_height
    if line.box.height > NOT_A_ROW * words:
        return 0.0
    return DOT_SIZED * min(line_height, words)


def _reads_like_dots(text: str) -> bool:
    """No capital, quote mark, "@" or slug: what dots are read as ("ee", "0005")."""
    return not (
        any(c.isupper() or c in _QUOTES for c in text) or "@" in text or _SLUG_LIKE.search(text)
    )


def _as_dots(text: str) -> str:
    """Dots as many as the word's characters, at least two (a leader's shape), and
    the colon or bar ending it kept: it says where the value starts."""
    if text[-1] in _ENDS:
        return "." * max(2, len(text) - 1) + text[-1]
    return "." * max(2, len(text))
