"""Band clutter for the ``typst`` generator: what sits between the closing and the typed
name besides the signature.

Rubber stamps and round seals are inked marks (raster, multiplied onto the page like
the signature): a crisp design drawn with Pillow, then our own inking model: the rubber
takes ink unevenly (a slow pressure field tilted across the stamp), the rim of every
glyph prints heavier than its middle, the paper's fibres leave pinholes and the stamp
is set down at an angle and sometimes twice (a faint ghost). Logos, a signature line
with its caption and printed notes are set by Typst itself (vector shapes and text).
"""

from __future__ import annotations

import functools
import math
import random

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from benchmarks.corpora.spec import LetterSpec
from benchmarks.corpora.typst_signatures import Mark

STAMP_INKS = ((170, 30, 45), (40, 60, 160), (90, 40, 130), (30, 110, 70), (25, 25, 30))
STAMP_WORDS = ("RECEIVED", "APPROVED", "AUTHORISED", "CERTIFIED", "VERIFIED", "ORIGINAL")
NOTES = (
    "p.p. the sender, who is travelling",
    "Unsigned copy - original held at our registered office.",
    "This letter was generated electronically; no signature is required.",
    "Signature on file",
    "[signature]",
)
HI = 3  # stamps are drawn at three times the page resolution


@functools.cache
def _font_file(bold: bool) -> str | None:
    import subprocess  # noqa: PLC0415

    for family in ("DejaVu Sans", "Liberation Sans", "FreeSans"):
        found = subprocess.run(
            [
                "fc-match",
                "-f",
                "%{file}|%{family}",
                f"{family}:weight={'bold' if bold else 'regular'}",
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        file, _, fam = found.partition("|")
        if family.lower() in fam.lower():
            return file
    return None


def _font(px: float, bold: bool = True) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    file = _font_file(bold)
    if file is None:
        return ImageFont.load_default(size=max(int(px), 6))
    return ImageFont.truetype(file, max(int(px), 6))


def _ink(design: np.ndarray, rng: np.random.Generator, hi_dpi: int) -> np.ndarray:
    """The rubber's design (0..1) as it prints: uneven, heavier at glyph rims, pinholed."""
    h, w = design.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    tilt = (xx * math.cos(angle) + yy * math.sin(angle)) / max(h, w)
    pressure = 0.75 + 0.45 * (tilt - tilt.mean()) * rng.uniform(0.6, 1.6)
    lumps = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), hi_dpi / 25.4 * 2)
    pressure += lumps / (lumps.std() + 1e-6) * 0.12
    eroded = cv2.erode(design, np.ones((5, 5), np.uint8) if h > 60 else np.ones((3, 3), np.uint8))
    rim = np.clip(design - eroded, 0, 1)
    fibres = cv2.GaussianBlur(rng.random((h, w), dtype=np.float32), (0, 0), 1.0)
    holes = (fibres < np.quantile(fibres, rng.uniform(0.04, 0.16))).astype(np.float32)
    alpha = design * np.clip(pressure, 0.25, 1.0) * (0.78 + 0.22 * rim) * (1 - 0.85 * holes)
    return cv2.GaussianBlur(np.clip(alpha, 0, 1), (0, 0), 0.8)


def _finish(
    design: Image.Image, rgb: tuple[int, int, int], dpi: int, rng: np.random.Generator
) -> Mark:
    hi = dpi * HI
    a = np.asarray(design, np.float32) / 255
    angle = rng.uniform(-9, 9)
    h, w = a.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    a = cv2.warpAffine(a, m, (w, h), flags=cv2.INTER_LINEAR)
    alpha = _ink(a, rng, hi) * rng.uniform(0.7, 0.92)
    if rng.random() < 0.2:  # set down twice: a faint offset ghost
        dx, dy = rng.integers(-12, 13, 2)
        ghost = np.roll(np.roll(alpha, int(dy), 0), int(dx), 1) * 0.25
        alpha = 1 - (1 - alpha) * (1 - ghost)
    small = cv2.resize(alpha, (w // HI, h // HI), interpolation=cv2.INTER_AREA)
    return Mark(np.clip(small, 0, 1), np.array(rgb, np.uint8), dpi)


def stamp(spec: LetterSpec, dpi: int, rng: np.random.Generator) -> Mark:
    """A rectangular rubber stamp: company, a word, the date, in a (double) frame."""
    px = dpi * HI / 25.4
    w_mm, h_mm = rng.uniform(38, 56), rng.uniform(15, 22)
    w, h = int(w_mm * px), int(h_mm * px)
    img = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(img)
    line = max(int(0.5 * px), 2)
    radius = int(rng.uniform(0, 3) * px)
    d.rounded_rectangle([line, line, w - line, h - line], radius, outline=255, width=line)
    if rng.random() < 0.5:
        inset = int(1.2 * px)
        d.rounded_rectangle(
            [inset, inset, w - inset, h - inset], radius, outline=255, width=max(line // 2, 1)
        )
    words = STAMP_WORDS[int(rng.integers(len(STAMP_WORDS)))]
    rows = [
        (spec.company.display_name.upper()[:30], 0.17),
        (words, 0.3),
        (spec.dated.strftime("%d %b %Y").upper(), 0.18),
    ]
    y = h * 0.14
    for text, rel in rows:
        font = _font(h * rel * 0.8)
        tw = d.textlength(text, font=font)
        if tw > w * 0.88:
            font = _font(h * rel * 0.8 * w * 0.88 / tw)
            tw = d.textlength(text, font=font)
        d.text(((w - tw) / 2, y), text, fill=255, font=font)
        y += h * rel + h * 0.08
    rgb = STAMP_INKS[int(rng.integers(len(STAMP_INKS)))]
    return _finish(img, rgb, dpi, rng)


def seal(spec: LetterSpec, dpi: int, rng: np.random.Generator) -> Mark:
    """A round company seal: two rings, the name round the ring, a mark in the middle."""
    px = dpi * HI / 25.4
    dia = rng.uniform(22, 32)
    size = int(dia * px)
    img = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(img)
    c = size / 2
    lw = max(int(0.45 * px), 2)
    d.ellipse([lw, lw, size - lw, size - lw], outline=255, width=lw)
    inner = size * 0.3
    d.ellipse([c - inner, c - inner, c + inner, c + inner], outline=255, width=max(lw // 2, 1))
    text = f"{spec.company.display_name.upper()} * {spec.company.town.upper()} *"
    font = _font(size * 0.085)
    r = size * 0.4
    step = 2 * math.pi / max(len(text), 1)
    for i, ch in enumerate(text):
        a = -math.pi / 2 + i * step
        glyph = Image.new("L", (int(size * 0.12), int(size * 0.12)), 0)
        ImageDraw.Draw(glyph).text(
            (glyph.width / 2, glyph.height / 2), ch, fill=255, font=font, anchor="mm"
        )
        glyph = glyph.rotate(-math.degrees(a) - 90, resample=Image.Resampling.BICUBIC)
        x, y = c + r * math.cos(a) - glyph.width / 2, c + r * math.sin(a) - glyph.height / 2
        img.paste(255, (int(x), int(y)), glyph)
    initials = "".join(w[0] for w in spec.company.display_name.split() if w[:1].isalpha())[:3]
    if rng.random() < 0.5:
        d.text((c, c), initials.upper(), fill=255, font=_font(size * 0.18), anchor="mm")
    else:
        pts = []
        for k in range(10):
            rr = inner * (0.8 if k % 2 == 0 else 0.35)
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((c + rr * math.cos(a), c + rr * math.sin(a)))
        d.polygon(pts, fill=255)
    rgb = STAMP_INKS[int(rng.integers(len(STAMP_INKS) - 1))]
    return _finish(img, rgb, dpi, rng)


def typst_string(text: str) -> str:
    """``text`` as a Typst string literal (no markup inside)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def printed(spec: LetterSpec, rng: random.Random, accent: str, gap: float) -> str:
    """Typst code (placed inside the band, relative to the closing's line) for the
    printed kinds of clutter: ``logo``, ``rule``, ``printed``; empty for the others."""
    if spec.clutter == "rule":
        caption = rng.choice(["Signature", "Authorised signatory", "Signed", "(signature)"])
        length = rng.uniform(50, 75)
        y = gap - rng.uniform(1.5, 3.5)
        above = rng.random() < 0.5
        label = f"text(size: 0.75em, fill: luma(35%), {typst_string(caption)})"
        if above:
            return (
                f"place(top + left, dx: 0mm, dy: {y:.1f}mm, line(length: {length:.1f}mm, "
                f"stroke: 0.3pt))"
            )
        return (
            f"place(top + left, dx: 0mm, dy: {y - 4.5:.1f}mm, stack(spacing: 1mm, "
            f"line(length: {length:.1f}mm, stroke: 0.3pt), {label}))"
        )
    if spec.clutter == "logo":
        initials = "".join(w[0] for w in spec.company.display_name.split() if w[:1].isalpha())[:2]
        size = rng.uniform(10, 15)
        shape = rng.choice(["circle", "rect", "polygon"])
        if shape == "circle":
            body = f"circle(radius: {size / 2:.1f}mm, fill: {accent})"
        elif shape == "rect":
            body = f"rect(width: {size:.1f}mm, height: {size:.1f}mm, radius: 2mm, fill: {accent})"
        else:
            body = f"polygon.regular(vertices: 6, size: {size * 1.1:.1f}mm, fill: {accent})"
        mark = (
            f"box(width: {size:.1f}mm, height: {size:.1f}mm, {{ place(center + horizon, {body}); "
            f'place(center + horizon, text(fill: white, weight: "bold", size: {size * 1.1:.1f}pt, '
            f"{typst_string(initials.upper())})) }})"
        )
        return (
            f"place(top + left, dx: {rng.uniform(50, 85):.1f}mm, "
            f"dy: {gap / 2 - size / 2:.1f}mm, {mark})"
        )
    if spec.clutter == "printed":
        note = rng.choice(NOTES)
        return (
            f"place(top + left, dx: {rng.uniform(0, 8):.1f}mm, dy: {gap / 2 - 1.5:.1f}mm, "
            f'text(style: "italic", size: 0.85em, fill: luma(25%), {typst_string(note)}))'
        )
    return ""
