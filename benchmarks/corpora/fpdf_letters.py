"""Letters written with fpdf2 (a pure-Python PDF writer), the held-out generator.

It shares only the content with the other generators (``spec.py``, ``wording.py``):
its own templates, fonts (TrueType/OpenType through fontconfig), signatures
(``fpdf_signatures.py``), stamps and seals (``fpdf_clutter.py``) and degradations
(``fpdf_degrade.py``). The ink is embedded in the PDF as RGBA images drawn with a
multiply blend, and the page images are the PDF as PDFium draws it.

Templates: ``letterhead`` (a logo block, the sender's address, the date flush right),
``desk`` (a "from the desk of" memo with To/From/Date/Re fields), ``reference`` (our
and your reference, a bold subject, numbered paragraphs), ``table`` (the details in a
small bordered table, the signature block on the right half). About one letter in ten
runs onto a second page, which then carries the signature block.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from fpdf import FPDF
from PIL import Image

from benchmarks.corpora import wording
from benchmarks.corpora.base import Rendering, raster
from benchmarks.corpora.fpdf_clutter import band_stamp, font_path
from benchmarks.corpora.fpdf_signatures import Ink, reaches, signature
from benchmarks.corpora.spec import LetterSpec

TEMPLATES = ("letterhead", "desk", "reference", "table")
FAMILIES = {  # family -> styles of its regular, bold and italic faces
    "Liberation Serif": ("Regular", "Bold", "Italic"),
    "Liberation Sans": ("Regular", "Bold", "Italic"),
    "FreeSerif": ("Regular", "Bold", "Italic"),
    "FreeSans": ("Regular", "Bold", "Oblique"),
    "Carlito": ("Regular", "Bold", "Italic"),
    "Caladea": ("Regular", "Bold", "Italic"),
    "Lato": ("Regular", "Bold", "Italic"),
    "Open Sans": ("Regular", "Bold", "Italic"),
    "C059": ("Roman", "Bold", "Italic"),
    "P052": ("Roman", "Bold", "Italic"),
    "Nimbus Sans": ("Regular", "Bold", "Italic"),
    "URW Bookman": ("Light", "Demi", "Light Italic"),
}
ACCENTS = ((20, 60, 120), (120, 20, 40), (20, 90, 80), (60, 60, 60), (170, 90, 0), (70, 40, 120))
RECIPIENT = [
    "Keyholder Support",
    "Account Security Team",
    "PO Box 4410",
    "Dublin D02 X285, Ireland",
]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
PT = 25.4 / 72  # mm per point
logging.getLogger("fontTools").setLevel(logging.ERROR)  # old fonts' header dates


def families() -> list[str]:
    found = [f for f, (r, b, i) in FAMILIES.items() if all(font_path(f, s) for s in (r, b, i))]
    return found or ["Helvetica"]


@dataclass
class Style:
    family: str
    size: float  # pt
    leading: float  # line height in mm
    align: str  # "L" or "J"
    accent: tuple[int, int, int]


class Letter(FPDF):
    """A page with the fonts registered and helpers for paragraphs and lines."""

    def __init__(self, style: Style, margins: tuple[float, float, float]) -> None:
        super().__init__(unit="mm", format="A4")
        self.style = style
        left, top, right = margins
        self.set_margins(left, top, right)
        self.set_auto_page_break(True, 22)
        self.c_margin = 0.0
        self.set_creation_date(EPOCH)
        self.set_creator("Letters")
        self.set_producer("fpdf2")
        self.set_title("Letter")
        if style.family != "Helvetica":
            regular, bold, italic = FAMILIES[style.family]
            for flag, face in (("", regular), ("B", bold), ("I", italic)):
                self.add_font(style.family, flag, font_path(style.family, face))
        self.continuation: str | None = None
        self.add_page()

    def header(self) -> None:
        if self.page_no() > 1 and self.continuation:
            self.use(size=self.style.size - 2)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, f"{self.continuation} - page {self.page_no()}", align="L")
            self.set_text_color(0, 0, 0)
            self.ln(12)
            self.use()

    def use(self, flag: str = "", size: float | None = None) -> None:
        self.set_font(self.style.family, flag, size or self.style.size)

    def para(self, text: str, gap: float = 1.0) -> None:
        self.multi_cell(
            0, self.style.leading, text, align=self.style.align, new_x="LMARGIN", new_y="NEXT"
        )
        self.ln(self.style.leading * gap * 0.6)

    def line_of(
        self, text: str, flag: str = "", align: str = "L", size: float | None = None
    ) -> None:
        self.use(flag, size)
        self.cell(0, self.style.leading, text, align=align, new_x="LMARGIN", new_y="NEXT")
        self.use()

    def item(self, label: str, value: str, indent: float) -> None:
        self.set_x(self.l_margin + indent)
        self.use("B")
        self.write(self.style.leading, f"{label}: ")
        self.use()
        self.write(self.style.leading, value)
        self.ln(self.style.leading)

    def cap_mm(self) -> float:
        return self.current_font.desc.cap_height / 1000 * self.font_size_pt * PT  # type: ignore[union-attr]


def _logo(
    pdf: Letter, spec: LetterSpec, x: float, y: float, *, size: float, rng: random.Random
) -> None:
    """A printed logo: a coloured shape with the company's initials."""
    initials = "".join(w[0] for w in spec.company.display_name.split() if w[:1].isalpha())[:2]
    pdf.set_fill_color(*pdf.style.accent)
    shape = rng.choice(["square", "circle", "diamond"])
    if shape == "circle":
        pdf.ellipse(x, y, size, size, style="F")
    elif shape == "diamond":
        h = size / 2
        pdf.polygon([(x + h, y), (x + size, y + h), (x + h, y + size), (x, y + h)], style="F")
    else:
        pdf.rect(
            x, y, size, size, style="F", round_corners=rng.random() < 0.5, corner_radius=size / 6
        )
    pdf.set_text_color(255, 255, 255)
    pdf.use("B", size / PT * 0.42)
    pdf.set_xy(x, y + size / 2 - size * 0.18)
    pdf.cell(size, size * 0.36, initials.upper(), align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.use()


def _sender_lines(spec: LetterSpec) -> list[str]:
    c = spec.company
    return [c.display_name, c.street, c.city, f"Tel. {c.phone}", f"www.{c.domain}"]


def _body(
    pdf: Letter, spec: LetterSpec, rng: random.Random, *, listed: bool, numbered: bool = False
) -> None:
    """Opening, request, items, reason, confirmation: what every template says."""
    pdf.para(wording.opening(rng))
    parts: list[str] = []
    if listed:
        parts.append(
            rng.choice(
                [
                    f"I am writing as {spec.executive_title} of {spec.company.display_name} to ask "
                    "that a new administrator be added to our enterprise account. The details:",
                    "Please grant administrator access to our enterprise account as follows:",
                ]
            )
        )
    else:
        parts.append(wording.request_sentence(spec, rng))

    def prefix(n: int) -> str:
        return f"{n}.  " if numbered else ""

    pdf.para(prefix(1) + parts[0])
    if listed:  # the items, one per line
        indent = rng.choice([0.0, 8.0, 12.0])
        for label, value in wording.labelled_items(spec):
            pdf.item(label, value, indent)
        pdf.ln(pdf.style.leading * 0.6)
    pdf.para(prefix(2) + wording.reason_sentence(spec, rng))
    if pdf.continuation is not None and pdf.page_no() == 1:
        pdf.add_page()  # the letter runs over: the rest and the signature on page 2
    pdf.para(prefix(3) + wording.confirmation(spec, rng))
    pdf.para(
        rng.choice(
            [
                f"You can reach me at {spec.executive_email} if you have any questions.",
                f"My email address is {spec.executive_email}.",
                f"Please reply to {spec.executive_email} to confirm the change.",
            ]
        )
    )


def _letterhead(pdf: Letter, spec: LetterSpec, rng: random.Random) -> None:
    size = rng.uniform(14, 22)
    top = pdf.t_margin
    _logo(pdf, spec, pdf.l_margin, top, size=size, rng=rng)
    pdf.set_xy(pdf.l_margin + size + 4, top + 1)
    pdf.use("B", pdf.style.size + 3)
    pdf.cell(0, 7, spec.company.display_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(80, 80, 80)
    for line in _sender_lines(spec)[1:]:
        pdf.set_x(pdf.l_margin + size + 4)
        pdf.use(size=pdf.style.size - 2)
        pdf.cell(0, 4.2, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(*pdf.style.accent)
    pdf.set_line_width(0.6)
    y = max(pdf.get_y(), top + size) + 3
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.set_y(y + 8)
    pdf.line_of(
        f"{spec.company.town}, {spec.date_text}" if rng.random() < 0.4 else spec.date_text,
        align="R",
    )
    pdf.ln(4)
    for line in RECIPIENT:
        pdf.line_of(line)
    pdf.ln(6)
    pdf.line_of(wording.subject(spec), "B")
    pdf.ln(3)
    _body(pdf, spec, rng, listed=True)


def _desk(pdf: Letter, spec: LetterSpec, rng: random.Random) -> None:
    pdf.set_text_color(*pdf.style.accent)
    pdf.set_char_spacing(1.5)
    pdf.line_of("FROM THE DESK OF", size=pdf.style.size - 2)
    pdf.set_char_spacing(0)
    pdf.line_of(spec.executive_name, "B", size=pdf.style.size + 8)
    pdf.ln(2)
    pdf.set_text_color(0, 0, 0)
    pdf.line_of(f"{spec.executive_title}, {spec.company.display_name}", "I")
    pdf.set_draw_color(*pdf.style.accent)
    pdf.set_line_width(0.3)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
    pdf.ln(9)
    fields = [
        ("To", "Keyholder Support"),
        ("From", f"{spec.executive_name} <{spec.executive_email}>"),
        ("Date", spec.date_text),
        ("Re", wording.subject(spec).removeprefix("Re: ")),
    ]
    for label, value in fields:
        pdf.use("B")
        pdf.cell(22, pdf.style.leading, f"{label}:")
        pdf.use()
        pdf.cell(0, pdf.style.leading, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    _body(pdf, spec, rng, listed=rng.random() < 0.6)


def _reference(pdf: Letter, spec: LetterSpec, rng: random.Random) -> None:
    pdf.use(size=pdf.style.size - 1)
    for line in _sender_lines(spec)[:3]:
        pdf.cell(0, 4.6, line, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    for line in RECIPIENT[:2] + RECIPIENT[3:]:
        pdf.line_of(line)
    pdf.ln(5)
    initials = "".join(w[0] for w in spec.executive_name.split()).upper()
    ours = f"{initials}/{spec.dated:%Y}/{rng.randint(100, 999)}"
    pdf.line_of(f"Our ref.: {ours}      Your ref.: -")
    pdf.line_of(f"Date: {spec.date_text}")
    pdf.ln(5)
    pdf.use("B", pdf.style.size + 0.5)
    pdf.multi_cell(0, pdf.style.leading, wording.subject(spec), new_x="LMARGIN", new_y="NEXT")
    if rng.random() < 0.5:
        y = pdf.get_y()
        pdf.set_line_width(0.25)
        pdf.line(pdf.l_margin, y, pdf.l_margin + pdf.get_string_width(wording.subject(spec)), y)
    pdf.use()
    pdf.ln(4)
    _body(pdf, spec, rng, listed=rng.random() < 0.5, numbered=True)


def _table(pdf: Letter, spec: LetterSpec, rng: random.Random) -> None:
    pdf.set_text_color(*pdf.style.accent)
    pdf.line_of(spec.company.display_name.upper(), "B", align="C", size=pdf.style.size + 5)
    pdf.set_text_color(90, 90, 90)
    pdf.line_of(" | ".join(_sender_lines(spec)[1:4]), align="C", size=pdf.style.size - 2.5)
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(*pdf.style.accent)
    pdf.set_line_width(0.4)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
    pdf.ln(10)
    pdf.line_of(spec.date_text, align=rng.choice(["L", "R"]))
    pdf.ln(3)
    for line in RECIPIENT[:2]:
        pdf.line_of(line)
    pdf.ln(5)
    pdf.line_of(wording.subject(spec), "B")
    pdf.ln(2)
    pdf.para(wording.opening(rng))
    pdf.para(wording.request_sentence(spec, rng) + " The details are below.")
    pdf.set_draw_color(110, 110, 110)
    pdf.set_line_width(0.2)
    heading = rng.random() < 0.5
    with pdf.table(
        col_widths=(rng.uniform(30, 42), 60),
        width=rng.uniform(120, 150),
        first_row_as_headings=heading,
        line_height=pdf.style.leading,
        text_align="LEFT",
        align="LEFT",
        padding=1.5,
    ) as table:
        if heading:
            table.row(["Item", "Value"])
        for label, value in wording.labelled_items(spec):
            row = table.row()
            row.cell(label)
            row.cell(value)
    pdf.ln(5)
    pdf.para(wording.reason_sentence(spec, rng))
    if pdf.continuation is not None:
        pdf.add_page()
    pdf.para(wording.confirmation(spec, rng) + f" Please write to me at {spec.executive_email}.")


BUILD = {"letterhead": _letterhead, "desk": _desk, "reference": _reference, "table": _table}
NOTES = (
    "Dictated by the sender and sent without a signature.",
    "This letter was prepared electronically and is valid without a signature.",
    "(original signed and held on file)",
    "Signed on behalf of the sender in their absence.",
)


def _printed_clutter(
    pdf: Letter, spec: LetterSpec, x: float, y0: float, *, gap: float, rng: random.Random
) -> None:
    """Printed marks in the band: a signature rule, a logo or a note (at ``x``; ``y0``
    is the closing's baseline)."""
    pdf.set_text_color(70, 70, 70)
    if spec.clutter == "rule":
        y = y0 + gap - rng.uniform(1.0, 2.5)
        start = x
        if rng.random() < 0.5:
            label = rng.choice(["Signature:", "Signed:", "Authorised signature:"])
            pdf.use(size=pdf.style.size - 2)
            pdf.text(x, y, label)
            start = x + pdf.get_string_width(label) + 2
        pdf.set_draw_color(40, 40, 40)
        pdf.set_line_width(0.25)
        pdf.line(start, y, start + rng.uniform(50, 75), y)
    elif spec.clutter == "logo":
        _logo(pdf, spec, x + rng.uniform(55, 85), y0 + gap / 2 - 6, size=12, rng=rng)
    elif spec.clutter == "printed":
        pdf.use("I", pdf.style.size - 1.5)
        pdf.text(x + rng.uniform(0, 10), y0 + gap / 2 + 1.5, rng.choice(NOTES))
    pdf.set_text_color(0, 0, 0)
    pdf.use()


def _lay(pdf: Letter, ink: Ink, x: float, y: float) -> None:
    """Ink onto the page as ink: an RGBA image multiplied with what is printed."""
    image = Image.fromarray(ink.rgba(), "RGBA")
    h, w = ink.alpha.shape
    with pdf.local_context(blend_mode="Multiply"):
        pdf.image(image, x + ink.x_mm, y + ink.y_mm, w * 25.4 / ink.dpi, h * 25.4 / ink.dpi)


def _sign_off(
    pdf: Letter, spec: LetterSpec, rng: random.Random, right_half: bool
) -> dict[str, object]:
    """Closing, band, typed name and title; the band's ink and marks. Returns the details."""
    x = pdf.w / 2 + rng.uniform(0, 10) if right_half else pdf.l_margin
    room = pdf.w - pdf.r_margin - x
    gap = rng.uniform(14, 28) if spec.signed else rng.uniform(10, 24)
    pdf.use()
    cap = pdf.cap_mm()
    block = gap + 5 * pdf.style.leading + 12
    if pdf.get_y() + block > pdf.h - pdf.b_margin:
        pdf.add_page()
    y0 = pdf.get_y() + pdf.style.leading * rng.uniform(0.8, 1.6)
    pdf.text(x, y0, spec.closing)
    name_base = y0 + gap + cap
    pdf.use(rng.choice(["", "B"]))
    pdf.text(x, name_base, spec.executive_name)
    pdf.use()
    lines = [spec.executive_title, spec.company.display_name]
    if rng.random() < 0.5:
        lines.append(spec.executive_email)
    for i, line in enumerate(lines, start=1):
        pdf.text(x, name_base + i * pdf.style.leading, line)
    _printed_clutter(pdf, spec, x, y0, gap=gap, rng=rng)
    nrng = np.random.default_rng(rng.getrandbits(63))
    details: dict[str, object] = {"band_gap_mm": round(gap, 1)}
    ink = signature(spec.executive_name, spec.signature, gap, cap, room) if spec.signature else None
    if spec.clutter in ("stamp", "seal"):
        right = ink.x_mm + ink.alpha.shape[1] * 25.4 / ink.dpi if ink else rng.uniform(0, 30)
        _lay(
            pdf,
            band_stamp(spec, gap=gap, room=room, sig_right=right, rng=nrng),
            x,
            y0,
        )
    if ink is not None:
        _lay(pdf, ink, x, y0)
        details["ink_reaches"] = reaches(ink, gap, cap)
    pdf.set_y(name_base + (len(lines) + 1) * pdf.style.leading)
    return details


def render(spec: LetterSpec) -> Rendering:
    rng = random.Random(f"fpdf/{spec.seed}/{spec.number}")
    template = rng.choice(TEMPLATES)
    family = rng.choice(families())
    size = rng.choice([10.0, 10.5, 11.0, 11.5, 12.0, 12.5])
    style = Style(
        family,
        size,
        leading=size * PT * rng.uniform(1.2, 1.55),
        align=rng.choice(["L", "J"]),
        accent=rng.choice(ACCENTS),
    )
    margins = (rng.uniform(18, 32), rng.uniform(14, 28), rng.uniform(18, 30))
    pdf = Letter(style, margins)
    if rng.random() < 0.1:
        pdf.continuation = f"{spec.company.display_name} to Keyholder Support, {spec.date_text}"
    pdf.use()
    BUILD[template](pdf, spec, rng)
    details = _sign_off(pdf, spec, rng, right_half=template == "table" and rng.random() < 0.6)
    if pdf.continuation is not None:
        template += "+page2"
    data = bytes(pdf.output())
    return Rendering(raster(data), data, template, family, details)
