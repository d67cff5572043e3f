"""What offices put where a signature goes, that is not a signature.

Rubber stamps ("RECEIVED" with a date, in a box, tilted, unevenly inked), embossed-
looking company seals (rings with lettering round them), printed logos, a signature
rule with its caption, and printed notes such as "valid without signature". Each is an
``InkLayer`` the generators lay down like the signature's ink, so a detector cannot
tell them apart by how they were composited.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from benchmarks.corpora.signatures import Band, InkLayer
from benchmarks.corpora.spec import LetterSpec

STAMP_INKS = [(180, 30, 40), (40, 60, 160), (95, 40, 130), (30, 30, 30)]
PRINTED_NOTES = [
    "This document was approved electronically and is valid without a signature.",
    "Signed on behalf of the Board",
    "Authorised signatory",
    "p.p. Office of the Chief Executive",
]
_BOLD_FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
]


def _font(size_px: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _BOLD_FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, max(6, round(size_px)))
    return ImageFont.load_default()


def _layer(
    image: Image.Image,
    rgb: tuple[int, int, int],
    dpi: int,
    rng: random.Random,
    *,
    at: tuple[float, float],
    uneven: bool,
) -> InkLayer:
    """The drawing (white on black: coverage) as ink, its corner ``at`` (mm) from the anchor."""
    alpha = np.asarray(image, dtype=np.float32) / 255.0
    if uneven:  # a rubber stamp inks unevenly: blotches and gaps
        noise = np.random.default_rng(rng.randint(0, 2**31)).uniform(0.35, 1.0, alpha.shape)
        fade = np.linspace(rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.0), alpha.shape[1])
        alpha = alpha * noise.astype(np.float32) * fade[None, :].astype(np.float32)
    return InkLayer(alpha * rng.uniform(0.75, 0.95), rgb, dpi, *at)


def _canvas(w_mm: float, h_mm: float, dpi: int) -> tuple[Image.Image, ImageDraw.ImageDraw, float]:
    px = dpi / 25.4
    image = Image.new("L", (round(w_mm * px), round(h_mm * px)), 0)
    return image, ImageDraw.Draw(image), px


def stamp(spec: LetterSpec, band: Band, dpi: int, rng: random.Random) -> InkLayer:
    w, h = rng.uniform(38, 52), rng.uniform(14, 20)
    image, draw, px = _canvas(w + 4, h + 4, dpi)
    line = max(1, round(0.5 * px))
    draw.rectangle([2 * px, 2 * px, (w + 2) * px, (h + 2) * px], outline=255, width=line)
    word = rng.choice(["RECEIVED", "APPROVED", "COPY", "ORIGINAL", "PAID"])
    draw.text(
        ((w + 4) * px / 2, (h + 4) * px * 0.4), word, fill=255, font=_font(5.5 * px), anchor="mm"
    )
    draw.text(
        ((w + 4) * px / 2, (h + 4) * px * 0.75),
        f"{spec.dated:%d %b %Y}".upper(),
        fill=255,
        font=_font(3 * px),
        anchor="mm",
    )
    image = image.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BICUBIC, expand=True)
    return _layer(
        image,
        rng.choice(STAMP_INKS),
        dpi,
        rng,
        at=(rng.uniform(45, 85), rng.uniform(-4, band.gap - 14)),
        uneven=True,
    )


def seal(spec: LetterSpec, band: Band, dpi: int, rng: random.Random) -> InkLayer:
    d = rng.uniform(22, 32)
    image, draw, px = _canvas(d + 2, d + 2, dpi)
    c, r = (d + 2) * px / 2, d * px / 2
    line = max(1, round(0.35 * px))
    for radius in (r, r * 0.72):
        draw.ellipse([c - radius, c - radius, c + radius, c + radius], outline=255, width=line)
    text = f" {spec.company.display_name.upper()} * COMPANY SEAL *"
    font = _font(2.4 * px)
    for k, ch in enumerate(text):  # lettering round the ring, one glyph at a time
        angle = 2 * math.pi * k / len(text) - math.pi / 2
        glyph = Image.new("L", (round(3 * px), round(3 * px)), 0)
        ImageDraw.Draw(glyph).text((1.5 * px, 1.5 * px), ch, fill=255, font=font, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        gx, gy = c + 0.86 * r * math.cos(angle), c + 0.86 * r * math.sin(angle)
        image.paste(255, (round(gx - 1.5 * px), round(gy - 1.5 * px)), glyph)
    star = [
        (
            c + r * 0.35 * math.cos(a) * (1 if i % 2 == 0 else 0.45),
            c + r * 0.35 * math.sin(a) * (1 if i % 2 == 0 else 0.45),
        )
        for i, a in enumerate(np.linspace(-math.pi / 2, 1.5 * math.pi, 11)[:-1])
    ]
    draw.polygon(star, fill=255)
    return _layer(
        image,
        rng.choice(STAMP_INKS),
        dpi,
        rng,
        at=(rng.uniform(40, 90), rng.uniform(-6, max(-5.0, band.gap - d))),
        uneven=rng.random() < 0.6,
    )


def logo(spec: LetterSpec, band: Band, dpi: int, rng: random.Random) -> InkLayer:
    s = rng.uniform(9, 14)
    image, draw, px = _canvas(s + 55, s + 2, dpi)
    shape = rng.choice(["rings", "square", "triangle"])
    box = [1 * px, 1 * px, (s + 1) * px, (s + 1) * px]
    if shape == "rings":
        draw.ellipse(box, fill=255)
        inset = s * 0.25 * px
        draw.ellipse([box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset], fill=0)
    elif shape == "square":
        draw.rectangle(box, fill=255)
        draw.rectangle([box[0] + s * 0.3 * px, box[1] + s * 0.3 * px, box[2], box[3]], fill=0)
    else:
        draw.polygon(
            [(box[0], box[3]), ((box[0] + box[2]) / 2, box[1]), (box[2], box[3])], fill=255
        )
    draw.text(
        ((s + 4) * px, (s / 2 + 1) * px),
        spec.company.display_name.split()[0],
        fill=255,
        font=_font(5 * px),
        anchor="lm",
    )
    return _layer(
        image,
        rng.choice([*STAMP_INKS[:2], (20, 90, 70)]),
        dpi,
        rng,
        at=(rng.uniform(0, 60), rng.uniform(1, max(1.5, band.gap - s - 1))),
        uneven=False,
    )


def rule(_spec: LetterSpec, band: Band, dpi: int, rng: random.Random) -> InkLayer:
    w = rng.uniform(50, 75)
    image, draw, px = _canvas(w, 6, dpi)
    draw.line([(0, 1 * px), (w * px, 1 * px)], fill=255, width=max(1, round(0.25 * px)))
    draw.text(
        (0, 2 * px),
        rng.choice(["Signature", "Authorised signature", "Signed"]),
        fill=255,
        font=_font(2.2 * px),
        anchor="lt",
    )
    return _layer(image, (40, 40, 40), dpi, rng, at=(0.0, band.gap - 7.5), uneven=False)


def printed(_spec: LetterSpec, band: Band, dpi: int, rng: random.Random) -> InkLayer:
    note = rng.choice(PRINTED_NOTES)
    image, draw, px = _canvas(min(band.width, 150), 6, dpi)
    draw.text((0, 3 * px), note, fill=255, font=_font(2.6 * px), anchor="lm")
    return _layer(
        image, (30, 30, 30), dpi, rng, at=(0.0, band.gap * rng.uniform(0.25, 0.55)), uneven=False
    )


MAKERS = {"stamp": stamp, "seal": seal, "logo": logo, "rule": rule, "printed": printed}


def band_clutter(spec: LetterSpec, band: Band, dpi: int) -> InkLayer | None:
    """The spec's clutter for its signature band, placed relative to the closing line."""
    if spec.clutter == "none":
        return None
    return MAKERS[spec.clutter](
        spec, band, dpi, random.Random(f"clutter/{spec.seed}/{spec.number}")
    )
