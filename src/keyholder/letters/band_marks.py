"""Measures of the marks left in a signature band: how signature-like they score, which
pieces belong together, which of the band's edges they reach, how much ink is there,
and which are print's shapes rather than a pen's (a row of capitals, a straight bar)."""

from __future__ import annotations

import cv2
import numpy as np

# A long stroke (in line heights): at least LONG_STROKE long and TALLER_THAN_PRINT
# tall (printed words that blur merges stay a line high), or VERY_LONG wide.
# Set on calibration seed 7 with clutter in the band (--unsigned 300): stamp
# lettering and logo names measured up to ~1.0 line high, generated signatures'
# strokes 1.2 or more.
LONG_STROKE = 1.5
TALLER_THAN_PRINT = 1.1
VERY_LONG = 6.0
# A photo breaks a thin stroke into letter-sized pieces (issue 14): the marks
# within NEAR line heights of a long stroke (or of a mark near one) are judged
# with it, as one signature; not where drawn marks were erased, whose lettering
# lies that near their leftover strokes (a seal's, on synthetic photos).
NEAR = 0.5
# Initials: one stroke this wide and high (line heights), its line at most
# INITIALS_LINE line heights thick, filling at most INITIALS_FILL of its box. Set on
# synthetic bands (benchmarks/signature_bands.py, seeds 21-23: initials and small
# signatures 1.0-2.7 wide, 1.4-3.3 high, 0.10-0.28 thick; a stamp's fused capitals
# 0.34-0.38 thick, filling 0.5-0.9), never on the held-out generator.
INITIALS_SIZE = (1.0, 1.4)
INITIALS_LINE = 0.3
INITIALS_FILL = 0.5
# A row of print: a stamp's tilted capitals run together into one mark are as tall
# as a pen's stroke in the band (tilt makes their box taller), but along their own
# tilt they are one letter high, PRINT_ROW line heights at most, and their top and
# bottom outlines run level with it: ROW_EDGE of the mark's columns within
# ROW_EDGE_SPREAD line heights of its cap line and of its baseline. Set on fpdf's
# stamps on synthetic bands (seed 761: rows 0.99-1.30 high, both outlines level in
# 0.49-0.89 of the columns; of its 322 signature strokes, 2 passed both tests),
# never on the held-out generator.
PRINT_ROW = 1.35
ROW_EDGE = 0.45
ROW_EDGE_SPREAD = 0.12
ROW_TILT = 15.0
# A stamp's frame cut by the band's edges leaves pieces of its sides too short to be
# rules: bars at most BAR_WIDTH line heights wide and BAR_LENGTH times as long
# (fpdf's stamps on synthetic bands, seed 781: 0.16-0.32 wide, 2.0-2.8 long).
BAR_WIDTH = 0.35
BAR_LENGTH = 4.0
# ... or a line that wide whose box is at most BAR_SPREAD times its line's width
# across: straight, however frayed its edges (a pen's curve's box is far wider).
BAR_SPREAD = 1.5
# A stamp's bold capitals run together by grainy ink: long strokes under 1.6 line
# heights high filling 0.4 of their box or more (fpdf's stamps on synthetic bands,
# seed 723: 1.2-1.4 high, filling 0.44-0.60; its signatures' strokes filled
# 0.12-0.33) are "unclear" at most.
BOLD_LETTERING = (1.6, 0.4)
# Long strokes are clear of drawn marks (and initials among them count as
# signature-like ink) where the drawn-mark rules erased less than INITIALS_BESIDE
# beside them, in line heights squared: a piece of the initials taken for a seal's
# arc (1.1 on a development photo), not a stamp's or a logo's worth (4-25 on
# synthetic bands). Where a drawn mark was erased from the band, only what lies
# within CLEAR_OF_DRAWN line heights of the strokes is counted: a logo's name lies
# about a line height from its block.
INITIALS_BESIDE = 1.5
CLEAR_OF_DRAWN = 3.0


def touching_edges(marks: list[np.ndarray], height: int) -> frozenset[str]:
    """The band's edges ("top", "bottom") that the marks reach."""
    return frozenset(
        edge
        for edge, touching in (
            ("top", any(m[cv2.CC_STAT_TOP] <= 1 for m in marks)),
            (
                "bottom",
                any(m[cv2.CC_STAT_TOP] + m[cv2.CC_STAT_HEIGHT] >= height - 1 for m in marks),
            ),
        )
        if touching
    )


def min_mark_area(line_height: int) -> int:
    """The smallest mark measured: smaller ones are dust and JPEG noise."""
    return max(6, (line_height * line_height) // 60)


def ink_beside_level_rules(ink: np.ndarray, line_height: int, min_area: int) -> float:
    """The ink in marks of at least ``min_area`` pixels, in line heights squared, once
    only level rules (a printed signature line) are taken out: nothing erased as drawn."""
    return float(_areas_beside_level_rules(ink, line_height, min_area).sum()) / line_height**2


def largest_beside_level_rules(ink: np.ndarray, line_height: int, min_area: int) -> float:
    """The largest of those marks, in line heights squared (0 for none)."""
    areas = _areas_beside_level_rules(ink, line_height, min_area)
    return float(areas.max(initial=0)) / line_height**2


def _areas_beside_level_rules(ink: np.ndarray, line_height: int, min_area: int) -> np.ndarray:
    run = cv2.getStructuringElement(cv2.MORPH_RECT, (max(15, 3 * line_height), 1))
    left = cv2.subtract(ink, cv2.morphologyEx(ink, cv2.MORPH_OPEN, run))
    _, _, stats, _ = cv2.connectedComponentsWithStats(left, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    return np.asarray(areas[areas >= min_area])


def near_marks(
    kept: list[np.ndarray], marks: list[np.ndarray], line_height: int
) -> list[np.ndarray]:
    """The long strokes and the marks within NEAR line heights of them, or of marks
    near them: the pieces of one signature, judged together."""
    reach = NEAR * line_height
    group = list(kept)
    taken = {tuple(int(v) for v in k) for k in kept}
    left = [m for m in marks if tuple(int(v) for v in m) not in taken]
    grown = True
    while grown and left:
        grown = False
        rest = []
        for mark in left:
            if any(_gap(mark, g) <= reach for g in group):
                group.append(mark)
                grown = True
            else:
                rest.append(mark)
        left = rest
    return group


def _gap(a: np.ndarray, b: np.ndarray) -> float:
    """The distance between two marks' boxes (0 where they overlap)."""
    ax, ay, aw, ah = (int(a[k]) for k in _BOX)
    bx, by, bw, bh = (int(b[k]) for k in _BOX)
    dx = max(0, max(ax, bx) - min(ax + aw, bx + bw))
    dy = max(0, max(ay, by) - min(ay + ah, by + bh))
    return float(np.hypot(dx, dy))


_BOX = (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT)


def stroke_score(
    kept: list[np.ndarray], group: list[np.ndarray], line_height: int
) -> tuple[float, tuple[int, int, int, int], int]:
    """The score of the long strokes ``kept`` with the marks ``group`` judged with
    them (``kept`` among them), the group's box and its ink pixels."""
    left = int(min(s[cv2.CC_STAT_LEFT] for s in group))
    top = int(min(s[cv2.CC_STAT_TOP] for s in group))
    right = int(max(s[cv2.CC_STAT_LEFT] + s[cv2.CC_STAT_WIDTH] for s in group))
    bottom = int(max(s[cv2.CC_STAT_TOP] + s[cv2.CC_STAT_HEIGHT] for s in group))
    ink_pixels = int(sum(s[cv2.CC_STAT_AREA] for s in group))
    largest = int(max(s[cv2.CC_STAT_WIDTH] for s in kept))
    score = _score(ink_pixels, right - left, bottom - top, largest, line_height)
    return score, (left, top, right, bottom), ink_pixels


def _score(ink_pixels: int, width: int, height: int, largest: int, line_height: int) -> float:
    """Roughly 1 for a small handwritten signature, more for bigger ones, ~0 for specks.

    Three things must all be there: enough ink (a line height squared is a few
    letters' worth), a spread at least a few letters wide, and one stroke that
    is long on its own (noise and dust are many short specks).
    """
    amount = ink_pixels / (1.5 * line_height * line_height)
    spread = width / (4 * line_height)
    stroke = largest / (1.5 * line_height)
    tall = height / (0.8 * line_height)
    product = min(amount, 3.0) * min(spread, 2.0) * min(stroke, 2.0) * min(tall, 1.5)
    return float(product**0.5)


def long_stroke(stat: np.ndarray, line_height: int) -> bool:
    """Longer than a few letters and taller than a line of print (blur merges printed
    letters into word-sized marks, but not taller ones), or very long."""
    w, h = int(stat[cv2.CC_STAT_WIDTH]), int(stat[cv2.CC_STAT_HEIGHT])
    return (
        max(w, h) >= LONG_STROKE * line_height and h >= TALLER_THAN_PRINT * line_height
    ) or w >= VERY_LONG * line_height


def bold_lettering(kept: list[np.ndarray], line_height: int) -> bool:
    """Every long stroke is short and dense: no taller than BOLD_LETTERING[0] line
    heights and filling BOLD_LETTERING[1] of its box, as a stamp's bold capitals
    that grainy ink ran together. A pen's strokes, even initials, are taller or
    leave most of their box empty."""
    tall, fill = BOLD_LETTERING
    return all(
        s[cv2.CC_STAT_HEIGHT] < tall * line_height
        and s[cv2.CC_STAT_AREA] >= fill * s[cv2.CC_STAT_WIDTH] * s[cv2.CC_STAT_HEIGHT]
        for s in kept
    )


def printed_row(stat: np.ndarray, ink: np.ndarray, line_height: int) -> bool:
    """The mark in ``stat``'s box is a row of printed capitals: one letter high along
    its own tilt (a stamp's, at most ROW_TILT degrees), its top and bottom outlines
    level (see PRINT_ROW). Handwriting keeps neither a cap line nor a baseline."""
    points = _largest_in_box(stat, ink)
    if points is None:
        return False
    (cx, cy), (_, short), angle = _lengthwise(points)
    if short > PRINT_ROW * line_height or abs(angle) > ROW_TILT:
        return False
    # Along the row: u runs with it, v across it (downwards).
    theta = np.deg2rad(angle)
    xs, ys = points[:, 0] - cx, points[:, 1] - cy
    u = np.round(xs * np.cos(theta) + ys * np.sin(theta)).astype(int)
    v = -xs * np.sin(theta) + ys * np.cos(theta)
    u -= u.min()
    top = np.full(u.max() + 1, np.inf)
    bottom = np.full(u.max() + 1, -np.inf)
    np.minimum.at(top, u, v)
    np.maximum.at(bottom, u, v)
    inked = np.isfinite(top)
    top, bottom = top[inked], bottom[inked]
    # The cap line and the baseline: where most columns' outlines end (a few
    # letters, A's apex or a V's point, reach past them).
    spread = ROW_EDGE_SPREAD * line_height
    level_top = np.mean(np.abs(top - np.percentile(top, 20)) <= spread)
    level_bottom = np.mean(np.abs(bottom - np.percentile(bottom, 80)) <= spread)
    return bool(min(level_top, level_bottom) >= ROW_EDGE)


def straight_bar(stat: np.ndarray, ink: np.ndarray, line_height: int) -> bool:
    """The mark in ``stat``'s box is a straight bar: at most BAR_WIDTH line heights
    wide along its length, and BAR_LENGTH times as long, at any tilt. Beside a
    stamp's erased frame or box, what the band's edge left of its sides too short
    to be taken for rules."""
    points = _largest_in_box(stat, ink)
    if points is None:
        return False
    _, (long, short), _ = _lengthwise(points)
    if short <= BAR_WIDTH * line_height and long >= BAR_LENGTH * max(short, 1.0):
        return True
    # A scanner's grain frays a thick side's edges, and its box grows wider than its
    # line (fpdf 5201 letter 6, scan: boxes 0.37-0.38 line heights across, lines
    # 0.29-0.32): the line's width is its area over its length.
    width = len(points) / max(long, 1.0)
    return (
        width <= BAR_WIDTH * line_height
        and short <= BAR_SPREAD * width
        and long >= BAR_LENGTH * max(width, 1.0)
    )


def _largest_in_box(stat: np.ndarray, ink: np.ndarray) -> np.ndarray | None:
    """The pixels (x, y) of the largest mark in ``stat``'s box."""
    x, y, w, h = (int(stat[k]) for k in _BOX)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(ink[y : y + h, x : x + w] > 0, dtype=np.uint8), connectivity=8
    )
    if count <= 1:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    ys, xs = np.nonzero(labels == largest)
    return np.column_stack([xs, ys]).astype(np.float32)


def _lengthwise(points: np.ndarray) -> tuple[tuple[float, float], tuple[float, float], float]:
    """The points' smallest rotated rectangle: centre, (length, width), and the tilt of
    its length in degrees (-90 to 90, 0 level)."""
    (cx, cy), (long, short), angle = cv2.minAreaRect(points)
    if long < short:
        long, short, angle = short, long, angle + 90
    return (cx, cy), (long, short), (angle + 90) % 180 - 90


def written_initials(kept: list[np.ndarray], ink: np.ndarray, line_height: int) -> bool:
    """A stroke shaped as a pen writes initials: at least INITIALS_SIZE line heights
    wide and high (taller than print), with a pen's thin line (INITIALS_LINE line
    heights, area over half the outline) and not filling its box. Printed letters
    stay under the height; a stamp's fused capitals are thick and solid."""
    for stat in kept:
        x, y, w, h = (int(stat[k]) for k in _BOX)
        if w < INITIALS_SIZE[0] * line_height or h < INITIALS_SIZE[1] * line_height:
            continue
        area = int(stat[cv2.CC_STAT_AREA])
        if area > INITIALS_FILL * w * h:
            continue
        mask = np.ascontiguousarray(ink[y : y + h, x : x + w] > 0, dtype=np.uint8)
        outlines, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        outline = sum(cv2.arcLength(c, True) for c in outlines)
        if 2 * area / max(outline, 1.0) <= INITIALS_LINE * line_height:
            return True
    return False


def clear_of_drawn(
    ink: np.ndarray,
    kept: list[np.ndarray],
    marks: list[np.ndarray],
    line_height: int,
    *,
    anything_drawn: bool,
) -> bool:
    """No drawn mark erased near the long strokes ``kept``: no stamp, seal or logo
    whose leftovers they could be. ``marks`` are what the drawn-mark rules left of
    ``ink``; ``anything_drawn``, that they erased a drawn mark somewhere in the band
    (issue 14: initials at one end of the band and a seal at the other were never
    taken, Pillow 5502 letter 1)."""
    if anything_drawn:
        ink, marks = _round_the_strokes(ink, kept, marks, CLEAR_OF_DRAWN * line_height)
    left = sum(int(m[cv2.CC_STAT_AREA]) for m in marks) / line_height**2
    erased = ink_beside_level_rules(ink, line_height, min_mark_area(line_height)) - left
    return erased < INITIALS_BESIDE


def _round_the_strokes(
    ink: np.ndarray, kept: list[np.ndarray], marks: list[np.ndarray], margin: float
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The ink and the marks within ``margin`` pixels of the long strokes' box, the
    box grown over the whole of every mark it reaches (so that the ink counted and
    the marks left are of the same place)."""
    left = int(min(s[cv2.CC_STAT_LEFT] for s in kept) - margin)
    top = int(min(s[cv2.CC_STAT_TOP] for s in kept) - margin)
    right = int(max(s[cv2.CC_STAT_LEFT] + s[cv2.CC_STAT_WIDTH] for s in kept) + margin)
    bottom = int(max(s[cv2.CC_STAT_TOP] + s[cv2.CC_STAT_HEIGHT] for s in kept) + margin)
    reached = [m for m in marks if _gap(m, np.array([left, top, right - left, bottom - top])) == 0]
    for m in reached:
        x, y, w, h = (int(m[k]) for k in _BOX)
        left, top, right, bottom = min(left, x), min(top, y), max(right, x + w), max(bottom, y + h)
    left, top = max(0, left), max(0, top)
    near = np.zeros_like(ink)
    near[top:bottom, left:right] = ink[top:bottom, left:right]
    return near, reached
