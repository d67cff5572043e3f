"""Reading order of a PDF's text layer when the page is set in two columns.

Grouping words into lines by height alone reads a letter with a sidebar (the
sender's address beside the body) across both columns: "www.tailspintoys.example
Account tailspin-toys", and the account's row no longer starts its line (issue
14). A table's rows ("Account name    Proseware GmbH") look the same on the page
but must stay whole. Two things tell them apart: columns of text seldom have their
lines side by side, a table's or a form's rows always do; and a writer emits a
column whole before the next, a table row by row.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from keyholder.letters.document import Line, Word, group_into_lines

# A gap between words this many word heights wide splits a line into segments
# (a justified line's widest space is about one).
GUTTER = 2.5
# Rows with words on both sides of the gutter, at least, for two columns.
MIN_ROWS = 3


@dataclass(frozen=True, slots=True)
class _Region:
    rows: list[Line]
    gutter: float


def text_layer_lines(words: list[Word]) -> list[Line]:
    """The lines of a text layer, given its words in the PDF's order: rows top to
    bottom, except that a run of rows split by one gutter whose sides the PDF wrote
    one after the other is read column by column."""
    rows = group_into_lines(words)
    if len(rows) < MIN_ROWS:
        return rows
    order = {id(word): index for index, word in enumerate(words)}
    height = statistics.median(word.box.height for word in words)
    for gutter in _gutters(rows, GUTTER * height):
        lines: list[Line] = []
        for region in _regions(rows, gutter):
            lines += _columns(region, order) if region.gutter else region.rows
        if len(lines) > len(rows):
            return lines
    return rows


def _gutters(rows: list[Line], wide: float) -> list[float]:
    """The middles of the wide gaps between words that split at least MIN_ROWS rows,
    those splitting the most rows first (a table inside a column splits fewer)."""
    middles = {
        round((a.box.right + b.box.x) / 2)
        for row in rows
        for a, b in zip(row.words, row.words[1:], strict=False)
        if b.box.x - a.box.right >= wide
    }
    counted = [(sum(_split_at(row, x) for row in rows), x) for x in sorted(middles)]
    return [float(x) for count, x in sorted(counted, key=lambda c: -c[0]) if count >= MIN_ROWS]


def _split_at(row: Line, x: float) -> bool:
    return any(w.box.right <= x for w in row.words) and any(w.box.x >= x for w in row.words)


def _crosses(row: Line, x: float) -> bool:
    return any(w.box.x < x < w.box.right for w in row.words)


def _regions(rows: list[Line], gutter: float) -> list[_Region]:
    """Runs of rows that no word crosses the gutter in (``gutter`` 0: rows read as
    they are, a full-width line or a run with too few split rows)."""
    regions: list[_Region] = []
    run: list[Line] = []

    def close() -> None:
        if run:
            split = sum(_split_at(row, gutter) for row in run)
            regions.append(_Region(list(run), gutter if split >= MIN_ROWS else 0.0))
            run.clear()

    for row in rows:
        if _crosses(row, gutter):
            close()
            regions.append(_Region([row], 0.0))
        else:
            run.append(row)
    close()
    return regions


def _columns(region: _Region, order: dict[int, int]) -> list[Line]:
    """The region column by column if the PDF wrote one side whole before the other;
    row by row (a table) otherwise."""
    left = [[w for w in row.words if w.box.right <= region.gutter] for row in region.rows]
    right = [[w for w in row.words if w.box.x >= region.gutter] for row in region.rows]
    split = sum(bool(a and b) for a, b in zip(left, right, strict=True))
    if split > len(region.rows) - split:
        # Most rows have words on both sides: a form's labels and values
        # (a filled-in form writes its values after the page), not two columns of
        # text, whose lines seldom pair up.
        return region.rows
    left_order = [order[id(w)] for words in left for w in words]
    right_order = [order[id(w)] for words in right for w in words]
    if not left_order or not right_order:
        return region.rows
    if max(left_order) < min(right_order):
        first, second = left, right
    elif max(right_order) < min(left_order):
        first, second = right, left
    else:
        return region.rows
    return [Line(tuple(words)) for words in (*first, *second) if words]
