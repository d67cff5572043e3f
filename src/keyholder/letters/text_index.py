"""The pages' lines as one string, each character mapped back to its word.

Every field rule runs on this text, so a match maps back to the words it came
from and to their box on the page. A form's dot leader read as letters is made
dots again here (see ``leaders``), so that no rule takes it for a value.
"""

from __future__ import annotations

import re

from keyholder.letters.document import Box, Line, Word
from keyholder.letters.found import Found
from keyholder.letters.leaders import leader_texts

__all__ = ["TextIndex", "normalise_dashes"]


class TextIndex:
    """The pages' lines as one string, each character mapped back to its word."""

    def __init__(self, lines: list[Line], *, line_height: dict[int, float] | None = None) -> None:
        parts: list[str] = []
        self._spans: list[tuple[int, int, Word]] = []
        self.line_offsets: list[tuple[int, int, Line]] = []
        offset = 0
        for line in lines:
            start = offset
            height = line_height.get(line.box.page) if line_height else None
            texts = leader_texts(line, height)
            for i, word in enumerate(line.words):
                if i:
                    parts.append(" ")
                    offset += 1
                text = normalise_dashes(texts[i])
                parts.append(text)
                self._spans.append((offset, offset + len(text), word))
                offset += len(text)
            self.line_offsets.append((start, offset, line))
            parts.append("\n")
            offset += 1
        self.text = "".join(parts)

    def box(self, start: int, end: int) -> Box | None:
        box: Box | None = None
        for word_start, word_end, word in self._spans:
            if word_start < end and start < word_end and (box is None or box.page == word.box.page):
                box = word.box if box is None else box.union(word.box)
        return box

    def found(self, value: str, match: re.Match[str], group: str | int = 0) -> Found:
        start, end = match.span(group)
        return Found(value, self.text[start:end], self.box(start, end))

    def line_index_at(self, offset: int) -> int:
        for i, (start, end, _line) in enumerate(self.line_offsets):
            if start <= offset <= end:
                return i
        return len(self.line_offsets) - 1


def normalise_dashes(text: str) -> str:
    # Em and en dashes, Unicode hyphens and minus signs: OCR and fonts use them all.
    return text.translate(str.maketrans("\u2014\u2013\u2010\u2011\u2212", "-----"))
