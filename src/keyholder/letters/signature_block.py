"""The signature block: the closing, the typed name and title under the signature,
and the lines between (where the signature is).

The block is found from the closing down or, when no closing was read (the
signature's loops ran into it), from the typed name up (issue 14).
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from keyholder.letters.document import Line
from keyholder.letters.found import Found, LetterFields

# "Yours" and the second word's first letters end a line where the signature's
# ink hid the rest from OCR ("Yours sin", fpdf 5701 letter 9).
CLOSING = re.compile(
    r"^(?:yours\s+(?:sincerely|faithfully|truly|(?:si|fa|tr)\w*(?=[,.]?$))|"
    r"sincerely(?:\s+yours)?|"
    r"(?:with\s+)?(?:kind|best|warm|warmest|kindest)\s+regards|regards|best\s+wishes|"
    r"respectfully(?:\s+yours)?|with\s+thanks|cordially)\b",
    re.IGNORECASE,
)
# A closing that the signature's loops ran into reads mangled ("sinc rely, i y"):
# its first letters still look like one of these.
CLOSING_WORDS = (
    "yourssincerely", "yoursfaithfully", "yourstruly", "sincerely", "kindregards",
    "bestregards", "withbestregards", "withkindregards", "warmregards", "regards",
    "respectfully", "withthanks", "bestwishes",
)  # fmt: skip
MANGLED_CLOSING_SCORE = 80.0
_STRAY_MARK = re.compile(r"(?<=[A-Za-z])[,.](?=[A-Za-z])")
# A line this many times the page's typical line height may be two read as one;
# one under FRAGMENT of it is a piece of a letter (a descender read as a line).
TALL_LINE = 1.6
FRAGMENT = 0.5
BODY_CONFIDENCE = 80.0
# A signature's space and the typed name's row: line heights between the closing
# and the block's first line read.
ROOM_FOR_NAME = 3.0
SENTENCE_LETTERS = 5  # a line ending in a full stop with fewer is no sentence of the body
BLOCK_LINES = 6  # lines the typed name may have under it, when found from below
# Words this many line heights to the right of the one before them are another
# column: a stamp's date or a seal's lettering read into the typed name's line
# ("Charlotte Mensah      17 NOV"). A space between words is under one height.
COLUMN_GAP = 3.0
TYPED_SIGNATURE = re.compile(r"^\s*[/|lI1]\s?[sS5]\s?[/|lI1]\s*\S")
# A person's name: two to five words, each capitalised ("O'Donnell", "Al-Mansouri",
# "Schäfer", "J.") or a lower-case particle ("van der Berg").
NAME_PARTICLES = frozenset(
    {"van", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "von", "le",
     "la", "ten", "ter", "bin", "ibn", "al", "el", "y"}
)  # fmt: skip
_NAME_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['\u2019.-])*")
# "Oficer", "Offcer": an "fi" ligature's letters lost in a photo.
TITLE_WORDS = re.compile(
    r"\b(of{1,2}i?cer|director|manager|president|owner|founder|chair\w*|ceo|cfo|coo|cto|cio|"
    r"ciso|partner|head|vp|counsel|administrator|secretary|treasurer)\b",
    re.IGNORECASE,
)


def typical_height(lines: list[Line]) -> dict[int, float]:
    """Each page's median height of a line of text (pages differ: a photo's scale)."""
    heights: dict[int, list[int]] = {}
    for line in lines:
        if letters_in(line.text) >= 3:
            heights.setdefault(line.box.page, []).append(line.box.height)
    return {page: float(sorted(h)[len(h) // 2]) for page, h in heights.items()}


def letters_in(text: str) -> int:
    return sum(c.isalnum() for c in text)


def find_closing(
    lines: list[Line],
    fields: LetterFields,
    height: dict[int, float],
    *,
    mangled: bool = False,
    start: int = 0,
) -> int | None:
    """The last line from ``start`` that is a closing (or reads like a mangled one).

    A closing line as tall as two is the closing and the signature read as one
    line: it ends the body but is not given as ``fields.closing`` (the
    signature band would start under the signature); the typed name places the
    band's foot, and the line, given as ``fields.inked_closing``, its top.
    """
    like = _mangled_closing if mangled else _closing
    found = next((i for i in range(len(lines) - 1, start - 1, -1) if like(lines[i].text)), None)
    if found is None:
        return None
    typical = height.get(lines[found].box.page, 0.0)
    if typical and lines[found].box.height > TALL_LINE * typical:
        fields.inked_closing = lines[found]
    else:
        fields.closing = lines[found]
    return found


def _closing(text: str) -> bool:
    # A speck read as a comma or dot between its words ("With,best regards,").
    return bool(CLOSING.match(_STRAY_MARK.sub(" ", text.strip())))


def _mangled_closing(text: str) -> bool:
    words = text.split()
    if not words or len(words) > 6 or "@" in text or any(c.isdigit() for c in text):
        return False
    folded = re.sub(r"[^a-z]", "", text.lower())
    return any(
        len(folded) >= len(word) - 1
        and fuzz.ratio(folded[: len(word) + 1], word) >= MANGLED_CLOSING_SCORE
        for word in CLOSING_WORDS
    )


def read_block(following: list[Line], fields: LetterFields, height: dict[int, float]) -> None:
    """The typed name and title under the signature, and what lies between.

    The name is the line just above the title (or above the email when there is
    no title); failing that, the most confidently read name-like line before
    the title or email: a script-font or scribbled "signature" above it reads
    worse, and the company's name under the title is no signer. Fragments (a
    descender read as a line of its own) are passed over.
    """
    usable: list[tuple[int, Line]] = []
    for position, line in enumerate(following):
        text = line.text.strip()
        if TYPED_SIGNATURE.match(text):
            fields.typed_signature = Found(text, text, line.box)
        elif not _fragment(line, height):
            usable.append((position, first_column(line, height)))
    usable = _aligned(usable, height)
    chosen = _name_above_title_or_email(usable)
    if chosen is None:
        before_title = []
        for entry in usable:
            if _title_or_email(entry[1].text):
                break
            before_title.append(entry)
        candidates = [
            (line.confidence, n) for n, (_, line) in enumerate(before_title)
            if looks_like_name(line.text) and line.confidence >= 50
        ]  # fmt: skip
        if not candidates:
            _title_under_an_unread_name(usable, fields, height)
            return
        _, chosen = max(candidates)  # ties: the later line, nearest the title
    position, line = usable[chosen]
    # The line as read stays the block's anchor (the signature band is measured
    # from it and its words are not taken for typed text there); the items are
    # read from its first column.
    fields.name_line = following[position]
    fields.signature_lines = following[:position]
    name = without_marks(line.text)
    fields.executive_name = Found(name, line.text.strip(), line.box)
    # The title is the next line down: not a second reading of the name's own
    # row (a re-read of the block can add one beside the first).
    after = [entry for entry in usable[chosen + 1 :] if not _same_row(entry[1], line)]
    if after:
        title_line = after[0][1]
        title = without_marks(title_line.text)
        if "@" not in title and re.search(r"[A-Za-z]{2,}", title):
            fields.executive_title = Found(title, title_line.text.strip(), title_line.box)


def _title_under_an_unread_name(
    usable: list[tuple[int, Line]], fields: LetterFields, height: dict[int, float]
) -> None:
    """The title, when the line above it is no readable name: a signature crossing
    the typed name ("-tena Sato", issue 14) leaves the title under it clean. Only
    a title with a line above it (the name's place) within the block's first lines,
    or with room for the signature and the name between it and the closing (the
    name not read at all under a felt tip's initials, fpdf 5701 letter 9, photo)."""
    for n, (_, line) in enumerate(usable[: BLOCK_LINES // 2]):
        title = without_marks(line.text)
        if "@" in title:
            return
        placed = n or _room_for_a_name(line, fields, height)
        if placed and _title_or_email(title) and line.confidence >= BODY_CONFIDENCE:
            fields.executive_title = Found(title, line.text.strip(), line.box)
            return


def _room_for_a_name(line: Line, fields: LetterFields, height: dict[int, float]) -> bool:
    closing = fields.closing or fields.inked_closing
    typical = height.get(line.box.page, 0.0)
    return (
        closing is not None
        and closing.box.page == line.box.page
        and typical > 0
        and line.box.y - closing.box.bottom >= ROOM_FOR_NAME * typical
    )


def first_column(line: Line, height: dict[int, float]) -> Line:
    """The line's words up to the first gap wider than ``COLUMN_GAP`` line heights
    (the line itself when there is none)."""
    typical = height.get(line.box.page, 0.0) or float(
        sorted(w.box.height for w in line.words)[len(line.words) // 2]
    )
    for n in range(1, len(line.words)):
        if line.words[n].box.x - line.words[n - 1].box.right > COLUMN_GAP * typical:
            return Line(line.words[:n])
    return line


def _usable(lines: list[Line], height: dict[int, float]) -> list[tuple[int, Line]]:
    """The lines that are not fragments, each cut to its first column, with their index."""
    return [
        (i, first_column(line, height))
        for i, line in enumerate(lines)
        if not _fragment(line, height)
    ]


def _same_row(line: Line, other: Line) -> bool:
    middle = line.box.y + line.box.height // 2
    return line.box.page == other.box.page and other.box.y <= middle <= other.box.bottom


def _aligned(usable: list[tuple[int, Line]], height: dict[int, float]) -> list[tuple[int, Line]]:
    """The block's lines without those that start ``COLUMN_GAP`` line heights or
    more right of the block's (median) left edge: a stamp's date or a seal's
    lettering on a line of its own between the name and the title."""
    if len(usable) < 3:
        return usable
    left = sorted(line.box.x for _, line in usable)[len(usable) // 2]
    return [
        (i, line)
        for i, line in usable
        if line.box.x - left <= COLUMN_GAP * height.get(line.box.page, line.box.height)
    ]


def _fragment(line: Line, height: dict[int, float]) -> bool:
    """A line too small or too short to be one: a descender or a speck read as text."""
    typical = height.get(line.box.page, 0.0)
    return letters_in(line.text) < 3 or bool(typical and line.box.height < FRAGMENT * typical)


def without_marks(text: str) -> str:
    """The line without the words that hold no letter at either end: a signature's
    flourish through the typed name reads as "=" or "~" beside it (photos)."""
    words = text.split()
    while words and not letters_in(words[-1]):
        words.pop()
    while words and not letters_in(words[0]):
        words.pop(0)
    return " ".join(words)


def looks_like_name(text: str) -> bool:
    """Two to five words, capitalised or name particles, not all capitals, no title."""
    words = without_marks(text).split()
    if not 2 <= len(words) <= 5 or text.isupper() or TITLE_WORDS.search(text) or "@" in text:
        return False
    capitalised = 0
    for word in words:
        if word.lower() in NAME_PARTICLES:
            continue
        if not (_NAME_WORD.fullmatch(word) and word[0].isupper()):
            return False
        capitalised += 1
    return capitalised >= 2


def _title_or_email(text: str, *, alone: bool = False) -> bool:
    """A title line, or a line with an address (``alone``: nothing but the address,
    so that a labelled item or a sentence with one is not taken for it)."""
    if "@" in text:
        return not alone or len(text.split()) <= 2
    return bool(TITLE_WORDS.search(text) and len(text.split()) <= 6)


def _name_above_title_or_email(usable: list[tuple[int, Line]]) -> int | None:
    if usable and _title_or_email(usable[0][1].text) and "@" not in usable[0][1].text:
        # The block starts with its title: the name over it was not read, or was read
        # after it (a title's box that took in a stamp's ink starts higher), and the
        # name-like line over the address is the company's (issue 14, cause 3).
        return None
    for n in range(1, len(usable)):
        if _title_or_email(usable[n][1].text):
            return n - 1 if looks_like_name(usable[n - 1][1].text) else None
    return None


def title_without_name(lines: list[Line], height: dict[int, float]) -> int | None:
    """The index in ``lines`` (the block, closing excluded) of the first title line
    or address alone when the line just above it is not a name: there the typed
    name was lost (the signature crosses it, or OCR read it into another line)."""
    usable = _aligned(_usable(lines, height), height)
    for n, (i, line) in enumerate(usable):
        if _title_or_email(line.text, alone=True):
            if n and looks_like_name(usable[n - 1][1].text):
                return None
            return i
    return None


def name_from_below(lines: list[Line], height: dict[int, float]) -> int | None:
    """The last name-like line followed by a title or an address alone: the typed
    name. The block ends the letter: only its own few lines (title, company,
    address, telephone, a footer) may follow it."""
    usable = _usable(lines, height)
    for n in range(len(usable) - 2, max(-1, len(usable) - 2 - BLOCK_LINES), -1):
        name = usable[n][1]
        if not looks_like_name(name.text):
            continue
        # What the signature left beside the block ("wy 2078" far right, between
        # the name and the title of a photo) is not the line under the name.
        reach = COLUMN_GAP * height.get(name.box.page, name.box.height)
        below = next(
            (line.text for _, line in usable[n + 1 :] if abs(line.box.x - name.box.x) <= reach),
            "",
        )
        if ":" in below and "@" not in below:  # "Re: Administrator access"
            continue
        if _title_or_email(below, alone=True):
            return usable[n][0]
    return None


def unread_name_from_below(lines: list[Line], height: dict[int, float]) -> int | None:
    """With no name-like line read: the line just above the letter's last title, where
    the typed name was, when OCR made little of it (issue 14: a signature crossing
    the name, read "\\orindceun tnandes" or "Mei-Li" over a clean "President" or
    "CFO"). Only a title read with confidence among the block's last lines, under a
    line of the title's column (lines starting further right, a stamp's or the
    signature's pieces, are passed over) that is no line of the body."""
    usable = _usable(lines, height)
    for n in range(len(usable) - 1, max(0, len(usable) - 1 - BLOCK_LINES), -1):
        title = usable[n][1]
        if "@" in title.text or not _title_or_email(title.text, alone=True):
            continue
        if title.confidence < BODY_CONFIDENCE:
            return None
        reach = COLUMN_GAP * height.get(title.box.page, title.box.height)
        column = [(at, line) for at, line in usable[:n] if line.box.x - title.box.x <= reach]
        if not column:
            return None
        at, above = column[-1]
        # A name read in part is a word or two; three or more read surely are prose.
        prose = len(above.words) >= 3 and above.confidence >= BODY_CONFIDENCE
        if abs(above.box.x - title.box.x) > reach or prose or _body_line(above):
            return None
        return at
    return None


def _body_line(line: Line) -> bool:
    """A sentence (a full stop or colon after SENTENCE_LETTERS letters; a speck read
    as one, "y™.", is none) or a long line read with confidence: the body's."""
    text = line.text.strip()
    sentence = text.endswith((".", ":")) and letters_in(text) >= SENTENCE_LETTERS
    return sentence or (len(text.split()) >= 6 and line.confidence >= BODY_CONFIDENCE)


def block_top(lines: list[Line], name_at: int) -> int:
    """The first line of the block whose typed name is ``lines[name_at]``: up to
    three lines above it that are not the body's (a mangled closing, the
    signature read as text), stopping at a sentence or a long confident line."""
    top = name_at
    while top > 0 and name_at - top < 3 and not _body_line(lines[top - 1]):
        top -= 1
    return top
