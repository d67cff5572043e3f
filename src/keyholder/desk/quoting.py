"""Quoted history in email replies: found for display, never deleted.

``split_quoted(body)`` cuts a message into what the sender wrote now and the
history their mail client appended (the quoted earlier messages, a signature).
The thread shows the first part and collapses the second behind a toggle; the
stored body stays whole, so ``visible + quoted == body`` always.

Recognised, as the common mail clients write them:

* a trailing block of ``>`` lines, with the attribution line above it
  ("On <date>, <name> wrote:", and its German, French, Dutch, Spanish,
  Swedish/Danish/Norwegian forms);
* an attribution line followed by unmarked history (clients that quote in HTML);
* Outlook's "-----Original Message-----" and its "From: … Sent: …" header block
  (with or without the "____" rule above it): Outlook users top-post, so all
  that follows is history;
* the signature separator ``-- `` (RFC 3676), and everything after it.

Inline replies (quotes with answers between them) are left alone: cutting
there would hide the answer.
"""

from __future__ import annotations

import re

# Attributions may wrap over two lines (Gmail breaks long ones inside the address).
_ATTRIBUTION = re.compile(
    r"""^\s*(?:
        on\s.{1,300}?\swrote\s*:        # English (Gmail, Apple Mail, Thunderbird)
      | am\s.{1,300}?\sschrieb.{0,300}?:  # German
      | le\s.{1,300}?\sa\s+[ée]crit\s*:  # French
      | op\s.{1,300}?\sschreef.{0,300}?:  # Dutch
      | el\s.{1,300}?\sescribi[óo].{0,300}?:  # Spanish
      | den\s.{1,300}?\sskrev.{0,300}?:   # Swedish, Danish, Norwegian
    )\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:original\s+message|urspr[üu]ngliche\s+nachricht|message\s+d'origine"
    r"|forwarded\s+message)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_RULE = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\**(?:from|von|de|van)\s*:\**\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\**(?:sent|date|gesendet|datum|envoy[ée]|verzonden|to|an|[àa]|aan|subject|betreff|objet"
    r"|onderwerp|cc)\s*:", re.IGNORECASE
)  # fmt: skip
_SIGNATURE = ("-- ", "--")
_OUTLOOK_HEADER_LINES = 4  # Sent/To/Cc/Subject follow From within this many lines


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _is_blank(line: str) -> bool:
    return not line.strip()


def _outlook_header_at(lines: list[str], i: int) -> bool:
    if not _HEADER_FROM.match(lines[i]):
        return False
    following = lines[i + 1 : i + 1 + _OUTLOOK_HEADER_LINES]
    return sum(1 for line in following if _HEADER_NEXT.match(line)) >= 2


def _attribution_at(lines: list[str], i: int) -> int:
    """How many lines (1 or 2) form an attribution starting at line ``i``; 0 if none."""
    if _is_blank(lines[i]):
        return 0
    if _ATTRIBUTION.match(lines[i].rstrip("\r\n")):
        return 1
    if i + 1 < len(lines) and not _is_blank(lines[i + 1]):
        joined = lines[i].rstrip("\r\n") + " " + lines[i + 1].rstrip("\r\n")
        if _ATTRIBUTION.match(joined):
            return 2
    return 0


class _Tail:
    """For each line: are there quoted, and unquoted, non-blank lines from there on?

    Computed once, so checking a candidate cut is O(1) and a hostile body full
    of attribution lines costs linear time, not quadratic.
    """

    def __init__(self, lines: list[str]) -> None:
        size = len(lines)
        self.quoted = [False] * (size + 1)
        self.unquoted = [False] * (size + 1)
        for i in range(size - 1, -1, -1):
            blank = _is_blank(lines[i])
            quoted = not blank and _is_quoted(lines[i])
            self.quoted[i] = self.quoted[i + 1] or quoted
            self.unquoted[i] = self.unquoted[i + 1] or (not blank and not quoted)

    def history_follows(self, start: int) -> bool:
        """Whether lines[start:] are history: all quoted, or none (HTML-quoting clients)."""
        return self.quoted[start] != self.unquoted[start]


def _trailing_quote_start(lines: list[str]) -> int | None:
    """The first line of the trailing ``>`` block (with its attribution), if there is one."""
    start: int | None = None
    for i in range(len(lines) - 1, -1, -1):
        if _is_quoted(lines[i]):
            start = i
        elif not _is_blank(lines[i]):
            break
    if start is None:
        return None
    above = start - 1
    while above >= 0 and _is_blank(lines[above]):
        above -= 1
    for size in (1, 2):
        first = above - size + 1
        if first >= 0 and _attribution_at(lines, first) == size:
            return first
    return start


def _cut_line(lines: list[str]) -> int | None:
    """The index of the first line of history, or None when there is none."""
    candidates: list[int] = []
    tail = _Tail(lines)
    trailing = _trailing_quote_start(lines)
    if trailing is not None:
        candidates.append(trailing)
    for i, line in enumerate(lines):
        bare = line.rstrip("\r\n")
        if bare in _SIGNATURE or _ORIGINAL_MESSAGE.match(bare):
            candidates.append(i)
            break
        if _outlook_header_at(lines, i):
            above = i - 1
            candidates.append(above if above >= 0 and _OUTLOOK_RULE.match(lines[above]) else i)
            break
        size = _attribution_at(lines, i)
        if size and tail.history_follows(i + size):
            candidates.append(i)
            break
    return min(candidates) if candidates else None


def split_quoted(body: str) -> tuple[str, str]:
    """(what the sender wrote now, the collapsed history); the two joined are ``body``.

    When the whole message would count as history, nothing is collapsed: a
    reader must never face an empty message with everything behind a toggle.
    """
    lines = body.splitlines(keepends=True)
    cut = _cut_line(lines)
    if cut is None:
        return body, ""
    offset = sum(len(line) for line in lines[:cut])
    visible, quoted = body[:offset], body[offset:]
    if not visible.strip():
        return body, ""
    return visible, quoted
