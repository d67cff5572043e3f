"""Marks drawn, not written, erased from a signature band: logos, seals, stamps, rules.

A seal's rings and the lettering round them, a stamp's frame and its lettering, a
logo's solid block and ruled lines all leave ink in the band that is no pen's.
``strokes`` erases them and keeps the long strokes handwriting leaves, and says
what drawn marks went, so that the band is "unclear" rather than "signature-like
ink" or "no ink" where they may have hidden a signature (issue 14). Rules go as in
``ruled_lines``, which spares a wide pen's straight runs. A felt tip's letters can
fill their box as a logo's block does: taller than print and a pen's width along
their middle, they stay, and a piece the band's edge cuts is judged with the rest
of its stroke round the band. Thresholds were set on the reportlab, Pillow and fpdf
letters of benchmarks/corpora and their seals and stamps, never on its held-out
generator.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum

import cv2
import numpy as np

from keyholder.letters.band_marks import bold_lettering, long_stroke, printed_row
from keyholder.letters.ruled_lines import erase_rules, in_rectangle, middle_width, rectangle_size
from keyholder.letters.seals import (
    ARC_SPREAD,
    SEAL_MAX_RADIUS,
    Circle,
    Surroundings,
    circle,
    erase_cut_seals,
    erase_seals,
    seal_ring_pieces,
)
from keyholder.letters.stamp_frames import (
    erase_cut_frames,
    frame_shaped,
    near_level_or_upright,
    tilt,
)

# Drawn shapes: a mark filling more than SOLID_FILL of its box is a block; one
# whose pixels lie within RING_SPREAD of the radius of the circle fitted through
# them is a ring (ARC_SPREAD, tighter, for a piece of one).
SOLID_FILL = 0.45
RING_SPREAD = 0.12
# Arcs of a circle at most this many line heights in radius are pieces of a seal;
# a signature's flourish, when it is an arc, is a much flatter one.
SEAL_RADIUS = 4.0
# A seal's rings and lettering lie within RING_BAND of the radius of the circle
# fitted through them, at most SEAL_MAX_RADIUS line heights; a filled star or
# badge fills more than SOLID_HULL of its convex outline (a pen's loops, far less).
RING_BAND = 0.3
SOLID_HULL = 0.6
# ... and thicker than a pen's line: its widest inscribed circle has a radius of
# THICKEST_PEN pixels (a 1 mm felt tip at 200 dpi: 4) and THICK_SHAPE of its
# box's shorter side; a felt tip's dense scribble fills as much, thinly.
THICKEST_PEN = 5.0
THICK_SHAPE = 0.1
# A solid, thick mark PEN_TALL line heights high or more is a pen's if its line is
# PEN_HALF_WIDTH line heights wide to either side of its middle (the median along
# it). fpdf's felt tips' long marks measured 0.29-0.39 (quartiles), its gel and
# fountain pens' filled loops 0.15-0.17, logos' blocks 0.6 and more; the floor is
# set under those and over a seal's lettering, ring and star run together (0.125,
# seed 762, band 98). Seals' tall pieces measure 0.14-0.45 too (seed 784): the seal
# search takes them. Stamps' lettering is 1.2-1.7 high (quartiles). A seal's star,
# left where its ring was not found, measured 2.6-2.7 high, 0.27 along its middle,
# filling 0.69 of its outline (band harness, seed 925), as felt initials 2.8 high did
# (fpdf letter 5101-0022): at 2.5, both were a pen's.
PEN_TALL = 3.0
PEN_HALF_WIDTH = (0.14, 0.45)
# ... and so is one WORD_TALL high and WORD_WIDE wide: a word written with a felt
# tip, its letters run together (fpdf 5701 letter 6: "Siddharth" 2.0 x 6.6 line
# heights, filling 0.53 of its box), wider than a seal's star or a letter.
WORD_TALL, WORD_WIDE = 2.0, 4.0
# ... and PEN_ACROSS high along its own tilt: a stamp's tilted row of capitals, run
# together with bits of its frame, was 3.0 high but 1.57 along its tilt (seed 795,
# band 127); fpdf's felt letters measured 1.85-4.0 (seed 787).
PEN_ACROSS = 1.75
# ... a test for a row of print, which lies within TILTED_ROW degrees of level: the
# corpora's stamps are set down at up to 12 degrees; fpdf's gel initials "J. A."
# stood at 49-62 degrees, 3.0-4.3 high and 1.0-1.25 along their tilt (letter
# 5401-0023), and were erased as a logo's blocks.
TILTED_ROW = 35.0
# ... unless its outline, holes filled and thin lines joined to it (THIN_JOIN line
# heights wide) opened away, fills CONVEX_OUTLINE of its convex hull: a logo. An
# fpdf logo's diamond with its initials cut out measured 0.975-1.0 (letter 5201-0009,
# clean, scan and photo); fpdf's felt tips' tall marks up to 0.89 (band harness, seed
# 901, bands 0-27, clean and photo) and 0.94 (felt initials "JB", seed 910, band
# 36), the corpora's up to 0.67. Set between the two.
CONVEX_OUTLINE = 0.96
THIN_JOIN = 0.25
# A drawn shape the band's top or bottom cuts is a pen's if WRITTEN_SHARE of it
# lies on a pen's stroke round the band (``_RoundTheBand``) at least WRITTEN_WHOLE
# line heights high: the band cut felt signatures 4-7 high; a stamp's bold word
# measured 2.3 (seed 784, band 31).
WRITTEN_SHARE = 0.5
WRITTEN_WHOLE = 3.0

# ... and a frame, or what the band left of one, is at least NARROW line heights
# across along its own tilt, or stands level or upright.
NARROW = 0.5


class Drawn(StrEnum):
    """What drawn (not written) marks were erased from the band: a seal's disc or a
    stamp's box blanked whole, or a frame's side (a tilted or upright rule; a level
    one is a signature line)."""

    BLANKED = "blanked"
    FRAME = "frame"


def strokes(
    ink: np.ndarray,
    line_height: int,
    min_area: int,
    *,
    around: Callable[[], Surroundings] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], Drawn | None]:
    """The long strokes left once printed shapes and rules are erased, the marks of
    any shape left, and what drawn marks were erased. Only where long strokes are
    left are seals' discs and stamps' boxes blanked whole (grainy stamp ink breaks
    rings and lettering into stroke-like pieces, issue 14); what that blanked makes
    the band "unclear" at most, since a signature inside the seal went too. Seals the
    band cuts are looked for ``around`` it (built only when it is needed)."""
    round_band = (
        _RoundTheBand(around, line_height, min_area, ink.shape[1]) if around is not None else None
    )
    kept, marks, framed, rings = _erased(
        ink, line_height, min_area, blank=False, round_band=round_band
    )
    if not kept:
        return kept, marks, Drawn.BLANKED if rings else Drawn.FRAME if framed else None
    kept, marks, framed, blanked = _erased(
        ink, line_height, min_area, blank=True, round_band=round_band
    )
    return kept, marks, Drawn.BLANKED if blanked else Drawn.FRAME if framed else None


def _erased(
    ink: np.ndarray,
    line_height: int,
    min_area: int,
    *,
    blank: bool,
    round_band: _RoundTheBand | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], bool, bool]:
    # Drawn shapes go whole, before the rules are cut out of them (which would
    # leave a logo's block as odd fragments); then ruled lines ("signature:
    # ______") and what is left of a frame, touching handwriting or not; then
    # the shapes those lines had joined.
    before = int(np.count_nonzero(ink))
    seals: list[Circle] = []
    if blank:
        ink, seals = erase_seals(ink, line_height)
        if round_band is not None:
            ink, cut = erase_cut_seals(ink, round_band.surroundings, line_height)
            seals += cut
            ink, _ = erase_cut_frames(ink, round_band.surroundings, line_height)
    seal = int(np.count_nonzero(ink)) < before
    ink, box = _erase_printed_shapes(ink, line_height, min_area, blank=blank, round_band=round_band)
    ink, framed = erase_rules(ink, line_height)
    ink, box_left = _erase_printed_shapes(
        ink, line_height, min_area, blank=blank, round_band=round_band
    )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    marks = [i for i in range(1, count) if stats[i][cv2.CC_STAT_AREA] >= min_area]
    # Handwriting has at least one long stroke; printed lettering (a stamp's
    # "RECEIVED", a logo's name) and a seal's letters are letter-sized marks.
    long = [i for i in marks if long_stroke(stats[i], line_height)]
    rings = seal_ring_pieces(labels, stats, long, seals, line_height)
    long = [i for i in long if i not in rings]
    return (
        [stats[i] for i in long],
        [stats[i] for i in marks],
        framed,
        seal or box or box_left or bool(rings),
    )


def _erase_printed_shapes(
    ink: np.ndarray,
    line_height: int,
    min_area: int,
    *,
    blank: bool = False,
    round_band: _RoundTheBand | None = None,
) -> tuple[np.ndarray, bool]:
    """The drawn shapes erased, and (``blank``) stamps' boxes with what is in them;
    whether a box was blanked. A shape the band's top or bottom edge cuts stays if
    it is part of a pen's stroke ``round_band``."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    printed = [
        i
        for i in range(1, count)
        if stats[i][cv2.CC_STAT_AREA] >= min_area
        and _printed_shape(labels, stats[i], i, line_height)
    ]
    if round_band is not None:
        printed = [
            i
            for i in printed
            if not (_cut_by_the_band(stats[i], ink.shape) and round_band.written(labels == i))
        ]
    if printed:
        ink = np.where(np.isin(labels, printed), 0, ink).astype(np.uint8)
    boxed = False
    for i in printed if blank else []:
        ys, xs = np.nonzero(labels == i)
        points = np.column_stack([xs, ys]).astype(np.float32)
        corners = cv2.boxPoints(cv2.minAreaRect(points))
        a, b = rectangle_size(points)
        if min(a, b) >= line_height and frame_shaped(*in_rectangle(points), a, b):
            # A stamp's frame: its lettering goes with it; a signature crossing
            # the stamp keeps what lies outside the frame.
            inside = np.zeros_like(ink)
            cv2.fillPoly(inside, [np.round(corners).astype(np.int32)], 1)
            ink = np.where(inside > 0, 0, ink).astype(np.uint8)
            boxed = True
    return ink, boxed


def _cut_by_the_band(stat: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Reaching the band's top or bottom edge."""
    y, h = stat[cv2.CC_STAT_TOP], stat[cv2.CC_STAT_HEIGHT]
    return bool(y == 0 or y + h == shape[0])


class _RoundTheBand:
    """The ink round the band (built only when it is asked for) and the pen's strokes
    in it: what is left, long, once drawn shapes and rules are erased, and no
    stamp's lettering. A felt tip's signature that the band cuts through its letters
    leaves pieces as solid as a logo's block, and the band was called "drawn rather
    than written" (issue 14: fpdf felt signatures on synthetic bands, stop 35);
    whole, the signature is a pen's stroke, while a logo's block, a seal's ring or
    a stamp's frame and lettering are as drawn whole as cut."""

    def __init__(
        self, build: Callable[[], Surroundings], line_height: int, min_area: int, width: int
    ):
        self._build = build
        self._line_height = line_height
        self._min_area = min_area
        self._width = width  # the band's: its pen strokes are looked for in its columns

    @functools.cached_property
    def surroundings(self) -> Surroundings:
        return self._build()

    @functools.cached_property
    def _pen_strokes(self) -> np.ndarray:
        lh, min_area = self._line_height, self._min_area
        columns = np.ascontiguousarray(self.surroundings.ink[:, : self._width])
        ink, _ = _erase_printed_shapes(columns, lh, min_area)
        ink, _ = erase_rules(ink, lh)
        ink, _ = _erase_printed_shapes(ink, lh, min_area)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        pen = [
            i
            for i in range(1, count)
            if stats[i][cv2.CC_STAT_AREA] >= min_area
            and long_stroke(stats[i], lh)
            and stats[i][cv2.CC_STAT_HEIGHT] >= WRITTEN_WHOLE * lh
            and not bold_lettering([stats[i]], lh)
            and not printed_row(stats[i], ink, lh)
        ]
        return np.isin(labels, pen)

    def written(self, mark: np.ndarray) -> bool:
        """Most of the mark (a mask of the band) lies on a pen's stroke round it."""
        top = self.surroundings.band_top
        pen = self._pen_strokes[top : top + mark.shape[0], : mark.shape[1]]
        return bool(np.count_nonzero(pen & mark) >= WRITTEN_SHARE * np.count_nonzero(mark))


def _printed_shape(labels: np.ndarray, stat: np.ndarray, label: int, line_height: int) -> bool:
    """A solid block (a logo), a ring or arc of one (a seal), a frame (a stamp) or a
    straight rule left over from a tilted line: drawn, not written."""
    x, y = stat[cv2.CC_STAT_LEFT], stat[cv2.CC_STAT_TOP]
    w, h = stat[cv2.CC_STAT_WIDTH], stat[cv2.CC_STAT_HEIGHT]
    ys, xs = np.nonzero(labels[y : y + h, x : x + w] == label)
    points = np.column_stack([xs, ys]).astype(np.float32)
    rectangle = cv2.minAreaRect(points)
    side_a, side_b = rectangle[1]
    if max(side_a, side_b) >= line_height and min(side_a, side_b) <= max(3.0, 0.15 * line_height):
        # A straight line: a rule or a frame's side, tilted with the page or the
        # stamp, or else a pen's stroke (every thin line lies on its own rectangle's
        # edge, so the frame test below would take it too).
        return near_level_or_upright(rectangle)
    if min(w, h) < 12:
        return False
    return _solid_shape(labels, stat, label, line_height) or _drawn_outline(
        labels, stat, label, line_height
    )


def _solid_shape(labels: np.ndarray, stat: np.ndarray, label: int, line_height: int) -> bool:
    """Filling its box (a logo's block) or its outline (a star, a badge), and thicker
    than a pen's line. A felt tip's dense scribble can fill as much: what is left of
    it keeps the band from being called empty (see ``signature._measure_ink``)."""
    x, y = stat[cv2.CC_STAT_LEFT], stat[cv2.CC_STAT_TOP]
    w, h, area = stat[cv2.CC_STAT_WIDTH], stat[cv2.CC_STAT_HEIGHT], stat[cv2.CC_STAT_AREA]
    mask = labels[y : y + h, x : x + w] == label
    ys, xs = np.nonzero(mask)
    points = np.column_stack([xs, ys]).astype(np.float32)
    hull = float(cv2.contourArea(cv2.convexHull(points)))
    solid = area > SOLID_FILL * w * h or area > SOLID_HULL * max(hull, 1.0)
    return solid and _thick(mask, min(w, h)) and not _tall_pen_line(mask, line_height)


def _tall_pen_line(mask: np.ndarray, line_height: int) -> bool:
    """Taller than any printed lettering in a band (or a written word's height and
    width) and drawn with a felt tip's line: its letters, their loops run full, fill
    their box as a logo's block does, but along their middle they are a pen's width
    (issue 14: fpdf felt initials, stop 35; a felt word, stop 44). Thin
    lines packed solid are print's or a seal's. A row of print is tall only by its
    tilt, and lies near level: a pen's upright letter, however narrow, is no row."""
    height, width = mask.shape
    if height < PEN_TALL * line_height and not (
        height >= WORD_TALL * line_height and width >= WORD_WIDE * line_height
    ):
        return False
    ys, xs = np.nonzero(mask)
    rectangle = cv2.minAreaRect(np.column_stack([xs, ys]).astype(np.float32))
    if min(rectangle[1]) < PEN_ACROSS * line_height and tilt(rectangle) <= TILTED_ROW:
        return False  # a row of print, tall only by its tilt
    if _outline_fill(mask, line_height) >= CONVEX_OUTLINE:
        return False  # a logo's block with its letters cut out of it
    middle = middle_width(mask.astype(np.uint8))
    least, most = PEN_HALF_WIDTH
    return bool(least * line_height <= np.median(middle[middle > 0]) <= most * line_height)


def _outline_fill(mask: np.ndarray, line_height: int) -> float:
    """How much of its convex outline the mark fills with its holes filled, once
    thin lines joined to it (a rule's end, blur's tails) are opened away: 1.0 for a
    printed shape (a logo's disc, square or diamond, its letters cut out of it); a
    pen's letters, however full their loops, leave bays between their strokes."""
    size = max(3, round(THIN_JOIN * line_height)) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    # Holes filled first: opened first, the thin ink between a logo's cut-out letters
    # and its edge goes, and the letters become bays (fpdf 5501 letter 26: 0.73).
    outer, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = cv2.drawContours(np.zeros(mask.shape, np.uint8), outer, -1, 1, thickness=-1)
    body = cv2.morphologyEx(filled, cv2.MORPH_OPEN, kernel)
    contours, _ = cv2.findContours(body, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return 0.0
    outline = max(contours, key=cv2.contourArea)
    hull = float(cv2.contourArea(cv2.convexHull(outline)))
    return float(cv2.contourArea(outline)) / hull if hull > 0 else 0.0


def _drawn_outline(labels: np.ndarray, stat: np.ndarray, label: int, line_height: int) -> bool:
    """A seal's rings with their lettering, a circle or a piece of one, or a frame."""
    x, y = stat[cv2.CC_STAT_LEFT], stat[cv2.CC_STAT_TOP]
    w, h = stat[cv2.CC_STAT_WIDTH], stat[cv2.CC_STAT_HEIGHT]
    ys, xs = np.nonzero(labels[y : y + h, x : x + w] == label)
    points = np.column_stack([xs, ys]).astype(np.float32)
    if _ring_of_lettering(xs.astype(np.float64), ys.astype(np.float64), line_height):
        return True
    radius, residual = _circle_fit(xs.astype(np.float64), ys.astype(np.float64))
    if residual < RING_SPREAD * radius and 1.2 * radius <= min(w, h) <= max(w, h) <= 2.6 * radius:
        return True  # most of a circle: a seal, even cut by the band's edge or a rule
    if (
        residual < ARC_SPREAD * radius
        and radius <= SEAL_RADIUS * line_height
        and min(w, h) >= 0.3 * radius
        and max(w, h) >= 0.6 * radius
    ):
        return True  # a piece of a seal's ring that blur or a rule broke up
    rectangle = cv2.minAreaRect(points)
    if min(rectangle[1]) < NARROW * line_height and not near_level_or_upright(rectangle):
        # Thin lines lie on the edges of their own narrow rectangle: a pen's leaning
        # "/\\" is no frame's piece (reportlab 5102 letter 29, scan).
        return frame_shaped(xs, ys, w, h)
    return frame_shaped(xs, ys, w, h) or frame_shaped(
        *in_rectangle(points), *rectangle_size(points)
    )


def _thick(mask: np.ndarray, side: int) -> bool:
    """The widest circle inside the mark is wider than a pen's line."""
    widest = float(cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3).max())
    return widest >= max(THICKEST_PEN, THICK_SHAPE * side)


def _ring_of_lettering(xs: np.ndarray, ys: np.ndarray, line_height: int) -> bool:
    """A seal's rings with the lettering round them, joined into one mark: nearly
    all of it within RING_BAND of a circle's radius, round at least half of it."""
    cx, cy, radius = circle(xs, ys)
    if not line_height <= radius <= SEAL_MAX_RADIUS * line_height:
        return False
    distance = np.hypot(xs - cx, ys - cy)
    if np.mean(np.abs(distance - radius) < RING_BAND * radius) < 0.92:
        return False
    sectors = np.histogram(np.arctan2(ys - cy, xs - cx), bins=16, range=(-np.pi, np.pi))[0]
    return bool(np.count_nonzero(sectors) >= 9)


def _circle_fit(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float]:
    """Radius of the least-squares circle through the points, and the points' spread
    about it (Kasa's algebraic fit)."""
    matrix = np.column_stack([xs, ys, np.ones_like(xs)])
    target = xs * xs + ys * ys
    (a, b, c), *_ = np.linalg.lstsq(matrix, target, rcond=None)
    cx, cy = a / 2, b / 2
    radius = float(np.sqrt(max(c + cx * cx + cy * cy, 0.0)))
    return radius, float(np.std(np.hypot(xs - cx, ys - cy)))
