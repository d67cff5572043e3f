"""Ink against the paper around it: how dark each pixel is, which pixels are ink, their colour.

Judged locally, not against a fixed grey: each channel is divided by its own
estimate of the paper, so paper tone, uneven light and colour casts drop out,
and a ballpoint's thin, semi-transparent line stays a stroke (issue 14).
"""

from __future__ import annotations

import cv2
import numpy as np

from keyholder.letters.clean import even_out_lighting
from keyholder.letters.document import Image

# Ink is judged by its darkness against the local paper (0-255, see ``darkness``):
# strokes must reach STRONG_INK somewhere, and are followed through fainter pixels
# down to FAINT_INK or NOISE_MARGIN times the band's noise, whichever is higher.
# A photographed ballpoint line measures 20-50 along its length (synthetic bands,
# benchmarks/signature_bands.py seed 61): with 55 and 28 only its darkest specks
# were ink, and plainly signed photos were "unclear".
STRONG_INK = 40
FAINT_INK = 20
NOISE_MARGIN = 4.0


def darkness(crop: Image) -> np.ndarray:
    """How much darker than the paper around it each pixel is (0-255), in its darkest
    channel: each channel is divided by its own paper estimate, so paper tone, uneven
    light and a colour cast drop out, and blue or red ink counts as fully as black."""
    channels = [even_out_lighting(np.ascontiguousarray(crop[:, :, c])) for c in range(3)]
    lightest = np.minimum(np.minimum(channels[0], channels[1]), channels[2])
    return np.asarray(255 - lightest, dtype=np.uint8)


def ink_mask(dark: np.ndarray) -> np.ndarray:
    """Ink, judged against the local paper: pixels clearly darker than the paper
    (``STRONG_INK``) and the fainter pixels connected to them, down to a contrast
    above the band's own noise (hysteresis, as an edge detector links weak edges
    to strong ones), then small gaps closed. The faint pixels' own gaps are closed
    first: a faint line is dotted at that level, and only its darker dots would
    otherwise be seeded. A ballpoint's thin, semi-transparent,
    skipping line stays one stroke; JPEG noise and paper grain stay specks."""
    weak = closed((dark >= faint_level(dark)).astype(np.uint8))
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    seeded = np.unique(labels[dark >= STRONG_INK])
    keep = np.zeros(count, dtype=np.uint8)
    keep[seeded[seeded > 0]] = 1
    return closed(keep[labels])


def closed(ink: np.ndarray) -> np.ndarray:
    """Gaps of a pixel or two (a ballpoint skipping, blur) bridged."""
    return np.asarray(cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)))


def faint_level(dark: np.ndarray) -> float:
    """The faintest darkness taken for ink: FAINT_INK, or NOISE_MARGIN robust standard
    deviations above the paper (most of a band is paper) where the paper is noisier."""
    middle = float(np.median(dark))
    spread = 1.4826 * float(np.median(np.abs(dark.astype(np.float32) - middle)))
    return max(FAINT_INK, middle + NOISE_MARGIN * spread)


def ink_colour(crop: Image, ink: np.ndarray) -> str | None:
    pixels = crop[ink.astype(bool)]
    if len(pixels) < 50:
        return None
    hsv = cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_RGB2HSV).reshape(-1, 3)
    saturated = hsv[hsv[:, 1] > 80]
    if len(saturated) < 0.4 * len(hsv):
        return None
    hue = float(np.median(saturated[:, 0]))  # OpenCV hue: 0-180
    return "blue" if 95 <= hue <= 135 else "coloured"
