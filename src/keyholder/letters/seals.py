"""Seals in a signature band: found as circles and blanked whole, in the band or, when
the band cuts them, round it; and what is left of one larger than the band, its
rings cut to arcs by the band's edges. A circle run through a felt tip's loops, a
line far wider than a seal's ring, is not one.

Grainy stamp ink breaks a seal's ring and lettering into pieces that one by one
look like a pen's arcs (issue 14: unsigned letters with a seal called "signature-
like ink"). Thresholds were set on the reportlab, Pillow and fpdf letters of
benchmarks/corpora and their seals, never on its held-out generator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

Circle = tuple[float, float, float]  # centre x, centre y, radius (pixels)

# A piece of a ring: its pixels within ARC_SPREAD of the radius of the circle fitted
# through them.
ARC_SPREAD = 0.04
# Seals are at most SEAL_MAX_RADIUS line heights in radius.
SEAL_MAX_RADIUS = 8.0
# A seal found as a circle (Hough; the SEAL_CANDIDATES strongest) at least
# SEAL_MIN_RADIUS line heights in radius, SEAL_IN_BAND of its ring inside the band
# and SEAL_RING_COVER of that inked. Its edge is the widest ring about it inked for
# SEAL_EDGE_COVER of its length; failing that, SEAL_MARGIN times the circle found.
# Set on the reportlab and Pillow letters (seed 1401) and the corpora's seals.
SEAL_MIN_RADIUS = 1.5
SEAL_IN_BAND = 0.35
SEAL_RING_COVER = 0.75
SMALL_SEAL = 2.5
SMALL_SEAL_COVER = 0.85
# ... and one of them, or a circle within SEAL_RING_SEARCH of its centre and radius
# (a share of the radius), inked SEAL_RING_INKED of its length: the corpora's seals
# measured 0.91-1.0 on synthetic photos and scans, a felt tip's loops 0.75-0.92
# (seeds 112-114).
SEAL_RING_SEARCH = 0.2
SEAL_RING_INKED = 0.9
# ... and its line at most SEAL_RING_LINE line heights wide across the circle
# (``ring_line_width``): a circle through a thick pen's tangle of loops is inked all
# round at every radius near it. On synthetic bands (seeds 784, 786, 787) seals'
# rings alone measured 0.14-0.64 (photos blur two rings into one; a signature across
# a ring widens it), seals drawn with rings 1.3 mm thick 0.21-0.73 and one 1.0, fpdf
# felt tips' loops 0.64-1.43 (median 0.9).
SEAL_RING_LINE = 0.75
RING_REACH = 1.5  # line heights either side of the circle: the widest line measured
RING_SLACK = 3  # pixels: how far off the circle its line is looked for
SEAL_CANDIDATES = 8
# Circles found within SEAL_SAME_CENTRE of a ring's radius from its centre are that
# seal's other rings (fpdf's seals: found up to 0.25 of it apart, seed 789).
SEAL_SAME_CENTRE = 0.5
SEAL_EDGE_COVER = 0.85
# A seal the band cuts through (larger than the band) shows less of its ring: a
# quarter of it (SEAL_CUT_IN_BAND) counts when it is inked nearly all along, and
# its outer edge is looked for with SEAL_EDGE_IN_BAND of the ring in the band.
# (Synthetic bands, seed 61: a seal's ring 28% in the band and inked all along; its
# outer ring, 19%, was missed and the lettering inside it scored as a pen's.)
SEAL_CUT_IN_BAND = 0.2
SEAL_CUT_COVER = 0.95
SEAL_EDGE_IN_BAND = 0.15
# Its edge is looked for out to SEAL_EDGE_REACH times the circle found (a seal's
# outer ring 1.8 times its inner one, fpdf's seals), and ink SEAL_RIM_SHARE on a
# rim SEAL_RIM line heights wide round what was blanked goes with it.
SEAL_EDGE_REACH = 2.0
SEAL_RIM = 0.5
SEAL_RIM_SHARE = 0.85
SEAL_MARGIN = 1.3
# A seal the band cuts, found round it (``erase_cut_seals``), is at least
# CUT_SEAL_RADIUS line heights in radius, too large for the band (3-6 line heights
# high; smaller seals are the band's own search's): fpdf's seals on synthetic bands
# measured 7-11. Round the band a pen's closed loop is whole and inked all round as
# a ring: a felt "D" 2.2 (seed 783, band 5), a felt "B" with the edge search 3.7
# (fpdf letter 3101-0007, photo).
CUT_SEAL_RADIUS = 5.0
# A seal's ring, cut to arcs by the band's edges, is a line at most RING_LINE line
# heights thick about its centre (two thin rings run together, on photos).
RING_LINE = 0.35


def erase_seals(ink: np.ndarray, line_height: int) -> tuple[np.ndarray, list[Circle]]:
    """A seal's disc, blanked whole: its ring drawn round most of a circle, its
    lettering and star inside. Grainy stamp ink breaks the ring and the lettering
    into pieces that one by one look like a pen's arcs (issue 14: unsigned letters
    with a seal called "signature-like ink"). A pen's loop seldom runs round most of
    a circle this large; a signature crossing the seal keeps what lies outside it.
    Also the seals blanked, as their edges' circles."""
    h, w = ink.shape
    low, high = int(SEAL_MIN_RADIUS * line_height), int(SEAL_MAX_RADIUS * line_height)
    if min(h, w) < low or not ink.any():
        return ink, []
    smooth = cv2.GaussianBlur(ink * 255, (5, 5), 1.5)
    found = cv2.HoughCircles(
        smooth, cv2.HOUGH_GRADIENT, dp=2, minDist=max(1, low),
        param1=100, param2=20, minRadius=low, maxRadius=high,
    )  # fmt: skip
    if found is None:
        return ink, []
    near = cv2.dilate(ink, np.ones((5, 5), np.uint8))
    angles = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    out = ink.copy()

    def cover(cx: float, cy: float, radius: float, in_band: float = SEAL_IN_BAND) -> float:
        xs = np.round(cx + radius * np.cos(angles)).astype(int)
        ys = np.round(cy + radius * np.sin(angles)).astype(int)
        inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        if np.mean(inside) < in_band:
            return 0.0
        return float(np.mean(near[ys[inside], xs[inside]] > 0))

    seals = []
    for cx, cy, radius in found[0][:SEAL_CANDIDATES]:
        # A pen's "W" with its underline covered 76% of a circle 1.8 line heights
        # across; the corpora's seals are 3 or more, their rings inked 86% or more.
        small = radius < SMALL_SEAL * line_height
        ringed = cover(cx, cy, radius) >= (SMALL_SEAL_COVER if small else SEAL_RING_COVER)
        # A seal larger than the band shows less of its ring, inked all along.
        cut = not small and cover(cx, cy, radius, SEAL_CUT_IN_BAND) >= SEAL_CUT_COVER
        if ringed or cut:
            seals.append((cx, cy, radius, cut))
    # A seal's ring is one line, inked all round at one radius; a thick pen's tangle
    # of loops covers most of a circle but leaves gaps at every radius near it
    # (felt-tip signatures blanked as seals: synthetic bands, fpdf letters, stop 30),
    # and its line is a stamp's, not a felt tip's, however round the tip's loops run
    # (stop 36).
    # Once one ring is that, every circle found about its centre counts: Hough finds
    # a seal's rings a few pixels off. A circle far from it is a pen's loops beside
    # the seal (seen round the band, a seal and a signature are often both there).
    rings = [
        (cx, cy, radius)
        for cx, cy, radius, cut in seals
        if (cut or _inked_all_round(cover, cx, cy, radius))
        and ring_line_width(ink, cx, cy, radius, line_height) <= SEAL_RING_LINE * line_height
    ]
    seals = [
        seal
        for seal in seals
        if any(
            np.hypot(seal[0] - cx, seal[1] - cy) <= SEAL_SAME_CENTRE * max(seal[2], radius)
            for cx, cy, radius in rings
        )
    ]
    blanked: list[Circle] = []
    for cx, cy, radius, _ in seals:
        # Hough's centre is a few pixels off, and it finds the inner ring as often
        # as the outer: the seal's edge is the widest well-inked ring near there.
        step = max(2.0, radius / 20)
        shifts = np.arange(-0.2 * radius, 0.2 * radius + 1, step)
        edge = max(
            (
                (r, x, y)
                for r in np.arange(radius, SEAL_EDGE_REACH * radius, step)
                for x in cx + shifts
                for y in cy + shifts
                if cover(x, y, r, SEAL_EDGE_IN_BAND) >= SEAL_EDGE_COVER
            ),
            default=(radius * SEAL_MARGIN, cx, cy),
        )
        centre, blank = (int(edge[1]), int(edge[2])), int(edge[0]) + 5
        cv2.circle(out, centre, blank, 0, thickness=-1)
        out = _without_rim(out, centre, blank, line_height)
        blanked.append((float(edge[1]), float(edge[2]), float(edge[0])))
    return out, blanked


@dataclass(frozen=True)
class Surroundings:
    """The ink round a band, where seals the band cuts are looked for: its rows and a
    margin above and below, out to the page's right edge; the band's top left corner
    is at row ``band_top``, column 0."""

    ink: np.ndarray
    band_top: int


def erase_cut_seals(
    ink: np.ndarray, around: Surroundings, line_height: int
) -> tuple[np.ndarray, list[Circle]]:
    """The seals found round the band, blanked where they reach into it. The band
    stops short of the page's right side and is often thinner than a seal, and a seal
    it cuts shows a third of its ring or less: too little to find it by (issue 14:
    most of the unsigned fpdf bands still called "signature-like ink" at stop 33).
    Seen whole, a seal is found as any other; a pen's loops the band cut, which in
    the band's rows alone can pass for a ring inked all round, do not, and a pen's
    closed loop, whole round the band, is smaller than a seal too large for the band.
    Also the seals blanked, in the band's coordinates."""
    height, width = ink.shape
    _, found = erase_seals(around.ink, line_height)
    reaching = [
        (cx, cy - around.band_top, radius)
        for cx, cy, radius in found
        if cx - radius < width
        and -radius < cy - around.band_top < height + radius
        and radius >= CUT_SEAL_RADIUS * line_height
    ]
    out = ink.copy()
    for cx, cy, radius in reaching:
        centre, blank = (int(cx), int(cy)), int(radius) + 5
        cv2.circle(out, centre, blank, 0, thickness=-1)
        out = _without_rim(out, centre, blank, line_height)
    return out, reaching


def _inked_all_round(
    cover: Callable[[float, float, float], float], cx: float, cy: float, radius: float
) -> bool:
    """Some circle near this one (Hough's centre and radius a few pixels off) inked
    SEAL_RING_INKED of its length."""
    step = max(2.0, radius / 20)
    shifts = np.arange(-SEAL_RING_SEARCH * radius, SEAL_RING_SEARCH * radius + 1, step)
    radii = np.arange((1 - SEAL_RING_SEARCH) * radius, (1 + SEAL_RING_SEARCH) * radius + 1, step)
    return any(
        cover(cx + dx, cy + dy, r) >= SEAL_RING_INKED
        for r in radii
        for dx in shifts
        for dy in shifts
    )


def ring_line_width(
    ink: np.ndarray, cx: float, cy: float, radius: float, line_height: int
) -> float:
    """How wide the ink is across the circle, the median over the circle's inked
    points in the band: at each, the run of ink along the radius through it (or
    through the ink within RING_SLACK pixels of it: Hough's circle runs a few pixels
    off a seal's ring, or along a thick line's edge)."""
    h, w = ink.shape
    angles = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    reach = int(RING_REACH * line_height) + RING_SLACK
    offsets = np.arange(-reach, reach + 1)
    xs = np.round(cx + (radius + offsets[None, :]) * np.cos(angles)[:, None]).astype(int)
    ys = np.round(cy + (radius + offsets[None, :]) * np.sin(angles)[:, None]).astype(int)
    inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    profile = np.zeros(xs.shape, dtype=bool)
    profile[inside] = ink[ys[inside], xs[inside]] > 0
    # Each inked point's run: counted forward and backward along the radius.
    forward, backward = np.zeros(profile.shape, int), np.zeros(profile.shape, int)
    for k in range(offsets.size):
        forward[:, k] = (forward[:, k - 1] + 1 if k else 1) * profile[:, k]
        j = offsets.size - 1 - k
        backward[:, j] = (backward[:, j + 1] + 1 if k else 1) * profile[:, j]
    runs = np.where(profile, forward + backward - 1, 0)
    middle = runs[:, reach - RING_SLACK : reach + RING_SLACK + 1].max(axis=1)
    in_band = inside[:, reach]
    across = middle[in_band & (middle > 0)]
    return float(np.median(across)) if across.size else 0.0


def _without_rim(
    ink: np.ndarray, centre: tuple[int, int], radius: int, line_height: int
) -> np.ndarray:
    """Ink left just outside a blanked seal that lies nearly all along its rim: the
    outer edge of a thick ring whose centre was found a few pixels off (held-out
    fpdf seals, stop 29). A stroke crossing the seal runs out of the rim and stays."""
    rim = np.zeros_like(ink)
    cv2.circle(rim, centre, radius + max(4, int(SEAL_RIM * line_height)), 1, thickness=-1)
    cv2.circle(rim, centre, radius, 0, thickness=-1)
    count, labels = cv2.connectedComponents(ink, connectivity=8)
    if count <= 1:
        return ink
    total = np.bincount(labels.ravel(), minlength=count)
    on_rim = np.bincount(labels[rim > 0], minlength=count)
    rim_only = np.flatnonzero(on_rim >= SEAL_RIM_SHARE * np.maximum(total, 1))
    rim_only = rim_only[rim_only > 0]
    return np.where(np.isin(labels, rim_only), 0, ink).astype(np.uint8) if rim_only.size else ink


def seal_ring_pieces(
    labels: np.ndarray,
    stats: np.ndarray,
    long: list[int],
    seals: list[Circle],
    line_height: int,
) -> set[int]:
    """The long marks that are pieces of a seal's rings: each a thin arc (RING_LINE)
    about the centre of a seal blanked or of another long mark that is one. The band's
    edges cut a seal larger than the band down to arcs of its inner and outer rings
    that no circle is found through (fpdf seals on synthetic bands, stop 31: one
    unsigned band in fifteen called "signature-like ink"). A pen's flourish may be
    an arc; two about one centre, or one about a seal's, it seldom is."""
    pixels = {}
    for i in long:
        x, y = stats[i][cv2.CC_STAT_LEFT], stats[i][cv2.CC_STAT_TOP]
        w, h = stats[i][cv2.CC_STAT_WIDTH], stats[i][cv2.CC_STAT_HEIGHT]
        ys, xs = np.nonzero(labels[y : y + h, x : x + w] == i)
        pixels[i] = ((xs + x).astype(np.float64), (ys + y).astype(np.float64))
    largest = SEAL_EDGE_REACH * SEAL_MAX_RADIUS * line_height

    def arc_about(i: int, cx: float, cy: float) -> bool:
        distance = np.hypot(pixels[i][0] - cx, pixels[i][1] - cy)
        radius, spread = float(distance.mean()), float(distance.std())
        return SEAL_MIN_RADIUS * line_height <= radius <= largest and spread < min(
            ARC_SPREAD * radius, RING_LINE * line_height
        )

    pieces = {i for i in long for cx, cy, _ in seals if arc_about(i, cx, cy)}
    for n, i in enumerate(long):
        for j in long[n + 1 :]:
            cx, cy = _common_centre(pixels[i], pixels[j])
            if arc_about(i, cx, cy) and arc_about(j, cx, cy):
                pieces |= {i, j}
    return pieces


def _common_centre(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> tuple[float, float]:
    """The centre of the two concentric circles (radii free) that fit the two sets of
    points best (Kasa's algebraic fit, one centre for both)."""
    (ax, ay), (bx, by) = a, b
    matrix = np.block(
        [
            [ax[:, None], ay[:, None], np.ones((ax.size, 1)), np.zeros((ax.size, 1))],
            [bx[:, None], by[:, None], np.zeros((bx.size, 1)), np.ones((bx.size, 1))],
        ]
    )
    target = np.concatenate([ax * ax + ay * ay, bx * bx + by * by])
    (p, q, _, _), *_ = np.linalg.lstsq(matrix, target, rcond=None)
    return float(p / 2), float(q / 2)


def circle(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float, float]:
    """Centre and radius of the least-squares circle through the points (Kasa's fit)."""
    matrix = np.column_stack([xs, ys, np.ones_like(xs)])
    (a, b, c), *_ = np.linalg.lstsq(matrix, xs * xs + ys * ys, rcond=None)
    cx, cy = a / 2, b / 2
    return float(cx), float(cy), float(np.sqrt(max(c + cx * cx + cy * cy, 0.0)))
