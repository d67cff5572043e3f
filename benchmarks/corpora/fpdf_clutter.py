"""Stamps and seals for the ``fpdf`` generator, drawn with Pillow and numpy (not
``clutter.py``), and the fontconfig lookup this generator uses.

A stamp is a rubber stamp pressed a little crooked: a double border, two lines of
capitals and a date, the ink heavier on one side and missing in specks. A seal is a
round notary-like stamp: two rings, the company's name around the ring, a star or a
monogram in the middle. Printed marks (logo, signature rule, notes) are written into
the PDF by ``fpdf_letters.py`` as vectors and text, as a printer would.
"""

from __future__ import annotations

import functools
import math
import shutil
import subprocess
from datetime import date

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from benchmarks.corpora.fpdf_signatures import INK_DPI, Ink
from benchmarks.corpora.spec import LetterSpec

STAMP_INKS = ((178, 30, 38), (30, 60, 160), (100, 45, 150), (20, 20, 30))


@functools.cache
def font_path(family: str, style: str = "Regular") -> str | None:
    """A TrueType/OpenType file of ``family`` in ``style`` (fpdf2 and Pillow read both),
    or None when fontconfig has none."""
    if shutil.which("fc-list") is None:
        return None
    listed = subprocess.run(
        ["fc-list", "-f", "%{file}|%{style}\n", f":family={family}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    files = sorted(
        (line.split("|", 1) for line in listed if "|" in line),
        key=lambda pair: pair[0],
    )
    usable = [
        (f, s)
        for f, s in files
        if f.lower().endswith((".ttf", ".otf"))
        and ("condensed" not in f.lower() or "condensed" in family.lower())
    ]
    for file, styles in usable:
        if styles.split(",")[0].strip().lower() == style.lower():
            return file
    return None


def _bold_font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for family, style in (
        ("Liberation Sans", "Bold"),
        ("FreeSans", "Bold"),
        ("DejaVu Sans", "Bold"),
    ):
        path = font_path(family, style)
        if path:
            return ImageFont.truetype(path, size_px)
    return ImageFont.load_default()


def _uneven(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rubber-stamp inking: heavier towards one side, blotchy, specks missing."""
    h, w = alpha.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (xx / w - 0.5) * math.cos(angle) + (yy / h - 0.5) * math.sin(angle)
    heavy = np.clip(0.8 + rng.uniform(0.2, 0.6) * ramp, 0.35, 1.0)
    blotch = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 6)
    blotch = (blotch - blotch.mean()) / (blotch.std() + 1e-6)
    specks = rng.random((h, w)) > rng.uniform(0.02, 0.12)
    soft = cv2.GaussianBlur(alpha, (0, 0), 0.7)
    return np.clip(soft * heavy * (0.85 + 0.15 * blotch) * specks, 0, 1).astype(np.float32)


def _rotate(alpha: np.ndarray, degrees: float) -> np.ndarray:
    h, w = alpha.shape
    side = int(math.hypot(h, w)) + 4
    canvas = np.zeros((side, side), np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    canvas[top : top + h, left : left + w] = alpha
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), degrees, 1.0)
    out = cv2.warpAffine(canvas, matrix, (side, side), flags=cv2.INTER_LINEAR)
    rows, cols = np.flatnonzero(out.max(axis=1) > 0.02), np.flatnonzero(out.max(axis=0) > 0.02)
    return out[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def stamp(
    company: str, dated: date, rng: np.random.Generator
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """A rectangular company stamp: coverage at INK_DPI and its ink colour."""
    px = INK_DPI / 25.4
    words = [
        company.upper(),
        str(rng.choice(["RECEIVED", "APPROVED", "AUTHORISED", "CERTIFIED", "ORIGINAL"])),
    ]
    font = _bold_font(int(rng.uniform(2.6, 3.4) * px))
    small = _bold_font(int(rng.uniform(2.0, 2.6) * px))
    line3 = f"{dated.day:02d} {dated:%b %Y}".upper()
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    widths = [probe.textlength(w, font=font) for w in words] + [probe.textlength(line3, font=small)]
    pad = int(2.2 * px)
    w = int(max(widths)) + 2 * pad
    h = int(3 * pad + font.size * 2.2 + small.size * 1.2)  # type: ignore[union-attr]
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    draw.rectangle((2, 2, w - 3, h - 3), outline=255, width=int(0.6 * px))
    inner = int(1.0 * px)
    draw.rectangle((inner, inner, w - 1 - inner, h - 1 - inner), outline=255, width=int(0.25 * px))
    y = pad
    for text, f in ((words[0], font), (words[1], font), (line3, small)):
        tw = draw.textlength(text, font=f)
        draw.text(((w - tw) / 2, y), text, fill=255, font=f)
        y += int(f.size * 1.15) + int(0.4 * pad)  # type: ignore[union-attr]
    alpha = np.asarray(img, np.float32) / 255
    alpha = _rotate(_uneven(alpha, rng), rng.uniform(-9, 9))
    ink = STAMP_INKS[int(rng.choice(len(STAMP_INKS), p=[0.45, 0.3, 0.2, 0.05]))]
    return alpha * rng.uniform(0.7, 0.95), ink


def seal(company: str, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int]]:
    """A round seal: double ring, the name around it, an emblem in the middle."""
    px = INK_DPI / 25.4
    radius = rng.uniform(13, 19) * px
    size = int(2 * radius + 8)
    centre = size / 2
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    for r, width in ((radius, 0.6), (radius - 1.2 * px, 0.25), (radius * 0.58, 0.35)):
        draw.ellipse(
            (centre - r, centre - r, centre + r, centre + r),
            outline=255,
            width=max(1, int(width * px)),
        )
    text = f"{company.upper()} \u2022 "
    text = text * max(1, int(32 / len(text)))
    font = _bold_font(int(radius * 0.17))
    ring = radius * 0.79
    step = 2 * math.pi / len(text)
    for i, char in enumerate(text):
        angle = -math.pi / 2 + i * step
        glyph = Image.new("L", (font.size * 2, font.size * 2), 0)  # type: ignore[union-attr]
        ImageDraw.Draw(glyph).text((font.size / 2, font.size / 2), char, fill=255, font=font)  # type: ignore[union-attr]
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        gx = centre + ring * math.cos(angle) - glyph.width / 2
        gy = centre + ring * math.sin(angle) - glyph.height / 2
        img.paste(255, (int(gx), int(gy)), glyph)
    # the emblem: a five-pointed star or the company's monogram
    if rng.random() < 0.5:
        r_out, r_in = radius * 0.4, radius * 0.16
        points = [
            (
                centre + (r_out if k % 2 == 0 else r_in) * math.cos(-math.pi / 2 + k * math.pi / 5),
                centre + (r_out if k % 2 == 0 else r_in) * math.sin(-math.pi / 2 + k * math.pi / 5),
            )
            for k in range(10)
        ]
        draw.polygon(points, fill=255)
    else:
        mono = "".join(w[0] for w in company.split() if w[:1].isalpha())[:3].upper()
        big = _bold_font(int(radius * 0.42))
        tw = draw.textlength(mono, font=big)
        draw.text((centre - tw / 2, centre - radius * 0.27), mono, fill=255, font=big)
    alpha = np.asarray(img, np.float32) / 255
    alpha = _rotate(_uneven(alpha, rng), rng.uniform(0, 360))
    ink = STAMP_INKS[int(rng.choice(len(STAMP_INKS), p=[0.35, 0.4, 0.2, 0.05]))]
    return alpha * rng.uniform(0.65, 0.9), ink


def band_stamp(
    spec: LetterSpec, *, gap: float, room: float, sig_right: float, rng: np.random.Generator
) -> Ink:
    """The spec's stamp or seal placed in the band (y from the closing's baseline, x from
    the block's left edge): right of where a signature would end, often touching it."""
    company, dated = spec.company.display_name, spec.dated
    alpha, rgb = stamp(company, dated, rng) if spec.clutter == "stamp" else seal(company, rng)
    h_mm, w_mm = (s * 25.4 / INK_DPI for s in alpha.shape)
    x = min(max(sig_right - rng.uniform(0, 12), rng.uniform(30, 60)), max(0.0, room - w_mm))
    y = gap / 2 - h_mm / 2 + rng.uniform(-4, 4)
    return Ink(alpha.astype(np.float32), rgb, float(x), float(y))
