"""Pen strokes a photo broke into pieces, joined again by direction (issue 14)."""

from __future__ import annotations

import cv2
import numpy as np

from keyholder.letters.broken_strokes import join_broken, thin

LINE_HEIGHT = 30


def pieces(mask: np.ndarray) -> int:
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= 12))


def wave() -> tuple[np.ndarray, np.ndarray]:
    """A pen's wavy stroke two pixels wide (the mask) and its darkness, faint
    everywhere along it (a blurred ballpoint line) over noisy paper."""
    stroke = np.zeros((120, 400), np.uint8)
    xs = np.arange(20, 380)
    ys = (60 + 25 * np.sin(xs / 30)).astype(np.int32)
    cv2.polylines(stroke, [np.column_stack([xs, ys])], isClosed=False, color=1, thickness=2)
    rng = np.random.default_rng(3)
    dark = np.clip(rng.normal(3, 2, stroke.shape) + 22 * stroke, 0, 255).astype(np.uint8)
    return stroke, dark


def broken(stroke: np.ndarray, gaps: list[int], width: int = 6) -> np.ndarray:
    mask = stroke.copy()
    for x in gaps:
        mask[:, x : x + width] = 0
    return mask


def test_a_broken_stroke_whose_gaps_hold_a_faint_trace_is_one_stroke_again() -> None:
    stroke, dark = wave()
    mask = broken(stroke, [90, 170, 260])
    assert pieces(mask) == 4

    assert pieces(join_broken(mask, dark, LINE_HEIGHT)) == 1


def test_gaps_with_bare_paper_stay_open() -> None:
    stroke, dark = wave()
    mask = broken(stroke, [90, 170, 260])
    dark[(stroke > 0) & (mask == 0)] = 2  # nothing between the pieces

    assert pieces(join_broken(mask, dark, LINE_HEIGHT)) == 4


def test_gaps_longer_than_the_reach_stay_open() -> None:
    stroke, dark = wave()
    mask = broken(stroke, [150], width=LINE_HEIGHT)

    assert pieces(join_broken(mask, dark, LINE_HEIGHT)) == 2


def test_letters_side_by_side_are_not_joined() -> None:
    # A stamp's capitals: upright strokes a few pixels apart end side by side, not
    # head to head, whatever ink lies between them.
    mask = np.zeros((80, 200), np.uint8)
    for x in range(20, 180, 12):
        cv2.line(mask, (x, 20), (x, 50), 1, thickness=3)
    dark = np.where(mask > 0, 80, 30).astype(np.uint8)

    assert pieces(join_broken(mask, dark, LINE_HEIGHT)) == pieces(mask)


def test_thin_leaves_a_centre_line() -> None:
    mask = np.zeros((40, 100), np.uint8)
    cv2.line(mask, (10, 20), (90, 20), 1, thickness=7)

    centre = thin(mask)

    assert centre.sum() >= 70
    assert int((centre > 0).sum(axis=0).max()) == 1


def test_speckle_is_left_alone() -> None:
    rng = np.random.default_rng(7)
    mask = np.zeros((300, 1200), np.uint8)
    for _ in range(1500):
        x, y = int(rng.integers(5, 1190)), int(rng.integers(5, 290))
        cv2.line(mask, (x, y), (x + 6, y), 1, thickness=2)
    dark = np.where(mask > 0, 90, 40).astype(np.uint8)

    assert np.array_equal(join_broken(mask, dark, LINE_HEIGHT), mask)
