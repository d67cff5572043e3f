"""Stamps' frames larger than the signature band, found round it (issue 14)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks.signature_bands import one_band
from keyholder.letters import SignatureLevel
from keyholder.letters.seals import Surroundings
from keyholder.letters.stamp_frames import erase_cut_frames

LINE_HEIGHT, BAND_TOP, BAND_HEIGHT, BAND_WIDTH = 22, 50, 110, 600


def _around() -> np.ndarray:
    return np.zeros((BAND_HEIGHT + 2 * BAND_TOP, 900), np.uint8)


def _pen_line(around: np.ndarray) -> None:
    xs = np.arange(40, 240)
    ys = BAND_TOP + BAND_HEIGHT // 2 + (25 * np.sin(xs / 20)).astype(int)
    for x, y in zip(xs, ys, strict=True):
        around[y - 1 : y + 2, x] = 1


def _tilted_frame(around: np.ndarray, degrees: float, *, bottom: int) -> None:
    """A stamp's thick frame from above the band to ``bottom``, tilted as a stamp
    lands, with a row of bold lettering inside it."""
    corners = cv2.boxPoints(((560.0, (40 + bottom) / 2), (420.0, bottom - 40.0), degrees))
    cv2.polylines(around, [np.round(corners).astype(np.int32)], True, 1, thickness=9)
    cv2.putText(around, "RECEIVED LTD", (380, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 1, 5)


# A stamp taller than the band: in the band its frame is two upright lines, erased
# as rules, and its lettering run together scored as a pen's stroke; unsigned fpdf
# bands were "signature-like ink" (band harness, stop 44). Round the band the frame
# shows three or four sides; what lies inside it is blanked and a pen's line beside
# it stays, whether the search's edge cuts the frame or not.
@pytest.mark.parametrize(("degrees", "bottom"), [(0.0, 200), (4.0, 200), (-8.0, 280)])
def test_a_frame_larger_than_the_band_is_found_round_it(degrees: float, bottom: int) -> None:
    around = _around()
    _tilted_frame(around, degrees, bottom=bottom)
    _pen_line(around)
    ink = around[BAND_TOP : BAND_TOP + BAND_HEIGHT, :BAND_WIDTH].copy()

    out, blanked = erase_cut_frames(ink, Surroundings(around, BAND_TOP), LINE_HEIGHT)

    assert blanked
    assert not out[:, 380:].any()
    assert np.array_equal(out[:, :250], ink[:, :250])


# A pen's big loop the band cuts touches its own box at a few points only: no frame.
def test_a_pen_s_loop_the_band_cuts_is_no_frame() -> None:
    around = _around()
    cv2.ellipse(around, (400, 110), (200, 90), 5, 0, 360, 1, thickness=4)
    ink = around[BAND_TOP : BAND_TOP + BAND_HEIGHT, :BAND_WIDTH].copy()

    out, blanked = erase_cut_frames(ink, Surroundings(around, BAND_TOP), LINE_HEIGHT)

    assert not blanked
    assert np.array_equal(out, ink)


# The band harness's unsigned bands with an fpdf stamp taller than the band, each
# "signature-like ink" before (clean: seed 940, band 33; 941, 24 and 79; photo, the
# frame joined to specks above it: 942, 61).
@pytest.mark.parametrize(
    ("seed", "number", "condition"),
    [(940, 33, "clean"), (941, 24, "clean"), (941, 79, "clean"), (942, 61, "photo")],
)
def test_an_unsigned_band_with_a_stamp_larger_than_it_is_not_signature_like(
    seed: int, number: int, condition: str
) -> None:
    outcome = one_band(seed, number, condition, None, signed=False, maker="fpdf")

    assert outcome.clutter == "stamp"
    assert outcome.level == SignatureLevel.UNCERTAIN.value, outcome.evidence
