"""Letters typeset by reportlab: a text PDF (signature and stamps as embedded images,
multiplied onto the page) and its PDFium rendering.

Three habits: ``block`` (platypus, a letterhead table, the items in a gridded table),
``sidebar`` (canvas drawing, a coloured strip with the company name running up the
left edge, labels in bold), ``formal`` (platypus, serif, sender's address top right,
the items as a numbered list inside the prose).
"""

from __future__ import annotations

import io
import random
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from benchmarks.corpora import wording as content
from benchmarks.corpora.base import MM, Rendering, band_marks, font_file, png_of, raster
from benchmarks.corpora.signatures import Band, InkLayer
from benchmarks.corpora.spec import LetterSpec

TEMPLATES = ("block", "sidebar", "formal")
BASE14 = {
    "Helvetica": ("Helvetica", "Helvetica-Bold"),
    "Times": ("Times-Roman", "Times-Bold"),
    "Courier": ("Courier", "Courier-Bold"),
}
TRUETYPE = ["Carlito", "Caladea", "Liberation Serif", "Lato", "DejaVu Serif", "FreeSans"]
FAMILIES = {
    "block": ["Helvetica", "Carlito", "Lato", "FreeSans"],
    "sidebar": ["Helvetica", "Carlito", "Lato"],
    "formal": ["Times", "Caladea", "Liberation Serif", "DejaVu Serif"],
}
PAGE_W, PAGE_H = A4


def _fonts(family: str) -> tuple[str, str]:
    """(regular, bold) reportlab font names for ``family``, registering TrueType files."""
    if family in BASE14:
        return BASE14[family]
    regular, bold = font_file(family), font_file(family, bold=True)
    if regular is None:
        return BASE14["Helvetica"]
    names = (family.replace(" ", ""), family.replace(" ", "") + "-Bold")
    for name, path in zip(names, (regular, bold or regular), strict=True):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, path))
    return names


def _draw_layers(canvas: Canvas, layers: list[InkLayer], x: float, baseline: float) -> None:
    """Each layer as an RGBA image multiplied onto the page, placed from the closing's
    baseline at ``(x, baseline)`` (PDF points, y up)."""
    for layer in layers:
        w_mm, h_mm = layer.size_mm
        canvas.saveState()
        canvas.setBlendMode("Multiply")
        canvas.drawImage(
            ImageReader(png_of(layer)),
            x + layer.x_mm * MM,
            baseline - (layer.y_mm + h_mm) * MM,
            w_mm * MM,
            h_mm * MM,
            mask="auto",
        )
        canvas.restoreState()


class SignatureBlock(Flowable):  # type: ignore[misc]  # reportlab ships no types
    """The closing, the band left for the pen, and the typed name, title and email."""

    def __init__(
        self,
        spec: LetterSpec,
        fonts: tuple[str, str],
        size: float,
        width: float,
        rng: random.Random,
    ) -> None:
        super().__init__()
        self.spec, self.fonts, self.size, self.avail = spec, fonts, size, width
        self.gap = rng.uniform(13, 24)  # mm from the closing's baseline to the name's capitals
        self.lines = [spec.executive_name, spec.executive_title, spec.executive_email]
        if rng.random() < 0.4:
            self.lines.insert(2, spec.company.display_name)
        self.bold_name = rng.random() < 0.5
        self.band = Band(self.gap, size * 0.72 / MM, width / MM)
        self.layers, self.details = band_marks(spec, self.band)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.height = self.size * 1.2 + self.gap * MM + len(self.lines) * self.size * 1.3
        return avail_width, self.height

    def draw(self) -> None:
        c = self.canv
        baseline = self.height - self.size
        c.setFont(self.fonts[0], self.size)
        c.drawString(0, baseline, self.spec.closing)
        y = baseline - self.gap * MM - self.size * 0.72
        for k, text in enumerate(self.lines):
            c.setFont(self.fonts[1] if k == 0 and self.bold_name else self.fonts[0], self.size)
            c.drawString(0, y, text)
            y -= self.size * 1.3
        _draw_layers(c, self.layers, 0, baseline)


def _styles(fonts: tuple[str, str], size: float) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle(
        "body", fontName=fonts[0], fontSize=size, leading=size * 1.4, spaceAfter=size * 0.7
    )
    return {
        "body": body,
        "justified": ParagraphStyle("justified", parent=body, alignment=TA_JUSTIFY),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT, spaceAfter=0),
        "bold": ParagraphStyle("bold", parent=body, fontName=fonts[1]),
        "head": ParagraphStyle(
            "head", parent=body, fontName=fonts[1], fontSize=size + 7, leading=size + 10
        ),
        "small": ParagraphStyle(
            "small", parent=body, fontSize=size - 2.5, leading=size, textColor=colors.grey
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _block(spec: LetterSpec, fonts: tuple[str, str], size: float, rng: random.Random) -> list[Any]:
    st = _styles(fonts, size)
    colour = rng.choice(
        [colors.HexColor("#1d4e89"), colors.HexColor("#8a1c1c"), colors.HexColor("#2e6b3f")]
    )
    head = ParagraphStyle("h", parent=st["head"], textColor=colour)
    address = "<br/>".join(
        escape(t) for t in (spec.company.street, spec.company.city, spec.company.phone)
    )
    letterhead = Table(
        [[_p(spec.company.display_name, head), Paragraph(address, st["small"])]],
        colWidths=[300, 150],
    )
    letterhead.setStyle(
        TableStyle(
            [("LINEBELOW", (0, 0), (-1, 0), 1.5, colour), ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]
        )
    )
    items = Table(
        [
            [_p(label, st["bold"]), _p(value, st["body"])]
            for label, value in content.labelled_items(spec)
        ],
        colWidths=[150, 300],
    )
    items.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0")),
            ]
        )
    )
    return [
        letterhead,
        Spacer(1, 24),
        _p(spec.date_text, st["right"]),
        Spacer(1, 12),
        _p("Keyholder Support", st["body"]),
        Spacer(1, 8),
        _p(content.subject(spec), st["bold"]),
        _p(content.opening(rng), st["body"]),
        _p("Please grant administrator access to our enterprise account:", st["body"]),
        items,
        Spacer(1, 12),
        _p(content.reason_sentence(spec, rng), st["justified"]),
        _p(content.confirmation(spec, rng), st["justified"]),
    ]


def _formal(spec: LetterSpec, fonts: tuple[str, str], size: float, rng: random.Random) -> list[Any]:
    st = _styles(fonts, size)
    sender = "<br/>".join(
        escape(t)
        for t in (spec.company.display_name, spec.company.street, spec.company.city, spec.date_text)
    )
    numbered = "".join(
        f"<br/>{k}. {escape(label)}: {escape(value)}"
        for k, (label, value) in enumerate(content.labelled_items(spec), start=1)
    )
    return [
        Paragraph(sender, st["right"]),
        Spacer(1, 28),
        Paragraph("Keyholder Support<br/>Keyholder Platform", st["body"]),
        Spacer(1, 14),
        _p(content.opening(rng), st["body"]),
        Paragraph(
            "I write to request administrator access to our enterprise account, as "
            f"follows:{numbered}",
            st["justified"],
        ),
        _p(content.reason_sentence(spec, rng), st["justified"]),
        _p(content.confirmation(spec, rng), st["justified"]),
    ]


def _sidebar_pdf(
    spec: LetterSpec, fonts: tuple[str, str], size: float, rng: random.Random
) -> tuple[bytes, dict[str, object]]:
    """Drawn with the canvas directly: every line placed by hand."""
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, invariant=1)
    colour = rng.choice(
        [colors.HexColor("#263859"), colors.HexColor("#5b2a86"), colors.HexColor("#0f5e57")]
    )
    c.setFillColor(colour)
    c.rect(0, 0, 22 * MM, PAGE_H, stroke=0, fill=1)
    c.saveState()
    c.setFillColor(colors.white)
    c.setFont(fonts[1], 16)
    c.translate(14 * MM, 30 * MM)
    c.rotate(90)
    c.drawString(0, 0, spec.company.display_name.upper())
    c.restoreState()
    c.setFillColor(colors.black)
    left, y = 35 * MM, PAGE_H - 30 * MM
    lead = size * 1.5

    def line(text: str, *, bold: bool = False, gap: float = 1.0) -> None:
        nonlocal y
        c.setFont(fonts[1] if bold else fonts[0], size)
        c.drawString(left, y, text)
        y -= lead * gap

    line(spec.date_text, gap=2.5)
    line(content.subject(spec), bold=True, gap=2)
    line(content.opening(rng), gap=1.6)
    for label, value in content.labelled_items(spec):
        c.setFont(fonts[1], size)
        c.drawString(left, y, f"{label}:")
        c.setFont(fonts[0], size)
        c.drawString(left + pdfmetrics.stringWidth(f"{label}: ", fonts[1], size), y, value)
        y -= lead
    y -= lead * 0.6
    width = PAGE_W - left - 25 * MM
    for sentence in (content.reason_sentence(spec, rng), content.confirmation(spec, rng)):
        paragraph = _p(sentence, _styles(fonts, size)["body"])
        _, h = paragraph.wrap(width, PAGE_H)
        paragraph.drawOn(c, left, y - h + size)
        y -= h + lead * 0.5
    block = SignatureBlock(spec, fonts, size, width, rng)
    _, h = block.wrap(width, PAGE_H)
    block.drawOn(c, left, y - h + size)
    c.showPage()
    c.save()
    return buffer.getvalue(), block.details


def render(spec: LetterSpec) -> Rendering:
    rng = random.Random(f"reportlab/{spec.seed}/{spec.number}")
    template = rng.choice(TEMPLATES)
    family = rng.choice([f for f in FAMILIES[template] if f in BASE14 or font_file(f)])
    fonts = _fonts(family)
    size = rng.choice([10.0, 10.5, 11.0, 12.0])
    if template == "sidebar":
        pdf, details = _sidebar_pdf(spec, fonts, size, rng)
    else:
        story = (_block if template == "block" else _formal)(spec, fonts, size, rng)
        margin = rng.uniform(18, 30) * MM
        block = SignatureBlock(spec, fonts, size, PAGE_W - 2 * margin, rng)
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=margin,
            rightMargin=margin,
            topMargin=rng.uniform(15, 28) * MM,
            bottomMargin=20 * MM,
            invariant=1,
            title="Letter",
        )
        doc.build([*story, Spacer(1, 6), block])
        pdf, details = buffer.getvalue(), block.details
    return Rendering(raster(pdf), pdf, template, family, details)
