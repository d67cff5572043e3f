"""Ruled lines and the sides of stamps' frames in a signature band, level or tilted as
a rubber stamp is, erased; a wide pen's strokes, which hold straight runs as long,
spared (issue 14). Thresholds were set on the reportlab, Pillow and fpdf letters of
benchmarks/corpora and their stamps, never on its held-out generator.
"""

from __future__ import annotations

import cv2
import numpy as np

from keyholder.letters.band_marks import LONG_STROKE, TALLER_THAN_PRINT

# Rules and stamp frames are looked for at these tilts (degrees).
RULE_TILTS = (0, -2, 2, -4, 4, -6, 6, -8, 8, -10, 10, -12, 12, -14, 14)
TILTED_RULE = (4.0, 4.0)  # line heights: horizontal, vertical
LEVEL_RULE = (3.0, 3.0)  # level and upright

# A mark taller than print whose straight runs (rules, frames' sides) are less than
# this share of it is a pen's stroke and stays whole. Set on the fpdf letters (seed
# 3001: its felt-tip signatures 0.46-0.73, its stamps' frames with their lettering
# 0.76-1.0) and synthetic bands (seeds 721-726), never on the held-out generator.
PEN_RULE_SHARE = 0.8
# ... and whose straight runs are a wide pen's line: half of it at least WIDE_PEN
# line heights along its middle (fpdf's felt and gel signatures 0.17-0.55, the
# corpora's stamp frames 0.13).
WIDE_PEN = 0.15
# ... or whose straight runs RUN_WIDTHS times its line's width long are: fpdf felt
# signatures a line height wide, on scans and photos, held runs of a rule's length
# over 92-96% of them, and 64-75% of runs eight line widths long (seeds 786, 789).
RUN_WIDTHS = 8.0
# ... unless it is a hollow frame (``_hollow_frame``): fpdf's thick stamp frames cut
# to a corner or three sides had all their pixels within 1.5 line widths of their
# rectangle's edges, a rectangle 7-8 line widths across (letters 3101-0006 and
# -0021).
HOLLOW_SHARE = 0.9
FRAME_LINE = 1.5
FRAME_SPAN = 5.0


def erase_rules(ink: np.ndarray, line_height: int) -> tuple[np.ndarray, bool]:
    """Straight lines, level or tilted as a rubber stamp is (RULE_TILTS): level and
    upright runs of three line heights, tilted ones of TILTED_RULE. Faint ink joins
    a stamp's frame to its lettering; the frame's sides go, the letters stay letters.
    Also whether anything but a level rule went: a frame's side, tilted or upright."""
    lines, sides = _straight_runs(ink, line_height)
    lines, sides = _pen_strokes_spared(ink, lines, sides, line_height)
    left = np.asarray(cv2.subtract(ink, lines))
    return np.ascontiguousarray(left), bool(np.any(sides & ink))


def _straight_runs(
    ink: np.ndarray, line_height: int, at_least: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The ink on straight runs (RULE_TILTS; at least ``at_least`` line heights
    long), and those of them tilted or upright: a frame's side, not a signature
    line's."""
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
    sides = np.zeros_like(ink)
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
        long = TILTED_RULE if angle else LEVEL_RULE
        for size in (
            (max(15, int(max(long[0], at_least) * line_height)), 1),
            (1, max(15, int(max(long[1], at_least) * line_height))),
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
    return lines[band], sides[band]


def _pen_strokes_spared(
    ink: np.ndarray, lines: np.ndarray, sides: np.ndarray, line_height: int
) -> tuple[np.ndarray, np.ndarray]:
    """The straight runs found, less those inside a pen's stroke: a mark taller than
    print (LONG_STROKE by TALLER_THAN_PRINT line heights) that straight runs make up
    less than PEN_RULE_SHARE of, in runs of a rule's length or of RUN_WIDTHS times
    its line's width. A felt tip's or marker's line is wide enough to hold straight
    runs of a rule's length along its downstrokes and its underline, and cutting
    them out left the signature as letter-sized pieces (issue 14: fpdf letters, stop
    31); a rule, a frame's side or a logo's bar is nearly all run."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1 or not lines.any():
        return lines, sides
    total = np.bincount(labels.ravel(), minlength=count)
    straight = np.bincount(labels[(lines > 0) & (ink > 0)], minlength=count)
    # Within a quarter of a line height of the band's sides: the sheet's edge on a
    # photo (ragged, and straight enough to be a frame's side), not a pen's stroke.
    margin, width = line_height // 4, ink.shape[1]
    candidates = [
        i
        for i in range(1, count)
        if straight[i] > 0
        and stats[i][cv2.CC_STAT_LEFT] > margin
        and stats[i][cv2.CC_STAT_LEFT] + stats[i][cv2.CC_STAT_WIDTH] < width - margin
        and max(stats[i][cv2.CC_STAT_WIDTH], stats[i][cv2.CC_STAT_HEIGHT])
        >= LONG_STROKE * line_height
        and stats[i][cv2.CC_STAT_HEIGHT] >= TALLER_THAN_PRINT * line_height
    ]
    if not candidates:
        return lines, sides
    middle = middle_width(ink)
    ridge = middle > 0
    spared = [
        i
        for i in candidates
        if straight[i] < PEN_RULE_SHARE * total[i]
        or _straight_in_its_width(labels, stats[i], i, middle, line_height)
        < PEN_RULE_SHARE * total[i]
    ]
    if spared:
        # Along the middle of its straight runs, the mark is as wide as a wide pen's
        # line: a stamp's frame is a thin line, however bold the lettering joined
        # to it (the corpora's stamps on synthetic photos, stop 31).
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


def _straight_in_its_width(
    labels: np.ndarray, stat: np.ndarray, label: int, middle: np.ndarray, line_height: int
) -> int:
    """How much of the mark lies on straight runs RUN_WIDTHS times its line's width
    long (its width: twice the median along its middle). A line a line height wide
    holds runs of a rule's length across its letters where they run together,
    nearly all of it (fpdf felt signatures on scans and photos, stop 36); a rule or
    a frame's side is that long for its width, a pen's letters are not. Runs longer
    than half the mark are not asked for: a thick frame's side, five line heights
    long and as wide as a felt tip's line, held none and was spared (seed 795, band
    127)."""
    x, y = stat[cv2.CC_STAT_LEFT], stat[cv2.CC_STAT_TOP]
    w, h = stat[cv2.CC_STAT_WIDTH], stat[cv2.CC_STAT_HEIGHT]
    mark = (labels[y : y + h, x : x + w] == label).astype(np.uint8)
    along = middle[y : y + h, x : x + w][(mark > 0) & (middle[y : y + h, x : x + w] > 0)]
    runs = RUN_WIDTHS * 2 * float(np.median(along)) / line_height if along.size else 0.0
    runs = min(runs, max(w, h) / 2 / line_height)
    if runs <= min(*TILTED_RULE, *LEVEL_RULE):
        return int(np.count_nonzero(mark))  # runs no longer than a rule's: nothing spares it
    found, _ = _straight_runs(mark, line_height, at_least=runs)
    return int(np.count_nonzero(found & mark))


def _hollow_frame(labels: np.ndarray, stat: np.ndarray, label: int, half_width: float) -> bool:
    """The mark lies along the edges of a rectangle round it, its middle empty: a
    thick stamp frame's corner or three sides, cut by the band's edges (fpdf letters,
    stop 33: as wide as a felt tip's line, and with less than PEN_RULE_SHARE of it
    found straight, a frame's corner was spared whole and scored as a pen's stroke).
    HOLLOW_SHARE of its pixels within FRAME_LINE line widths of the rectangle's
    edges, in a rectangle FRAME_SPAN line widths across or more; a pen's loops and
    crossings fill the middle of theirs. The rectangle is the smallest rotated one,
    or one tilted as a stamp is (RULE_TILTS): the smallest round a corner lies along
    its diagonal, and a scanned frame's corner was spared (fpdf 5201 letter 6)."""
    x, y = stat[cv2.CC_STAT_LEFT], stat[cv2.CC_STAT_TOP]
    w, h = stat[cv2.CC_STAT_WIDTH], stat[cv2.CC_STAT_HEIGHT]
    ys, xs = np.nonzero(labels[y : y + h, x : x + w] == label)
    points = np.column_stack([xs, ys]).astype(np.float32)
    line = max(2.0, 2 * half_width)
    rectangles = [(*in_rectangle(points), *rectangle_size(points))]
    rectangles += [_in_tilted_box(points, angle) for angle in RULE_TILTS]
    for u, v, a, b in rectangles:
        if min(a, b) < FRAME_SPAN * line:
            continue
        border = np.minimum(np.minimum(u, a - u), np.minimum(v, b - v))
        if np.mean(border <= FRAME_LINE * line) >= HOLLOW_SHARE:
            return True
    return False


def _in_tilted_box(points: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The points turned by ``angle`` degrees, origin at the corner of the upright box
    round them, and that box's width and height."""
    theta = np.deg2rad(angle)
    u = points[:, 0] * np.cos(theta) + points[:, 1] * np.sin(theta)
    v = -points[:, 0] * np.sin(theta) + points[:, 1] * np.cos(theta)
    u, v = u - u.min(), v - v.min()
    return u, v, float(u.max()), float(v.max())


def middle_width(ink: np.ndarray) -> np.ndarray:
    """Half the line's width along the middle of each line of ink (0 elsewhere)."""
    distance = cv2.distanceTransform(ink, cv2.DIST_L2, 3)
    ridge = (distance >= cv2.dilate(distance, np.ones((3, 3), np.uint8))) & (ink > 0)
    return np.where(ridge, distance, 0.0)


def rectangle_size(points: np.ndarray) -> tuple[float, float]:
    (_, _), (w, h), _ = cv2.minAreaRect(points)
    return float(w), float(h)


def in_rectangle(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points in the frame of their smallest rotated rectangle (a tilted stamp's
    box, upright), origin at its corner."""
    (cx, cy), (w, h), angle = cv2.minAreaRect(points)
    theta = np.deg2rad(angle)
    dx, dy = points[:, 0] - cx, points[:, 1] - cy
    u = dx * np.cos(theta) + dy * np.sin(theta) + w / 2
    v = -dx * np.sin(theta) + dy * np.cos(theta) + h / 2
    return u, v
