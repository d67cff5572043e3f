"""A pen's stroke that a photo broke into pieces, joined again by direction.

A phone photo blurs a thin ballpoint line and its JPEG smears it: what is left
above the paper's noise is a row of letter-sized pieces, each of which the
drawn-marks rules may then take for a printed shape (issue 14). Where the ends
of two pieces point at each other across a short gap, and the gap is a little
darker than the paper, they are one stroke: the gap is inked again. Distance
alone would join a stamp's letters to each other; direction does not, since
letters' strokes end side by side, not head to head. Thresholds were set on the
reportlab and Pillow letters of benchmarks/corpora, never on its held-out
generator.
"""

from __future__ import annotations

import cv2
import numpy as np

# Ends at most JOIN_REACH line heights apart (and at least MIN_REACH pixels), each
# pointing at the other within POINTING degrees, are joined; the direction of an
# end is taken from the centre line's last TANGENT line heights (at least
# MIN_TANGENT pixels).
JOIN_REACH = 0.6
MIN_REACH = 6
POINTING = 35.0
TANGENT = 0.3
MIN_TANGENT = 5
# Pieces smaller than this many pixels have no direction to speak of (specks).
MIN_PIECE = 12
# The gap must be darker than the paper by GAP_EVIDENCE times the band's noise
# (the faint trace a blurred stroke leaves between its pieces).
GAP_EVIDENCE = 1.5
# A band with more ends than this is speckle (a dithered fax, a photocopy's
# toner dust), not a broken line: left alone (the pairing is quadratic).
MAX_ENDS = 1000


def join_broken(ink: np.ndarray, dark: np.ndarray, line_height: int) -> np.ndarray:
    """``ink`` with the gaps between pieces of one broken stroke inked again."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count < 3:
        return ink
    big = stats[:, cv2.CC_STAT_AREA] >= MIN_PIECE
    big[0] = False
    if np.count_nonzero(big) < 2:
        return ink
    pieces = np.where(big[labels], ink, 0).astype(np.uint8)
    skeleton = thin(pieces)
    ends = _ends(skeleton)
    if not 2 <= len(ends) <= MAX_ENDS:
        return ink
    reach = max(MIN_REACH, JOIN_REACH * line_height)
    radius = max(MIN_TANGENT, TANGENT * line_height)
    ys, xs = np.nonzero(skeleton)
    point_labels = labels[ys, xs]
    end_labels = labels[ends[:, 0], ends[:, 1]]
    directions = np.zeros((len(ends), 2), dtype=np.float64)
    for i, (y, x) in enumerate(ends):
        same = point_labels == end_labels[i]
        near = same & (np.abs(ys - y) <= radius) & (np.abs(xs - x) <= radius)
        if np.count_nonzero(near) < 3:
            continue
        vector = np.array([x - xs[near].mean(), y - ys[near].mean()])
        length = float(np.hypot(*vector))
        if length > 0.5:
            directions[i] = vector / length
    points = ends[:, ::-1].astype(np.float64)  # x, y
    gaps = points[None, :, :] - points[:, None, :]  # from i to j
    distance = np.hypot(gaps[..., 0], gaps[..., 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = gaps / distance[..., None]
    cosine = np.cos(np.deg2rad(POINTING))
    forward = np.einsum("ik,ijk->ij", directions, unit)  # i's end points at j
    backward = forward.T  # j's end points at i
    candidates = (
        (distance <= reach)
        & (end_labels[:, None] != end_labels[None, :])
        & (forward >= cosine)
        & (backward >= cosine)
    )
    pairs = np.argwhere(np.triu(candidates))
    if len(pairs) == 0:
        return ink
    paper = float(np.median(dark))
    noise = 1.4826 * float(np.median(np.abs(dark.astype(np.float32) - paper)))
    evidence = paper + GAP_EVIDENCE * max(noise, 1.0)
    joined = ink.copy()
    used: set[int] = set()
    for i, j in sorted(pairs.tolist(), key=lambda p: distance[p[0], p[1]]):
        if i in used or j in used:
            continue
        if not _dark_gap(dark, points[i], points[j], evidence):
            continue
        used.update((i, j))
        a = (int(points[i][0]), int(points[i][1]))
        b = (int(points[j][0]), int(points[j][1]))
        cv2.line(joined, a, b, 1, thickness=2)
    return joined


def _dark_gap(dark: np.ndarray, a: np.ndarray, b: np.ndarray, evidence: float) -> bool:
    """The gap's middle, away from the two ends, is darker than the paper."""
    steps = max(2, int(np.hypot(*(b - a))))
    t = np.linspace(0.25, 0.75, max(2, steps // 2))
    xs = np.round(a[0] + t * (b[0] - a[0])).astype(int)
    ys = np.round(a[1] + t * (b[1] - a[1])).astype(int)
    return float(np.median(dark[ys, xs])) >= evidence


def _ends(skeleton: np.ndarray) -> np.ndarray:
    """(y, x) of the centre line's ends: pixels with one neighbour."""
    padded = np.pad(skeleton.astype(np.uint8), 1)
    neighbours = sum(
        padded[1 + dy : padded.shape[0] - 1 + dy, 1 + dx : padded.shape[1] - 1 + dx]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if dy or dx
    )
    return np.argwhere((skeleton > 0) & (neighbours == 1))


def thin(mask: np.ndarray) -> np.ndarray:
    """The centre lines of ``mask``'s strokes, one pixel wide (Zhang and Suen)."""
    image = np.pad(mask.astype(bool), 1)
    while True:
        changed = False
        for step in (0, 1):
            p2, p3 = image[:-2, 1:-1], image[:-2, 2:]
            p4, p5 = image[1:-1, 2:], image[2:, 2:]
            p6, p7 = image[2:, 1:-1], image[2:, :-2]
            p8, p9 = image[1:-1, :-2], image[:-2, :-2]
            around = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            count = sum(n.astype(np.uint8) for n in around[:8])
            crossings = sum(((~around[k]) & around[k + 1]).astype(np.uint8) for k in range(8))
            remove = image[1:-1, 1:-1] & (count >= 2) & (count <= 6) & (crossings == 1)
            if step == 0:
                remove &= ~(p2 & p4 & p6) & ~(p4 & p6 & p8)
            else:
                remove &= ~(p2 & p4 & p8) & ~(p2 & p6 & p8)
            if remove.any():
                image[1:-1, 1:-1] &= ~remove
                changed = True
        if not changed:
            return image[1:-1, 1:-1].astype(np.uint8)
