"""Find the letter's items in the words read from its pages: rules plus fuzzy matching.

All rules run on one text built from the pages' lines (``TextIndex``), so a
match maps back to the words it came from and to their box on the page.
"""

from __future__ import annotations

import re
from datetime import date

from keyholder.letters.account_name import find_account_name
from keyholder.letters.document import Line, Page
from keyholder.letters.found import Found, LetterFields
from keyholder.letters.signature_block import (
    block_top,
    find_closing,
    name_from_below,
    read_block,
    typical_height,
    unread_name_from_below,
)
from keyholder.letters.text_index import TextIndex

__all__ = [
    "Found",
    "LetterFields",
    "TextIndex",
    "canonical_contract",
    "extract_fields",
    "readable_contract",
]

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>[12][0-9Oo]{3})"
_DAY = r"(?P<day>[0-3|]?[0-9Oo|])(?:st|nd|rd|th)?"  # "|": a 1 ("| March 2026")
# Blur turns the comma after the day into a dot ("March 17. 2026").
DATE_PATTERNS = [
    re.compile(rf"(?<!\w){_DAY}\s+{_MONTH}[,.]?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_MONTH}\s+{_DAY}[,.]?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(r"\b(?P<year>20[0-9]{2})-(?P<month>[01][0-9])-(?P<day>[0-3][0-9])\b"),
]
# OCR sometimes sets the @ apart ("dana @ acme.example"), or adds a space next to
# a dot in the local part ("olivia. novak@"), before one in the domain
# ("acme .example"), after a hyphen in it ("umbrella- labs") or before its last
# letter or two ("globe x.example"): those spaces are allowed (after a
# domain's dot only before a last label in small letters that ends the line,
# "acme. example": elsewhere that is the end of a sentence).
# An initial before a dot ("l.schaefer") that OCR read as a bar or a "!" stays in
# the address as read, for ``reconcile`` to explain or the checks to show; a letter
# would drop it, and the address read would be another's ("schaefer@...").
_LOCAL_PART = r"(?:(?<![A-Za-z0-9])[|!]\.)?[A-Za-z0-9_%+-]+(?: ?\. ?[A-Za-z0-9_%+-]+)*"
# A domain wraps after a hyphen ("ibrahim@adventure-" / "works.example"): a
# browser breaks lines there.
_LABEL = r"[A-Za-z0-9-]+(?:(?<=-)[ \n][A-Za-z0-9-]+)*(?: [A-Za-z0-9]{1,2}(?=\.))?"
EMAIL = re.compile(
    rf"{_LOCAL_PART} ?@ ?{_LABEL}(?: ?\.{_LABEL})*"
    r"(?: ?\.[A-Za-z]{2,}|\. [a-z]{2,}(?=[.,;)]? *(?:\n|$)))"
)
# The last dot read as a space, when the address ends its line ("dana@acme example").
EMAIL_LOST_DOT = re.compile(
    rf"{_LOCAL_PART} ?@ ?{_LABEL}(?:\.{_LABEL})* (?P<tld>[a-z]{{2,}})\.?$", re.MULTILINE
)
# A contract number in the shape the accounts use (ENT-2024-001234), read
# loosely: OCR confuses O/0, I/l/1, S/5, B/8, Z/2, and splits digit groups
# ("001 234"); a space counts only when a digit follows, or a "|" (a 1) that
# ends the line ("ENT-2025-97798 |": a "|" in the middle of a line is a separator).
# A line may break after a dash ("ENT-2024-" / "001234"), as browsers break it.
_DIGIT = r"[0-9OISlIBZ|]"
_DIGITS = rf"(?:{_DIGIT}| (?=[0-9])| (?=\|$))"
CONTRACT_SHAPE = re.compile(
    rf"\b[A-Z0-9]{{2,5}} ?-[ \n]?{_DIGITS}{{3,4}}{_DIGIT} ?-[ \n]?{_DIGITS}{{3,9}}{_DIGIT}(?!\w)",
    re.IGNORECASE | re.MULTILINE,
)
# The same written without dashes ("ENT2026089684"): capitals, then the digits
# in one run (a year and a serial number), read with the same confusions.
CONTRACT_COMPACT = re.compile(
    r"\b[A-Z]{2,5}(?=[0-9OISlIBZ|]{8,13}(?!\w))(?=(?:\D*\d){6})[0-9OISlIBZ|]+"
)
CONTRACT_LABEL = re.compile(
    r"\b(?:contract|agreement)\s*(?:number|no\.?|#)?\s*[:.]?\s*(?P<value>[A-Z0-9][A-Z0-9-]{5,})",
    re.IGNORECASE,
)
REASON = re.compile(
    r"\b(?:reason(?:\s+for\s+(?:the|this)\s+request)?(?:\s+is\s+that|\s+is)?\s*[:\-]?"
    r"|because)\s+(?P<value>[^\n]*(?:\n(?![A-Z][A-Za-z ]{2,30}:)[^\n]*){0,3})",
    re.IGNORECASE,
)
EMAIL_TO_ADD_CONTEXT = re.compile(r"\b(add|grant|granted|administrator|admin|access)\b", re.I)
EXECUTIVE_EMAIL_CONTEXT = re.compile(r"\b(me|my|reply|contact)\b", re.IGNORECASE)


def canonical_contract(value: str) -> str:
    """A contract number with OCR's usual confusions folded: for comparing, not showing."""
    folded = re.sub(r"[\s-]", "", value.upper())
    return folded.translate(str.maketrans("OQDILJ|SZB", "0001111528"))


def readable_contract(value: str) -> str:
    """The contract number as shown: letters kept in the prefix, digits after it."""
    compact = re.fullmatch(r"([A-Za-z]{2,5})([0-9OQDILJ|SZBl]{8,13})", value.strip())
    if compact is not None:
        digits = compact.group(2).upper().translate(str.maketrans("OQDILJ|SZB", "0001111528"))
        return compact.group(1).upper() + digits
    parts = re.split(r"\s*-\s*", re.sub(r"(?<=[\w|])\s(?=[\w|])", "", value.strip().upper()))
    fixed = [parts[0].translate(str.maketrans("0158", "OISB"))]
    fixed += [p.translate(str.maketrans("OQDILJ|SZB", "0001111528")) for p in parts[1:]]
    return "-".join(fixed)


def all_lines(pages: list[Page]) -> list[Line]:
    return [line for page in pages for line in page.lines]


def extract_fields(pages: list[Page]) -> LetterFields:
    lines = all_lines(pages)
    height = typical_height(lines)
    index = TextIndex(lines, line_height=height)
    fields = LetterFields()
    closing_at = find_closing(lines, fields, height)
    block_at = closing_at + 1 if closing_at is not None else None
    unread_at: int | None = None
    if closing_at is None:
        # No closing read (the signature ran into it, or OCR skipped it): the
        # block is found from the typed name up, and a mangled closing in it.
        name_at = name_from_below(lines, height)
        if name_at is None:
            name_at = unread_at = unread_name_from_below(lines, height)
        if name_at is not None:
            block_at = block_top(lines, name_at)
            closing_at = find_closing(lines[:name_at], fields, height, mangled=True, start=block_at)
    body_ends_at = closing_at if closing_at is not None else block_at
    body_end = len(index.text) if body_ends_at is None else index.line_offsets[body_ends_at][0]
    fields.account_name = find_account_name(index, body_end)
    fields.contract_number = _contract_number(index)
    fields.reason = _reason(index, body_end)
    fields.date = _date(index)
    _emails(index, fields, body_end)
    if block_at is not None:
        # Found from an unread name, the block is read from that name's row: its title
        # is the next line, however many lines the signature was read as above it.
        read_block(lines[block_at if unread_at is None else unread_at :], fields, height)
    if unread_at is not None and fields.name_line is None:
        # The typed name's row, as read, bounds the signature's place; no name is
        # taken from it.
        assert block_at is not None
        fields.name_line = lines[unread_at]
        fields.signature_lines = lines[block_at:unread_at]
    return fields


def _contract_number(index: TextIndex) -> Found | None:
    for match in CONTRACT_LABEL.finditer(index.text):
        # The shape read from the label on, which takes in a last digit group OCR
        # set apart ("ENT-2019-78341 1"): the label's value stops at the space.
        shaped = CONTRACT_SHAPE.match(index.text, match.start("value")) or CONTRACT_COMPACT.match(
            index.text, match.start("value")
        )
        if shaped is not None:
            return _contract_found(index, shaped)
    loose = CONTRACT_SHAPE.search(index.text) or CONTRACT_COMPACT.search(index.text)
    if loose is None:
        return None
    return _contract_found(index, loose)


def _contract_found(index: TextIndex, match: re.Match[str]) -> Found:
    """The number matched, less a last "|" that stands far right of it: a table's
    border, where a "1" read as a bar stands a letter's space away."""
    start, end = match.span()
    if index.text[end - 1] == "|" and index.text[start : end - 1].endswith(" "):
        digits, bar = index.box(start, end - 2), index.box(end - 1, end)
        if digits is not None and bar is not None and bar.x - digits.right > digits.height:
            text = index.text[start : end - 2]
            return Found(readable_contract(text), text, digits)
    return index.found(readable_contract(match.group(0)), match)


def _reason(index: TextIndex, body_end: int) -> Found | None:
    match = REASON.search(index.text, 0, body_end)
    if match is None:
        return None
    raw = match.group("value")
    sentence = re.split(r"(?<=[.!?])\s", raw.replace("\n", " "), maxsplit=1)[0].strip()
    if len(sentence.split()) < 3:
        return None
    start = match.start("value")
    end = start + len(sentence)  # the sentence is a prefix of raw (newlines made spaces)
    return Found(sentence, index.text[start:end], index.box(start, end))


def _date(index: TextIndex) -> Found | None:
    candidates: list[tuple[int, re.Match[str], date]] = []
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(index.text):
            parsed = _parse_date(match)
            if parsed is not None:
                candidates.append((match.start(), match, parsed))
    if not candidates:
        return None
    # The letter's own date comes first (dates in the reason come later).
    _, match, parsed = min(candidates, key=lambda c: c[0])
    return index.found(parsed.isoformat(), match)


def _parse_date(match: re.Match[str]) -> date | None:
    def digits(text: str) -> int:
        return int(text.upper().replace("O", "0").replace("|", "1"))

    month_text = match.group("month")
    month = int(month_text) if month_text.isdigit() else MONTHS.get(month_text.lower().rstrip("."))
    try:
        return date(digits(match.group("year")), month or 0, digits(match.group("day")))
    except ValueError:
        return None


def _email(match: re.Match[str]) -> str:
    text = match.group(0)
    if match.re is EMAIL_LOST_DOT:
        text = text[: match.start("tld") - match.start()].rstrip() + "." + match.group("tld")
    return re.sub(r"\s", "", text).lower().rstrip(".")


def _emails(index: TextIndex, fields: LetterFields, body_end: int) -> None:
    text = index.text
    matches = list(EMAIL.finditer(text))
    matches += [
        m
        for m in EMAIL_LOST_DOT.finditer(text)
        if not any(m.start() < e.end() and e.start() < m.end() for e in matches)
    ]
    matches.sort(key=lambda m: m.start())
    before = [m for m in matches if m.start() < body_end and not _sender_header(text, m)]
    after = [m for m in matches if m.start() >= body_end]
    # The address to add is the one the request's sentence is about: "... be given
    # to x@y", "x@y be made an administrator". A memo's "From: Name <x@y>" line is
    # the sender's (held-out fpdf memos: the signer's address read as the one to add).
    to_add = next((m for m in before if EMAIL_TO_ADD_CONTEXT.search(_sentence_around(text, m))),
                  before[0] if before else None)  # fmt: skip
    if to_add is not None:
        fields.email_to_add = index.found(_email(to_add), to_add)
    # The signer's own address under the signature or, failing that, in the body
    # where they say how to reach them ("You can reach me at ...", "Please reply
    # to"), or in a memo's "From:" line.
    signer = after[0] if after else next(
        (m for m in before
         if m is not to_add and EXECUTIVE_EMAIL_CONTEXT.search(_sentence_before(text, m))),
        next((m for m in matches if _sender_header(text, m)), None),
    )  # fmt: skip
    if signer is not None:
        fields.executive_email = index.found(_email(signer), signer)


# A header line naming the sender ("From: Dana Lee <dana@acme.example>").
SENDER_HEADER = re.compile(r"^\s*(?:from|sender|von|de)\s*:", re.IGNORECASE)
# Where a sentence ends: a full stop, question or exclamation mark before a space (an
# address's own dots have none), a line ending in a colon or comma (the greeting
# above the first sentence, "Dear Support,"), a blank line, or a labelled line
# starting ("Contact: ...", "Email to add: ...": each label is a sentence of its own).
SENTENCE_END = re.compile(r"[.!?](?=\s)|[:,]\n|\n\s*\n|\n(?=[^\n:]{1,40}:\s)")
SENTENCE_REACH = 300


def _sender_header(text: str, match: re.Match[str]) -> bool:
    line_start = text.rfind("\n", 0, match.start()) + 1
    return bool(SENDER_HEADER.match(text[line_start : match.start()]))


def _sentence_around(text: str, match: re.Match[str]) -> str:
    """The whole sentence the address stands in, the address left out: what it is for."""
    before = text[max(0, match.start() - SENTENCE_REACH) : match.start()]
    ends = list(SENTENCE_END.finditer(before))
    before = before[ends[-1].end() :] if ends else before
    after = text[match.end() : match.end() + SENTENCE_REACH]
    end = SENTENCE_END.search(after)
    return before + " " + (after[: end.start()] if end else after)


def _sentence_before(text: str, match: re.Match[str]) -> str:
    """What the sentence or labelled line says before the address: what it is for."""
    context = text[max(0, match.start() - 120) : match.start()]
    return context.split(".")[-1] if "." in context else context
