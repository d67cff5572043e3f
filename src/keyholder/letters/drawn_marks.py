"""Marks drawn, not written, erased from a signature band: logos, seals, stamps, rules.

A seal's rings and the lettering round them, a stamp's frame and its lettering, a
logo's solid block and ruled lines all leave ink in the band that is no pen's.
``strokes`` erases them and keeps the long strokes handwriting leaves, and says
what drawn marks went, so that the band is "unclear" rather than "signature-like
ink" or "no ink" where they may have hidden a signature (issue 14). A wide pen's
stroke holds straight runs as long as a rule's; where they are a small part of a
mark as wide as the pen, the mark is a pen's and stays whole, unless its ink lies
along the edges of its rectangle, as a thick frame's does. Thresholds were set
on the reportlab, Pillow and fpdf letters of benchmarks/corpora and their seals
and stamps, never on its held-out generator.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

import cv2
import numpy as np

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

# Rules and stamp frames are looked for at these tilts (degrees).
RULE_TILTS = (0, -2, 2, -4, 4, -6, 6, -8, 8, -10, 10, -12, 12, -14, 14)
TILTED_RULE = (4.0, 4.0)  # line heights: horizontal, vertical

# A long stroke (in line heights): at least LONG_STROKE long and TALLER_THAN_PRINT
# tall (printed words that blur merges stay a line high), or VERY_LONG wide.
# Set on calibration seed 7 with clutter in the band (--unsigned 300): stamp
# lettering and logo names measured up to ~1.0 line high, generated signatures'
# strokes 1.2 or more.
LONG_STROKE = 1.5
TALLER_THAN_PRINT = 1.1
VERY_LONG = 6.0
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
# A mark taller than print whose straight runs (rules, frames' sides) are less than
# this share of it is a pen's stroke and stays whole. Set on the fpdf letters (seed
# 3001: its felt-tip signatures 0.46-0.73, its stamps' frames with their lettering
# 0.76-1.0) and synthetic bands (seeds 721-726), never on the held-out generator.
PEN_RULE_SHARE = 0.8
# ... and whose straight runs are a wide pen's line: half of it at least WIDE_PEN
# line heights along its middle (fpdf's felt and gel signatures 0.17-0.55, the
# corpora's stamp frames 0.13).
WIDE_PEN = 0.15
# ... unless it is a hollow frame (``_hollow_frame``): fpdf's thick stamp frames cut
# to a corner or three sides had all their pixels within 1.5 line widths of their
# rectangle's edges, a rectangle 7-8 line widths across (letters 3101-0006 and
# -0021).
HOLLOW_SHARE = 0.9
FRAME_LINE = 1.5
FRAME_SPAN = 5.0


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
    kept, marks, framed, rings = _erased(ink, line_height, min_area, blank=False)
    if not kept:
        return kept, marks, Drawn.BLANKED if rings else Drawn.FRAME if framed else None
    kept, marks, framed, blanked = _erased(ink, line_height, min_area, blank=True, around=around)
    return kept, marks, Drawn.BLANKED if blanked else Drawn.FRAME if framed else None


def _erased(
    ink: np.ndarray,
    line_height: int,
    min_area: int,
    *,
    blank: bool,
    around: Callable[[], Surroundings] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], bool, bool]:
    # Drawn shapes go whole, before the rules are cut out of them (which would
    # leave a logo's block as odd fragments); then ruled lines ("signature:
    # ______") and what is left of a frame, touching handwriting or not; then
    # the shapes those lines had joined.
    before = int(np.count_nonzero(ink))
    seals: list[Circle] = []
    if blank:
        ink, seals = erase_seals(ink, line_height)
        if around is not None:
            ink, cut = erase_cut_seals(ink, around(), line_height)
            seals += cut
    seal = int(np.count_nonzero(ink)) < before
    ink, box = _erase_printed_shapes(ink, line_height, min_area, blank=blank)
    ink, framed = _erase_rules(ink, line_height)
    ink, box_left = _erase_printed_shapes(ink, line_height, min_area, blank=blank)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    marks = [i for i in range(1, count) if stats[i][cv2.CC_STAT_AREA] >= min_area]
    # Handwriting has at least one long stroke; printed lettering (a stamp's
    # "RECEIVED", a logo's name) and a seal's letters are letter-sized marks.
    long = [i for i in marks if _long_stroke(stats[i], line_height)]
    rings = seal_ring_pieces(labels, stats, long, seals, line_height)
    long = [i for i in long if i not in rings]
    return (
        [stats[i] for i in long],
        [stats[i] for i in marks],
        framed,
        seal or box or box_left or bool(rings),
    )


def _erase_rules(ink: np.ndarray, line_height: int) -> tuple[np.ndarray, bool]:
    """Straight lines, level or tilted as a rubber stamp is (RULE_TILTS): level and
    upright runs of three line heights, tilted ones of TILTED_RULE. Faint ink joins
    a stamp's frame to its lettering; the frame's sides go, the letters stay letters.
    Also whether anything but a level rule went: a frame's side, tilted or upright."""
    # Turned about the band's middle, a wide band's ends swing out of it: a stamp's
    # side near a corner would leave the picture and never be seen as a rule (a
    # stamp cut by the band's edge stayed "signature-like ink", issue 14). Padded
    # so that every turn keeps the whole band.
    height, width = ink.shape
    reach = np.sin(np.deg2rad(max(abs(a) for a in RULE_TILTS)))
    pad_y, pad_x = int(reach * width / 2) + 2, int(reach * height / 2) + 2
    ink = np.asarray(
        cv2.copyMakeBorder(ink, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=0),
        dtype=np.uint8,
    )
    lines = np.zeros_like(ink)
    sides = np.zeros_like(ink)  # tilted or upright: a frame's, not a signature line's
    h, w = ink.shape
    for angle in RULE_TILTS:
        if angle:
            turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
            turned = cv2.warpAffine(ink, turn, (w, h), flags=cv2.INTER_NEAREST)
        else:
            turned = ink
        found = np.zeros_like(ink)
        # Tilted, only longer lines: a pen's straight downstroke is two or three
        # line heights long, a stamp's frame four or more. Upright, three: at two
        # a felt tip's downstroke went as a frame's side (synthetic photos, seed 61).
        long = TILTED_RULE if angle else (3.0, 3.0)
        for size in (
            (max(15, int(long[0] * line_height)), 1),
            (1, max(15, int(long[1] * line_height))),
        ):
            kernel = cv2.getStructuringElement(cv2.MORPH_RECT, size)
            opened = np.asarray(cv2.morphologyEx(turned, cv2.MORPH_OPEN, kernel))
            found |= opened
            if not angle and size[0] == 1:
                sides |= opened
        if angle:
            back = cv2.invertAffineTransform(turn)
            found = cv2.warpAffine(found, back, (w, h), flags=cv2.INTER_NEAREST)
            found = cv2.dilate(found, np.ones((3, 3), np.uint8))  # rounding on the way back
            sides |= found
        lines |= found
    band = (slice(pad_y, pad_y + height), slice(pad_x, pad_x + width))
    ink, lines, sides = ink[band], lines[band], sides[band]
    lines, sides = _pen_strokes_spared(ink, lines, sides, line_height)
    left = np.asarray(cv2.subtract(ink, lines))
    return np.ascontiguousarray(left), bool(np.any(sides & ink))


def _pen_strokes_spared(
    ink: np.ndarray, lines: np.ndarray, sides: np.ndarray, line_height: int
) -> tuple[np.ndarray, np.ndarray]:
    """The straight runs found, less those inside a pen's stroke: a mark taller than
    print (LONG_STROKE by TALLER_THAN_PRINT line heights) that straight runs make up
    less than PEN_RULE_SHARE of. A felt tip's or marker's line is wide enough to hold
    straight runs of a rule's length along its downstrokes and its underline, and
    cutting them out left the signature as letter-sized pieces (issue 14: fpdf
    letters, stop 31); a rule, a frame's side or a logo's bar is nearly all run."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1 or not lines.any():
        return lines, sides
    total = np.bincount(labels.ravel(), minlength=count)
    straight = np.bincount(labels[(lines > 0) & (ink > 0)], minlength=count)
    # Within a quarter of a line height of the band's sides: the sheet's edge on a
    # photo (ragged, and straight enough to be a frame's side), not a pen's stroke.
    margin, width = line_height // 4, ink.shape[1]
    spared = [
        i
        for i in range(1, count)
        if 0 < straight[i] < PEN_RULE_SHARE * total[i]
        and stats[i][cv2.CC_STAT_LEFT] > margin
        and stats[i][cv2.CC_STAT_LEFT] + stats[i][cv2.CC_STAT_WIDTH] < width - margin
        and max(stats[i][cv2.CC_STAT_WIDTH], stats[i][cv2.CC_STAT_HEIGHT])
        >= LONG_STROKE * line_height
        and stats[i][cv2.CC_STAT_HEIGHT] >= TALLER_THAN_PRINT * line_height
    ]
    if spared:
        # Along the middle of its straight runs, the mark is as wide as a wide pen's
        # line: a stamp's frame is a thin line, however bold the lettering joined
        # to it (the corpora's stamps on synthetic photos, stop 31).
        middle = _middle_width(ink)
        ridge = middle > 0
        straight_middle = (lines > 0) & ridge
        spared = [
            i
            for i in spared
            if (widths := middle[straight_middle & (labels == i)]).size
            and float(np.median(widths)) >= WIDE_PEN * line_height
            and not _hollow_frame(
                labels, stats[i], i, float(np.median(middle[ridge & (labels == i)]))
            )
        ]
    if not spared:
        return lines, sides
    pen = np.isin(labels, spared)
    return np.where(pen, 0, lines).astype(np.uint8), np.where(pen, 0, sides).astype(np.uint8)


def _hollow_frame(labels: np.ndarray, stat: np.ndarray, label: int, half_width: float) -> bool:
    """The mark lies along the edges of its smallest rotated rectangle, its middle
    empty: a thick stamp frame's corner or three sides, cut by the band's edges
    (fpdf letters, stop 33: as wide as a felt tip's line, and with less than
    PEN_RULE_SHARE of it found straight, a frame's corner was spared whole and
    scored as a pen's stroke). HOLLOW_SHARE of its pixels within FRAME_LINE line
    widths of the rectangle's edges, in a rectangle FRAME_SPAN line widths across
    or more; a pen's loops and crossings fill the middle of theirs."""
    x, y = stat[cv2.CC_STAT_LEFT], stat[cv2.CC_STAT_TOP]
    w, h = stat[cv2.CC_STAT_WIDTH], stat[cv2.CC_STAT_HEIGHT]
    ys, xs = np.nonzero(labels[y : y + h, x : x + w] == label)
    points = np.column_stack([xs, ys]).astype(np.float32)
    u, v = _in_rectangle(points)
    a, b = _rectangle_size(points)
    line = max(2.0, 2 * half_width)
    if min(a, b) < FRAME_SPAN * line:
        return False
    border = np.minimum(np.minimum(u, a - u), np.minimum(v, b - v))
    return bool(np.mean(border <= FRAME_LINE * line) >= HOLLOW_SHARE)


def _middle_width(ink: np.ndarray) -> np.ndarray:
    """Half the line's width along the middle of each line of ink (0 elsewhere)."""
    distance = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    ridge = (distance >= cv2.dilate(distance, np.ones((3, 3), np.uint8))) & (ink > 0)
    return np.where(ridge, distance, 0.0)


def _erase_printed_shapes(
    ink: np.ndarray, line_height: int, min_area: int, *, blank: bool = False
) -> tuple[np.ndarray, bool]:
    """The drawn shapes erased, and (``blank``) stamps' boxes with what is in them;
    whether a box was blanked."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    printed = [
        i
        for i in range(1, count)
        if stats[i][cv2.CC_STAT_AREA] >= min_area
        and _printed_shape(labels, stats[i], i, line_height)
    ]
    if printed:
        ink = np.where(np.isin(labels, printed), 0, ink).astype(np.uint8)
    boxed = False
    for i in printed if blank else []:
        ys, xs = np.nonzero(labels == i)
        points = np.column_stack([xs, ys]).astype(np.float32)
        corners = cv2.boxPoints(cv2.minAreaRect(points))
        a, b = _rectangle_size(points)
        if min(a, b) >= line_height and _frame(*_in_rectangle(points), a, b):
            # A stamp's frame: its lettering goes with it; a signature crossing
            # the stamp keeps what lies outside the frame.
            inside = np.zeros_like(ink)
            cv2.fillPoly(inside, [np.round(corners).astype(np.int32)], 1)
            ink = np.where(inside > 0, 0, ink).astype(np.uint8)
            boxed = True
    return ink, boxed


def _long_stroke(stat: np.ndarray, line_height: int) -> bool:
    """Longer than a few letters and taller than a line of print (blur merges printed
    letters into word-sized marks, but not taller ones), or very long."""
    w, h = int(stat[cv2.CC_STAT_WIDTH]), int(stat[cv2.CC_STAT_HEIGHT])
    return (
        max(w, h) >= LONG_STROKE * line_height and h >= TALLER_THAN_PRINT * line_height
    ) or w >= VERY_LONG * line_height


def _printed_shape(labels: np.ndarray, stat: np.ndarray, label: int, line_height: int) -> bool:
    """A solid block (a logo), a ring or arc of one (a seal), a frame (a stamp) or a
    straight rule left over from a tilted line: drawn, not written."""
    x, y = stat[cv2.CC_STAT_LEFT], stat[cv2.CC_STAT_TOP]
    w, h, area = stat[cv2.CC_STAT_WIDTH], stat[cv2.CC_STAT_HEIGHT], stat[cv2.CC_STAT_AREA]
    ys, xs = np.nonzero(labels[y : y + h, x : x + w] == label)
    points = np.column_stack([xs, ys]).astype(np.float32)
    (_, _), (side_a, side_b), _ = cv2.minAreaRect(points)
    if max(side_a, side_b) >= line_height and min(side_a, side_b) <= max(3.0, 0.15 * line_height):
        return True  # a straight line, however tilted
    if min(w, h) < 12:
        return False
    # Solid: filling its box (a logo's block) or its outline (a star, a badge). A felt
    # tip's dense scribble can fill as much: what is left of it keeps the band from
    # being called empty (see ``signature._measure_ink``).
    hull = float(cv2.contourArea(cv2.convexHull(points)))
    solid = area > SOLID_FILL * w * h or area > SOLID_HULL * max(hull, 1.0)
    if (solid and _thick(labels[y : y + h, x : x + w] == label, min(w, h))) or _ring_of_lettering(
        xs.astype(np.float64), ys.astype(np.float64), line_height
    ):
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
    return _frame(xs, ys, w, h) or _frame(*_in_rectangle(points), *_rectangle_size(points))


def _thick(mask: np.ndarray, side: int) -> bool:
    """The widest circle inside the mark is wider than a pen's line."""
    widest = float(cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3).max())
    return widest >= max(THICKEST_PEN, THICK_SHAPE * side)


def _frame(xs: np.ndarray, ys: np.ndarray, w: float, h: float) -> bool:
    """Nearly all of the mark on the edge of its box: a frame, or what the band's
    edge left of one (three sides)."""
    border = np.minimum(np.minimum(xs, w - 1 - xs), np.minimum(ys, h - 1 - ys))
    return bool(np.mean(border <= max(3.0, 0.08 * min(w, h))) > 0.85)


def _rectangle_size(points: np.ndarray) -> tuple[float, float]:
    (_, _), (w, h), _ = cv2.minAreaRect(points)
    return float(w), float(h)


def _in_rectangle(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points in the frame of their smallest rotated rectangle (a tilted stamp's
    box, upright), origin at its corner."""
    (cx, cy), (w, h), angle = cv2.minAreaRect(points)
    theta = np.deg2rad(angle)
    dx, dy = points[:, 0] - cx, points[:, 1] - cy
    u = dx * np.cos(theta) + dy * np.sin(theta) + w / 2
    v = -dx * np.sin(theta) + dy * np.cos(theta) + h / 2
    return u, v


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
