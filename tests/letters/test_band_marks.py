"""Measures of the marks left in a signature band."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from keyholder.letters.band_marks import largest_beside_level_rules, printed_row, straight_bar
from tests.letters import drawing

LINE_HEIGHT = 24


def _one_mark(ink: np.ndarray) -> np.ndarray:
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    assert count == 2, "the drawing should be one mark"
    return np.asarray(stats[1])


def _capitals(text: str, tilt: float, cap_height: float) -> np.ndarray:
    """Bold capitals run together, as a stamp's grainy ink runs them, turned by
    ``tilt`` degrees as a rubber stamp lands."""
    font = drawing.load_font("sans", cap_height / 0.73, bold=True)
    run_together = round(cap_height / 8)
    left, top, right, bottom = font.getbbox(text, stroke_width=run_together)
    picture = Image.new("L", (right - left + 20, bottom - top + 20), 0)
    ImageDraw.Draw(picture).text(
        (10 - left, 10 - top), text, fill=255, font=font, stroke_width=run_together
    )
    turned = picture.rotate(tilt, resample=Image.Resampling.BILINEAR, expand=True)
    return (np.asarray(turned) > 127).astype(np.uint8)


@pytest.mark.parametrize("tilt", [-9.0, 0.0, 4.0, 12.0])
def test_a_stamp_s_capitals_run_together_are_a_printed_row(tilt: float) -> None:
    ink = _capitals("RECEIVED", tilt, LINE_HEIGHT)

    assert printed_row(_one_mark(ink), ink, LINE_HEIGHT)


def test_capitals_twice_a_line_high_are_not_a_printed_row() -> None:
    ink = _capitals("RECEIVED", 4.0, 2 * LINE_HEIGHT)

    assert not printed_row(_one_mark(ink), ink, LINE_HEIGHT)


# Handwriting rises and falls along its way: neither its top nor its bottom
# outline runs level, even where the stroke is no taller than print.
def test_a_wavy_pen_stroke_a_line_high_is_not_a_printed_row() -> None:
    ink = np.zeros((60, 200), np.uint8)
    xs = np.arange(10, 190)
    ys = 30 + 0.4 * LINE_HEIGHT * np.sin(xs / 9.0)
    points = np.column_stack([xs, ys]).round().astype(np.int32)
    cv2.polylines(ink, [points], isClosed=False, color=1, thickness=4)

    assert not printed_row(_one_mark(ink), ink, LINE_HEIGHT)


# What the band's edge leaves of a stamp frame's side: a thick, grainy straight line.
@pytest.mark.parametrize("tilt", [0.0, 6.0, 84.0, 90.0])
def test_a_piece_of_a_frame_s_side_is_a_straight_bar(tilt: float) -> None:
    ink = np.zeros((120, 120), np.uint8)
    length, angle = 2.5 * LINE_HEIGHT, np.deg2rad(tilt)
    dx, dy = length / 2 * np.cos(angle), length / 2 * np.sin(angle)
    cv2.line(ink, (round(60 - dx), round(60 - dy)), (round(60 + dx), round(60 + dy)), 1, 6)

    assert straight_bar(_one_mark(ink), ink, LINE_HEIGHT)


# ... its edges frayed by a scanner's grain: its box is wider than its line (fpdf
# 5201 letter 6, scan: boxes 0.37 line heights across, lines 0.3).
def test_a_frayed_piece_of_a_frame_s_side_is_a_straight_bar() -> None:
    ink = np.zeros((120, 120), np.uint8)
    tilt = np.deg2rad(84.0)
    along, across = np.array([np.cos(tilt), np.sin(tilt)]), np.array([-np.sin(tilt), np.cos(tilt)])
    start, end = (
        np.array([60.0, 60.0]) - LINE_HEIGHT * along,
        np.array([60.0, 60.0]) + LINE_HEIGHT * along,
    )
    cv2.line(ink, tuple(np.round(start).astype(int)), tuple(np.round(end).astype(int)), 1, 6)
    for k, share in enumerate(np.linspace(0.05, 0.95, 9)):
        grain = start + share * (end - start) + (3 if k % 2 else -3) * across
        cv2.circle(ink, tuple(np.round(grain).astype(int)), 1, 1, -1)

    assert straight_bar(_one_mark(ink), ink, LINE_HEIGHT)


def test_a_pen_s_curved_downstroke_is_not_a_straight_bar() -> None:
    ink = np.zeros((120, 120), np.uint8)
    ys = np.arange(20, 80)
    xs = 50 + 0.5 * LINE_HEIGHT * np.sin((ys - 20) / 60 * np.pi)
    cv2.polylines(ink, [np.column_stack([xs, ys]).round().astype(np.int32)], False, 1, 4)

    assert not straight_bar(_one_mark(ink), ink, LINE_HEIGHT)


# A felt tip's strokes erased as drawn shapes still count as ink-like under the
# typed name (``signature._without_strokes``): the largest mark is measured before
# anything but a printed signature line is taken out.
def test_the_largest_mark_beside_a_signature_line_is_measured_without_the_line() -> None:
    line_height = 20
    ink = np.zeros((100, 400), np.uint8)
    ink[80:83, 10:390] = 1  # the signature line, longer than any mark
    ink[20:60, 100:140] = 1  # a solid mark, 40 by 40
    ink[30:34, 200:204] = 1  # a speck

    largest = largest_beside_level_rules(ink, line_height, min_area=10)

    assert largest == pytest.approx(40 * 40 / line_height**2)
    assert largest_beside_level_rules(ink[70:], line_height, min_area=10) == 0
