"""Stamps' frames: what is a frame, and a frame larger than the signature band,
found round it and blanked where it reaches into the band.

A rubber stamp taller than the band is cut by its top and bottom edges: in the band
its frame is two upright lines, erased as rules, and a row of its capitals run
together scores as a pen's stroke (issue 14: fpdf's stamps on the band harness,
unsigned bands called "signature-like ink", stop 44). Seen round the band the frame
is whole, or three sides of it, as a seal the band cuts is (``seals.erase_cut_seals``).
Thresholds were set on the reportlab, Pillow and fpdf letters of benchmarks/corpora
and their stamps, never on its held-out generator.
"""

from __future__ import annotations

import cv2
import numpy as np

from keyholder.letters.seals import Surroundings

# Rules and frames' sides are level or upright, tilted with the page or the stamp:
# the corpora's stamps are set down at up to 12 degrees, a photo adds a few more.
RULE_TILT = 20.0
# A frame the band cuts is at least CUT_FRAME line heights on its shorter side (in
# sight): the band harness's fpdf stamps measured 5.9-8.9 (seeds 940-942); a stamp
# within the band is the band's own search's.
CUT_FRAME = 3.0
# A frame's side: the mark within FRAME_EDGE of its box's shorter side from the
# edge, along SIDE_DRAWN of the edge's length where SIDE_SEEN of it or more is in
# sight. The box's edges lie at EDGE_PERCENTILES of the mark across them.
FRAME_EDGE = 0.08
SIDE_DRAWN = 0.9
SIDE_SEEN = 0.5
EDGE_PERCENTILES = (1.0, 99.0)


def erase_cut_frames(
    ink: np.ndarray, around: Surroundings, line_height: int
) -> tuple[np.ndarray, bool]:
    """The band with what lies inside the frames found round it blanked, and whether
    one was. A frame is found whole or with one side cut off by the search's edge.
    A signature whose strokes run into the frame makes the two one mark that is no
    frame, and the band is judged as it was."""
    height, width = ink.shape
    top = around.band_top
    count, labels, stats, _ = cv2.connectedComponentsWithStats(around.ink, connectivity=8)
    out, blanked = ink, False
    for i in range(1, count):
        x, y, w, h = (int(v) for v in stats[i][:4])
        reaches_in = x < width and y < top + height and y + h > top
        cut = y < top or y + h > top + height
        if not (reaches_in and cut and min(w, h) >= CUT_FRAME * line_height):
            continue
        ys, xs = np.nonzero(labels[y : y + h, x : x + w] == i)
        box = _framed(np.column_stack([xs + x, ys + y]).astype(np.float64), around.ink.shape)
        if box is None or min(box.size) < CUT_FRAME * line_height:
            continue
        inside = np.zeros_like(ink)
        corners = box.corners() - np.array([0.0, top])
        cv2.fillPoly(inside, [np.round(corners).astype(np.int32)], 1)
        out = np.where(inside > 0, 0, out).astype(np.uint8)
        blanked = True
    return out, blanked


def _framed(points: np.ndarray, shape: tuple[int, ...]) -> _Box | None:
    """The mark's box along its smallest rectangle's tilt, if that stands near level
    or upright and the mark runs along three of its sides or more."""
    rectangle = cv2.minAreaRect(points.astype(np.float32))
    box = _Box(points, rectangle[2])
    return box if near_level_or_upright(rectangle) and box.sides_drawn(shape) >= 3 else None


class _Box:
    """A mark's box along a tilt (``angle``, degrees), its edges taken at the 1st and
    99th percentiles of the mark across them: a photo's specks joined to a stamp's
    frame would widen the smallest rectangle past the frame's sides (band harness
    seed 942, band 61, photo)."""

    def __init__(self, points: np.ndarray, angle: float):
        self._cx, self._cy = (float(c) for c in points.mean(axis=0))
        self._cos, self._sin = np.cos(np.deg2rad(angle)), np.sin(np.deg2rad(angle))
        dx, dy = points[:, 0] - self._cx, points[:, 1] - self._cy
        self.u, self.v = dx * self._cos + dy * self._sin, -dx * self._sin + dy * self._cos
        self.u0, self.u1 = (float(q) for q in np.percentile(self.u, EDGE_PERCENTILES))
        self.v0, self.v1 = (float(q) for q in np.percentile(self.v, EDGE_PERCENTILES))
        self.size = (self.u1 - self.u0, self.v1 - self.v0)

    def _image(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._cx + u * self._cos - v * self._sin, self._cy + u * self._sin + v * self._cos

    def corners(self) -> np.ndarray:
        u = np.array([self.u0, self.u1, self.u1, self.u0])
        v = np.array([self.v0, self.v0, self.v1, self.v1])
        return np.column_stack(self._image(u, v))

    def sides_drawn(self, shape: tuple[int, ...]) -> int:
        """How many of its sides the mark runs along for SIDE_DRAWN of their length in
        sight (``shape``: the image's; a frame the search's edge cuts shows three
        sides, the upright ones shortened as the frame is tilted). A pen's loop
        touches its box at a few points; a stamp's lettering run into its frame
        leaves the sides whole (the "D" of "LTD" touching a frame left 83% of the
        mark on its box's edge: band harness seed 941, band 79)."""
        margin = max(3.0, FRAME_EDGE * min(self.size))
        upright = [
            self._side_drawn(
                self.u, self.v, u, (self.v0, self.v1), margin=margin, shape=shape, upright=True
            )
            for u in (self.u0, self.u1)
        ]
        level = [
            self._side_drawn(
                self.v, self.u, v, (self.u0, self.u1), margin=margin, shape=shape, upright=False
            )
            for v in (self.v0, self.v1)
        ]
        return sum(upright + level)

    def _side_drawn(
        self,
        across: np.ndarray,
        along: np.ndarray,
        at: float,
        span: tuple[float, float],
        *,
        margin: float,
        shape: tuple[int, ...],
        upright: bool,
    ) -> bool:
        """The mark within ``margin`` of the side at ``at`` (across it) along
        SIDE_DRAWN of the side's length in sight, and at least SIDE_SEEN of it in
        sight."""
        t = np.arange(*span)
        fixed = np.full_like(t, at)
        x, y = self._image(fixed, t) if upright else self._image(t, fixed)
        seen = (x >= 0) & (x < shape[1]) & (y >= 0) & (y < shape[0])
        if len(t) == 0 or np.count_nonzero(seen) < SIDE_SEEN * len(t):
            return False
        on_side = np.clip(along[np.abs(across - at) <= margin] - span[0], 0, len(t) - 1)
        covered = np.bincount(on_side.astype(int), minlength=len(t)) > 0
        return bool(np.mean(covered[seen]) >= SIDE_DRAWN)


def frame_shaped(xs: np.ndarray, ys: np.ndarray, w: float, h: float) -> bool:
    """Nearly all of the mark on the edge of its box: a frame, or what the band's
    edge left of one (three sides)."""
    border = np.minimum(np.minimum(xs, w - 1 - xs), np.minimum(ys, h - 1 - ys))
    return bool(np.mean(border <= max(3.0, FRAME_EDGE * min(w, h))) > 0.85)


def near_level_or_upright(rectangle: cv2.typing.RotatedRect) -> bool:
    """Within RULE_TILT degrees of level or of upright, as rules and frames' sides
    stand; a pen's straight stroke leans between (a thin ballpoint "/" at 64 degrees
    was erased as a rule, and small initials with it: Pillow 5502 letter 12)."""
    lean = tilt(rectangle)
    return lean <= RULE_TILT or lean >= 90 - RULE_TILT


def tilt(rectangle: cv2.typing.RotatedRect) -> float:
    """Degrees from level of the rectangle's long side (whatever OpenCV's angle
    convention)."""
    corners = cv2.boxPoints(rectangle)
    sides = [corners[1] - corners[0], corners[2] - corners[1]]
    dx, dy = max(sides, key=lambda side: float(np.hypot(*side)))
    return float(np.degrees(np.arctan2(abs(dy), abs(dx))))
