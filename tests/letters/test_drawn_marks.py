"""Drawn marks (rules, frames, seals) erased from a signature band, and pen strokes kept.

Bands from ``benchmarks/signature_bands.py`` drawn with the fpdf generator's own
signatures and seals, and whole fpdf letters (a tuning generator): each case is one
the erasers got wrong.
"""

from __future__ import annotations

import random
from datetime import date

import cv2
import numpy as np
import pytest

from benchmarks.corpora.build import letter_files
from benchmarks.corpora.fpdf_letters import render
from benchmarks.corpora.spec import random_spec
from benchmarks.signature_bands import one_band
from keyholder.letters import SignatureLevel, prescreen_letter
from keyholder.letters.band_marks import min_mark_area
from keyholder.letters.drawn_marks import Drawn, strokes
from keyholder.letters.ruled_lines import erase_rules
from keyholder.letters.seals import Surroundings, erase_cut_seals, erase_seals
from tests.letters import generated
from tests.letters.conftest import needs_tesseract


# A marker's or felt tip's line is wide enough to hold straight runs of a rule's
# length along its downstrokes and its underline: they were cut out as rules and
# a frame's sides, and the signature left as letter-sized pieces, "unclear".
@pytest.mark.parametrize(("number", "pen"), [(5, "gel"), (6, "felt"), (7, "felt")])
def test_a_wide_pen_s_straight_runs_are_not_rules(number: int, pen: str) -> None:
    outcome = one_band(721, number, "photo", None, signed=True, maker="fpdf")

    assert (outcome.pen, outcome.clutter) == (pen, "none")
    assert outcome.level == SignatureLevel.INK.value, outcome.evidence


# ... and a felt tip's line a line height wide holds them across its letters too,
# where they run together: 92-96% of the signature lay on runs of a rule's length
# and it was cut to pieces (stop 36). Runs eight of its line's widths long are far
# fewer.
@pytest.mark.parametrize(
    ("seed", "number", "condition", "pen"), [(789, 124, "scan", None), (786, 98, "photo", "felt")]
)
def test_a_felt_tip_s_letters_a_line_height_wide_are_not_rules(
    seed: int, number: int, condition: str, pen: str | None
) -> None:
    outcome = one_band(seed, number, condition, pen, signed=True, maker="fpdf")

    assert (outcome.pen, outcome.clutter) == ("felt", "none")
    assert outcome.level == SignatureLevel.INK.value, outcome.evidence


# A stamp's thin frame, its bold lettering joined to it by grainy ink: less than
# four fifths of the mark is straight, as a wide pen's stroke, but the straight runs
# are a thin line, and the frame's sides go as before.
@pytest.mark.parametrize("number", [9, 75])
def test_a_stamp_s_thin_frame_joined_to_its_lettering_is_not_spared(number: int) -> None:
    outcome = one_band(724, number, "photo", None, signed=False)

    assert outcome.clutter == "stamp"
    assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence


# A thick stamp frame that the band's edges cut to a corner or three sides, as
# wide as a felt tip's line and found straight in less than four fifths of it
# (grainy ink): it was spared whole as a pen's stroke, and these unsigned fpdf
# letters were "signature-like ink" (stop 33). A frame's ink lies along the edges
# of its rectangle; a pen's fills the middle of its box.
@needs_tesseract
@pytest.mark.parametrize(("number", "condition"), [(21, "clean"), (12, "scan")])
def test_a_thick_stamp_frame_s_corner_is_not_a_pen_s_stroke(number: int, condition: str) -> None:
    spec = random_spec(3101, number, today=date(2026, 12, 6))
    file_seed = random.Random(f"file/fpdf/3101/{number}/{condition}").randint(0, 2**63)
    data, extension = letter_files(render(spec), condition, file_seed, "fpdf")

    report = prescreen_letter(data, filename=f"letter.{extension}")

    assert (spec.signed, spec.clutter) == (False, "stamp")
    assert report.json["signature"]["level"] == SignatureLevel.UNCERTAIN.value


# Unsigned fpdf letters (fresh seed 5201, stop 39) that were "signature-like ink":
# a logo's diamond in the band, its initials cut out of it, as thick along its
# middle as a felt tip's letters (9, on every condition); a scanned stamp whose
# frame's corner was spared as a pen's stroke, and whose whole frame, taken in with
# the closing's row, was scored as one (6). Fresh seed 5501 (stop 43): another
# diamond, the band's top cutting it (26; see the next test but three).
@needs_tesseract
@pytest.mark.parametrize(
    ("seed", "number", "condition", "clutter"),
    [(5201, 9, "clean", "logo"), (5201, 9, "photo", "logo"), (5201, 6, "scan", "stamp"),
     (5501, 26, "clean", "logo")],
)  # fmt: skip
def test_a_logo_or_a_scanned_stamp_in_the_band_is_not_a_signature(
    seed: int, number: int, condition: str, clutter: str
) -> None:
    spec = random_spec(seed, number, today=date(2026, 12, 7))
    file_seed = random.Random(f"file/fpdf/{seed}/{number}/{condition}").randint(0, 2**63)
    data, extension = letter_files(render(spec), condition, file_seed, "fpdf")

    report = prescreen_letter(data, filename=f"letter.{extension}")

    assert (spec.signed, spec.clutter) == (False, clutter)
    assert report.json["signature"]["level"] == SignatureLevel.UNCERTAIN.value


# ... while felt initials whose straight stem went as a frame's side, written down
# into the typed name, are still found with the name's row taken in: nothing
# printed-looking is left beside them (stop 39, fresh seed 910).
def test_felt_initials_into_the_name_beside_an_erased_stem_are_signature_like() -> None:
    outcome = one_band(910, 36, "photo", "felt", signed=True, maker="fpdf")

    assert outcome.level == SignatureLevel.INK.value, outcome.evidence


# A thick frame's corner, tilted as a stamp lands: the smallest rectangle round it
# lies along its diagonal, where the corner is no hollow frame, and its straight
# side was spared as a wide pen's (fpdf 5201 letter 6, scan).
def test_a_tilted_frame_s_corner_is_erased_as_a_frame() -> None:
    line_height = 24
    ink = np.zeros((110, 220), np.uint8)
    tilt = np.deg2rad(5.0)
    along, down = np.array([np.cos(tilt), np.sin(tilt)]), np.array([-np.sin(tilt), np.cos(tilt)])
    start = np.array([40.0, 8.0])
    corner = start + 5.5 * line_height * along
    end = corner + 2.9 * line_height * down
    cv2.polylines(ink, [np.round([start, corner, end]).astype(np.int32)], False, 1, 8)

    left, framed = erase_rules(ink, line_height)

    assert framed
    assert np.count_nonzero(left) < 0.3 * np.count_nonzero(ink)


# A thin straight line is a rule or a frame's side only near level or upright, as
# pages and stamps tilt; a ballpoint's "/" leaning at 64 degrees, 2.3 line heights
# long, was erased as one, and small initials with it (Pillow 5502 letter 12).
@pytest.mark.parametrize(
    ("degrees", "length", "pen"),
    [(64, 2.4, True), (45, 2.4, True), (84, 2.4, False), (8, 7.0, False)],
)
def test_a_thin_straight_line_is_a_rule_only_near_level_or_upright(
    degrees: float, length: float, pen: bool
) -> None:
    line_height = 22
    ink = np.zeros((200, 240), np.uint8)
    half = (
        length
        * line_height
        / 2
        * np.array([np.cos(np.deg2rad(degrees)), -np.sin(np.deg2rad(degrees))])
    )
    centre = np.array([120.0, 100.0])
    cv2.line(
        ink, *(tuple(int(v) for v in np.round(p)) for p in (centre - half, centre + half)), 1, 2
    )

    kept, _, _ = strokes(ink, line_height, min_mark_area(line_height))

    assert len(kept) == (1 if pen else 0)


# A ballpoint's up- and down-stroke side by side, leaning (the first stroke of an
# "M"): every pixel lies on the edge of the mark's narrow rectangle, and it was
# erased as a frame's piece (reportlab 5102 letter 29, scan).
@pytest.mark.parametrize("degrees", [65, 45])
def test_a_leaning_narrow_loop_is_not_a_frame(degrees: float) -> None:
    line_height = 22
    ink = np.zeros((200, 240), np.uint8)
    along = np.array([-np.cos(np.deg2rad(degrees)), np.sin(np.deg2rad(degrees))])
    across = np.array([along[1], -along[0]])
    start = np.array([120.0, 100.0]) - 1.3 * line_height * along
    ends = [(start + gap * across, start + gap * across + 2.6 * line_height * along)
            for gap in (0, 5)]  # fmt: skip
    for a, b in [*ends, (ends[0][0], ends[1][0])]:
        cv2.line(ink, tuple(int(v) for v in np.round(a)), tuple(int(v) for v in np.round(b)), 1, 2)

    kept, _, _ = strokes(ink, line_height, min_mark_area(line_height))

    assert len(kept) == 1


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


# A seal centred beyond the band's right side shows the band two short arcs, too
# little of its rings to find it by; seen with the rows above and below the band,
# out to the page's edge, it is found, and blanked where it reaches into the band.
# A pen's line beside it stays (stop 34).
def test_a_seal_the_band_cuts_is_found_round_the_band() -> None:
    line_height, band_top, height, width = 22, 44, 120, 400
    around = np.zeros((height + 2 * band_top, 700), np.uint8)
    centre = (460, band_top + height // 2)
    for radius in (150, 110):
        cv2.circle(around, centre, radius, 1, thickness=5)
    xs = np.arange(50, 260)
    ys = band_top + height // 2 + (30 * np.sin(xs / 25)).astype(int)
    for x, y in zip(xs, ys, strict=True):
        around[y - 1 : y + 2, x] = 1
    ink = around[band_top : band_top + height, :width].copy()

    assert erase_seals(ink, line_height)[1] == []
    out, seals = erase_cut_seals(ink, Surroundings(around, band_top), line_height)

    assert seals
    assert not out[:, 300:].any()
    assert np.array_equal(out[:, :260], ink[:, :260])


# Round the band a pen's closed loop is whole and inked all round, as a seal's ring:
# a felt "B" 3.7 line heights in radius, written beside the closing, was blanked as a
# seal with the initials in it, and the signed letter was "unclear" (stop 34). Only
# seals too large for the band are looked for round it.
@needs_tesseract
def test_a_felt_tip_s_closed_loop_is_not_a_seal_the_band_cuts() -> None:
    spec = random_spec(3101, 7, today=date(2026, 12, 6))
    file_seed = random.Random("file/fpdf/3101/7/photo").randint(0, 2**63)
    data, extension = letter_files(render(spec), "photo", file_seed, "fpdf")

    report = prescreen_letter(data, filename=f"letter.{extension}")

    assert spec.signed
    assert report.json["signature"]["level"] == SignatureLevel.INK.value


# A felt tip's letters, their loops run full, fill their box as a logo's block does
# and are thicker than a thin pen's line: they were erased as a logo, and felt
# initials alone in the band were "drawn rather than written" (stop 35). Taller than
# any printed lettering and a felt tip's width along their middle, they stay.
def test_a_felt_tip_s_tall_letter_is_a_pen_s_stroke_a_block_is_not() -> None:
    line_height = 22
    letter = np.zeros((130, 300), np.uint8)
    cv2.line(letter, (60, 15), (55, 110), 1, 14)  # a "B" five line heights high
    cv2.ellipse(letter, (75, 38), (26, 22), 0, -120, 150, 1, 14)
    cv2.ellipse(letter, (78, 85), (30, 24), 0, -150, 150, 1, 14)
    block = np.zeros((130, 300), np.uint8)
    cv2.rectangle(block, (40, 20), (130, 110), 1, thickness=-1)

    kept, _, _ = strokes(letter, line_height, min_mark_area(line_height))
    assert len(kept) == 1
    kept, marks, _ = strokes(block, line_height, min_mark_area(line_height))
    assert (kept, marks) == ([], [])


# A word written with a felt tip, its loops run together: two line heights high and
# near seven wide, it filled its box as a logo's block does and was erased, the
# signature with it (fpdf 5701 letter 6, "unclear" on every condition). A block as
# large still goes.
def test_a_felt_tip_s_written_word_is_a_pen_s_stroke_a_block_is_not() -> None:
    line_height = 22
    word = np.zeros((120, 260), np.uint8)
    for i in range(7):
        cv2.ellipse(word, (40 + 20 * i, 60), (9, 17), 15, 0, 360, 1, 10)
    cv2.line(word, (30, 75), (170, 75), 1, 10)
    block = np.zeros((120, 260), np.uint8)
    cv2.rectangle(block, (30, 40), (180, 85), 1, thickness=-1)

    kept, _, _ = strokes(word, line_height, min_mark_area(line_height))
    assert len(kept) == 1
    kept, marks, _ = strokes(block, line_height, min_mark_area(line_height))
    assert (kept, marks) == ([], [])


# A logo's diamond with its initials cut out close to its edges, four line heights
# high: opened before its holes were filled, the thin ink between the letters and
# the edge went, the letters became bays and the diamond filled 0.73 of its outline,
# a felt tip's letter's share; it was "signature-like ink" (fpdf 5501 letter 26).
def test_a_diamond_logo_with_its_initials_cut_out_near_its_edges_is_drawn() -> None:
    line_height = 24
    logo = np.zeros((110, 300), np.uint8)
    corners = np.array([[150, 8], [197, 55], [150, 102], [103, 55]], np.int32)
    cv2.fillPoly(logo, [corners], 1)
    cv2.rectangle(logo, (121, 38), (146, 72), 0, thickness=-1)  # a "P", 3 px from the edge
    cv2.rectangle(logo, (154, 38), (179, 72), 0, thickness=-1)  # a "G"

    kept, _, _ = strokes(logo, line_height, min_mark_area(line_height))

    assert kept == []


@pytest.mark.parametrize(
    ("seed", "number", "condition"), [(787, 15, "clean"), (787, 71, "clean"), (786, 24, "photo")]
)
def test_felt_initials_that_fill_their_box_are_signature_like(
    seed: int, number: int, condition: str
) -> None:
    outcome = one_band(seed, number, condition, "felt", signed=True, maker="fpdf")

    assert outcome.clutter == "none"
    assert outcome.level == SignatureLevel.INK.value, outcome.evidence


# A felt signature that the band's edge cuts through its letters, where they run
# together: the pieces in the band were as solid as a logo's block and went as one,
# and the band was "unclear" (stop 35). A piece the band's top or bottom cuts is
# judged with the rest of its stroke, round the band.
@pytest.mark.parametrize(("seed", "number", "condition"), [(793, 120, "clean"), (789, 141, "scan")])
def test_a_felt_signature_the_band_cuts_is_judged_whole(
    seed: int, number: int, condition: str
) -> None:
    outcome = one_band(seed, number, condition, None, signed=True, maker="fpdf")

    assert (outcome.pen, outcome.clutter) == ("felt", "none")
    assert outcome.level == SignatureLevel.INK.value, outcome.evidence


# ... but a stamp's stays drawn: its bold word cut to a solid piece by the band's
# right side (31), or its frame and lettering cut by the band's bottom (44). Judged
# whole by shape alone, each was "signature-like ink" while this was built.
@pytest.mark.parametrize("number", [31, 44])
def test_a_stamp_the_band_cuts_is_not_judged_a_pen_s_stroke(number: int) -> None:
    outcome = one_band(784, number, "photo", None, signed=False)

    assert outcome.clutter == "stamp"
    assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence


# A stamp's tilted row of capitals, run together with bits of its frame: three line
# heights high by its tilt, as solid as felt letters and as wide along its middle,
# it was spared as a pen's and the band was "signature-like ink" (stop 35, fresh
# seed 795). Along its own tilt it is a row of print, 1.6 line heights high.
def test_a_stamp_s_tilted_row_is_not_a_felt_tip_s_letters() -> None:
    outcome = one_band(795, 127, "photo", None, signed=False, maker="fpdf")

    assert outcome.clutter == "stamp"
    assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence


# A gel pen's initials "J. A.", thick, narrow and upright: the "J" 4.3 line heights
# high and 1.0 across along its tilt was taken for a tilted row of print, and both
# letters were erased as a logo's blocks; the clean page was "unclear" (stop 40,
# fpdf letter 5401-0023). A row of print lies near level; these lean 49-62 degrees.
@needs_tesseract
def test_upright_initials_are_not_a_tilted_row_of_print() -> None:
    report = generated.screen("fpdf", 5401, 23, "clean")

    assert report.json["signature"]["level"] == SignatureLevel.INK.value


# A felt tip's signature, its loops and flourish a line thicker than a seal's ring:
# a circle Hough found through them was inked all round at every radius near it,
# and the signature was blanked as a seal: "unclear" (stop 36). A seal's ring is a
# thin line along the circle; a felt tip's is not.
@pytest.mark.parametrize(
    ("seed", "number", "condition"), [(787, 34, "clean"), (787, 89, "clean"), (786, 68, "photo")]
)
def test_a_felt_tip_s_loops_are_not_a_seal_s_ring(seed: int, number: int, condition: str) -> None:
    outcome = one_band(seed, number, condition, "felt", signed=True, maker="fpdf")

    assert outcome.clutter == "none"
    assert outcome.level == SignatureLevel.INK.value, outcome.evidence


@pytest.mark.parametrize("pen", [16, 20])
def test_a_seal_s_rings_are_blanked_a_felt_tip_s_round_loop_is_not(pen: int) -> None:
    line_height = 22
    seal = np.zeros((130, 500), np.uint8)
    for radius in (58, 44):  # rings 1 mm thick at 200 dpi
        cv2.circle(seal, (250, 65), radius, 1, thickness=8)
    loop = np.zeros((130, 500), np.uint8)
    cv2.circle(loop, (250, 65), 52, 1, thickness=pen)  # a felt tip's 2 or 2.5 mm line

    out, found = erase_seals(seal, line_height)
    assert found
    assert not out.any()
    out, found = erase_seals(loop, line_height)
    assert (found, int(out.sum())) == ([], int(loop.sum()))
