"""Drawn marks (rules, frames, seals) erased from a signature band, and pen strokes kept.

Bands from ``benchmarks/signature_bands.py`` drawn with the fpdf generator's own
signatures and seals (a tuning generator): each case is one the erasers got wrong.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.signature_bands import one_band
from keyholder.letters import SignatureLevel
from keyholder.letters.band_marks import min_mark_area
from keyholder.letters.drawn_marks import Drawn, strokes


# A marker's or felt tip's line is wide enough to hold straight runs of a rule's
# length along its downstrokes and its underline: they were cut out as rules and
# a frame's sides, and the signature left as letter-sized pieces, "unclear".
@pytest.mark.parametrize(("number", "pen"), [(5, "gel"), (6, "felt"), (7, "felt")])
def test_a_wide_pen_s_straight_runs_are_not_rules(number: int, pen: str) -> None:
    outcome = one_band(721, number, "photo", None, signed=True, maker="fpdf")

    assert (outcome.pen, outcome.clutter) == (pen, "none")
    assert outcome.level == SignatureLevel.INK.value, outcome.evidence


# A stamp's thin frame, its bold lettering joined to it by grainy ink: less than
# four fifths of the mark is straight, as a wide pen's stroke, but the straight runs
# are a thin line, and the frame's sides go as before.
@pytest.mark.parametrize("number", [9, 75])
def test_a_stamp_s_thin_frame_joined_to_its_lettering_is_not_spared(number: int) -> None:
    outcome = one_band(724, number, "photo", None, signed=False)

    assert outcome.clutter == "stamp"
    assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence


# A seal larger than the band, cut by its edges to arcs of its inner and outer
# rings about one centre: no circle was found through them, and the arcs scored as
# a pen's strokes.
@pytest.mark.parametrize("number", [52, 94])
def test_a_seal_s_ring_pieces_about_one_centre_are_not_signature_like(number: int) -> None:
    outcome = one_band(711, number, "photo", None, signed=False, maker="fpdf")

    assert outcome.clutter == "seal"
    assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence


# On a phone photo the sheet's edge can fall inside the band: a ragged upright line
# as high as the band, at its side, straight in places (fpdf letter 30 of seed 3001,
# photo). Once a wide pen's straight runs were spared, it was spared too, and called
# initials; at the band's side it stays a frame's side, so the band is "unclear".
def test_the_sheet_s_edge_at_the_band_s_side_stays_a_drawn_mark() -> None:
    line_height, height, width = 24, 110, 400
    ink = np.zeros((height, width), np.uint8)
    rng = np.random.default_rng(1)
    x = width - 4.0
    for y in range(height):
        x = float(np.clip(x + rng.normal(0, 2), width - line_height, width - 4))
        ink[y, round(x) - 1 : round(x) + 2] = 1
    ink[: 3 * line_height + 4, width - 3] = 1  # and straight for three line heights
    _, _, drawn = strokes(ink, line_height, min_mark_area(line_height))

    assert drawn is Drawn.FRAME
