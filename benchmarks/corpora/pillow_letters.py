"""Letters drawn pixel by pixel with Pillow: page images only (no text layer).

Three habits, unlike the test corpus's one: a typewritten letter (monospace, sender
block on the left, date on the right, dotted leaders before the values), an office
memo (a coloured band, TO/FROM/DATE/RE fields, prose), and a modern letter (logo on
the right, justified paragraphs, the items in a ruled box).
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw, ImageFont

from benchmarks.corpora import wording as content
from benchmarks.corpora.base import DPI, Rendering, available, band_marks, font_file, lay_marks
from benchmarks.corpora.signatures import Band
from benchmarks.corpora.spec import LetterSpec

TEMPLATES = ("typewriter", "memo", "modern")
FAMILIES = {
    "typewriter": ["Liberation Mono", "FreeMono", "Nimbus Mono PS", "DejaVu Sans Mono"],
    "memo": ["Liberation Sans", "Nimbus Sans", "FreeSans", "DejaVu Sans"],
    "modern": ["Carlito", "Lato", "Open Sans", "Caladea", "DejaVu Sans"],
}
PX = DPI / 25.4  # pixels per mm
A4 = (round(210 * PX), round(297 * PX))


class Writer:
    """A cursor down the page in mm, drawing lines of text at a size in points."""

    def __init__(
        self, image: Image.Image, family: str, size_pt: float, left: float, right: float
    ) -> None:
        self.draw = ImageDraw.Draw(image)
        self.family, self.size, self.left, self.right = family, size_pt, left, right
        self.y = 25.0  # baseline of the next line, mm from the top
        self.lead = size_pt * 0.3528 * 1.45

    def font(self, *, bold: bool = False, size: float | None = None) -> ImageFont.FreeTypeFont:
        path = font_file(self.family, bold=bold) or font_file(self.family) or "DejaVuSans.ttf"
        return ImageFont.truetype(path, round((size or self.size) * DPI / 72))

    def text(
        self,
        x_mm: float,
        text: str,
        *,
        bold: bool = False,
        size: float | None = None,
        anchor: str = "ls",
        fill: tuple[int, int, int] = (15, 15, 15),
    ) -> None:
        self.draw.text(
            (x_mm * PX, self.y * PX),
            text,
            font=self.font(bold=bold, size=size),
            fill=fill,
            anchor=anchor,
        )

    def line(self, text: str = "", *, bold: bool = False, gap: float = 1.0) -> None:
        if text:
            self.text(self.left, text, bold=bold)
        self.y += self.lead * gap

    def paragraph(self, text: str, *, justify: bool = False) -> None:
        font = self.font()
        width = (self.right - self.left) * PX
        lines: list[list[str]] = [[]]
        for word in text.split():
            if lines[-1] and font.getlength(" ".join([*lines[-1], word])) > width:
                lines.append([])
            lines[-1].append(word)
        for k, words in enumerate(lines):
            last = k == len(lines) - 1
            if justify and not last and len(words) > 1:
                spare = width - sum(font.getlength(w) for w in words)
                x = self.left * PX
                for w in words:
                    self.draw.text((x, self.y * PX), w, font=font, fill=(15, 15, 15), anchor="ls")
                    x += font.getlength(w) + spare / (len(words) - 1)
                self.y += self.lead
            else:
                self.line(" ".join(words))
        self.y += self.lead * 0.6


def _signature_block(
    w: Writer, spec: LetterSpec, rng: random.Random
) -> tuple[Band, tuple[float, float]]:
    w.line(spec.closing, gap=0)
    anchor = (w.left * PX, w.y * PX)
    gap = rng.uniform(14, 24)
    cap = w.size * 0.3528 * 0.7
    w.y += gap + cap
    w.line(spec.executive_name, bold=rng.random() < 0.4)
    w.line(spec.executive_title)
    if rng.random() < 0.5:
        w.line(spec.company.display_name)
    w.line(spec.executive_email)
    return Band(gap, cap, w.right - w.left), anchor


def _typewriter(
    w: Writer, spec: LetterSpec, rng: random.Random
) -> tuple[Band, tuple[float, float]]:
    for text in (spec.company.display_name, spec.company.street, spec.company.city):
        w.line(text)
    w.y -= w.lead * 3
    w.text(w.right, spec.date_text, anchor="rs")
    w.y += w.lead * 5
    for text in ("Keyholder Support", "Keyholder Platform"):
        w.line(text)
    w.line(gap=1)
    w.line(content.subject(spec).upper(), gap=2)
    w.line(content.opening(rng), gap=1.5)
    w.paragraph("I am writing to ask you to grant administrator access as set out below.")
    for label, value in content.labelled_items(spec):
        w.line(f"{label} {'.' * max(2, 30 - len(label))}: {value}")
    w.line(gap=0.6)
    w.paragraph(content.reason_sentence(spec, rng))
    w.paragraph(content.confirmation(spec, rng))
    return _signature_block(w, spec, rng)


def _memo(w: Writer, spec: LetterSpec, rng: random.Random) -> tuple[Band, tuple[float, float]]:
    colour = rng.choice([(30, 70, 130), (140, 30, 40), (30, 110, 80), (70, 70, 70)])
    w.draw.rectangle([0, 12 * PX, A4[0], 30 * PX], fill=colour)
    w.y = 24
    w.text(
        w.left, spec.company.display_name.upper(), bold=True, size=w.size + 6, fill=(255, 255, 255)
    )
    w.text(w.right, "MEMORANDUM", size=w.size + 2, anchor="rs", fill=(235, 235, 235))
    w.y = 44
    for label, value in (
        ("TO:", "Keyholder Support"),
        ("FROM:", spec.executive_name),
        ("DATE:", spec.date_text),
        ("RE:", "Administrator access"),
    ):
        w.text(w.left, label, bold=True)
        w.text(w.left + 25, value)
        w.y += w.lead * 1.2
    w.draw.line([w.left * PX, w.y * PX, w.right * PX, w.y * PX], fill=(60, 60, 60), width=3)
    w.y += w.lead * 2
    w.line(content.opening(rng), gap=1.5)
    w.paragraph(content.request_sentence(spec, rng))
    w.paragraph(content.reason_sentence(spec, rng))
    w.paragraph(content.confirmation(spec, rng))
    return _signature_block(w, spec, rng)


def _modern(w: Writer, spec: LetterSpec, rng: random.Random) -> tuple[Band, tuple[float, float]]:
    colour = rng.choice([(20, 90, 160), (200, 90, 20), (90, 40, 120)])
    size = 14 * PX
    x0 = w.right * PX - size
    w.draw.ellipse([x0, 14 * PX, x0 + size, 14 * PX + size], fill=colour)
    w.draw.ellipse(
        [x0 + size * 0.3, 14 * PX + size * 0.3, x0 + size * 0.7, 14 * PX + size * 0.7],
        fill=(255, 255, 255),
    )
    w.y = 22
    w.text(w.left, spec.company.display_name, bold=True, size=w.size + 5, fill=colour)
    w.y += 5
    w.text(
        w.left,
        f"{spec.company.street} | {spec.company.city} | {spec.company.phone}",
        size=w.size - 3,
        fill=(90, 90, 90),
    )
    w.y += 16
    w.line(spec.date_text, gap=2)
    w.line(content.opening(rng), gap=1.5)
    w.paragraph(
        "We would like to ask for a new administrator on our enterprise account. The details "
        "are below.",
        justify=True,
    )
    top = w.y - w.lead * 0.8
    items = content.labelled_items(spec)
    column = 6 + max(w.font(bold=True).getlength(label) for label, _ in items) / PX
    for label, value in items:
        w.text(w.left + 3, label, bold=True)
        w.text(w.left + column, value)
        w.y += w.lead * 1.3
    w.draw.rectangle(
        [w.left * PX, top * PX, w.right * PX, (w.y - w.lead * 0.5) * PX],
        outline=(150, 150, 150),
        width=2,
    )
    w.y += w.lead
    w.paragraph(content.reason_sentence(spec, rng), justify=True)
    w.paragraph(content.confirmation(spec, rng), justify=True)
    return _signature_block(w, spec, rng)


LAYOUTS = {"typewriter": _typewriter, "memo": _memo, "modern": _modern}


def render(spec: LetterSpec) -> Rendering:
    rng = random.Random(f"pillow/{spec.seed}/{spec.number}")
    template = rng.choice(TEMPLATES)
    family = rng.choice(available(FAMILIES[template]))
    image = Image.new("RGB", A4, (255, 255, 255))
    left = rng.uniform(20, 30)
    size = rng.choice([10.0, 11.0, 12.0]) if template != "typewriter" else rng.choice([10.0, 11.0])
    writer = Writer(image, family, size, left, 210 - rng.uniform(20, 28))
    band, anchor = LAYOUTS[template](writer, spec, rng)
    layers, details = band_marks(spec, band)
    return Rendering([lay_marks(image, layers, anchor)], None, template, family, details)
