"""Drawing operations for generated letters, and their two renderings.

A page is a list of operations in PDF points (A4, origin top left); Pillow
rasterises them at 200 dpi, ``pdf`` writes them as a PDF with a text layer.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

PAGE_W, PAGE_H = 595.0, 842.0  # A4 in points
DPI = 200
PX = DPI / 72

FONT_DIRS = [Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts/opentype")]
# family -> (regular, bold) candidates, first found wins; DejaVu is always there.
FONT_FILES = {
    "sans": [("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf"),
             ("liberation/LiberationSans-Regular.ttf", "liberation/LiberationSans-Bold.ttf")],
    "serif": [("dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSerif-Bold.ttf"),
              ("liberation/LiberationSerif-Regular.ttf", "liberation/LiberationSerif-Bold.ttf")],
    "condensed": [("dejavu/DejaVuSansCondensed.ttf", "dejavu/DejaVuSansCondensed-Bold.ttf")],
    "free": [("freefont/FreeSerif.ttf", "freefont/FreeSerifBold.ttf")],
}  # fmt: skip
SCRIPT_FONTS = ["dancingscript/DancingScript-Regular.otf", "dancingscript/DancingScript-Bold.otf"]
PDF_FONTS = {"sans": "Helvetica", "serif": "Times-Roman", "condensed": "Helvetica",
             "free": "Times-Roman", "script": "Times-Italic"}  # fmt: skip


@dataclass
class Text:
    x: float
    baseline: float
    text: str
    size: float
    font: str  # family key, or "script"
    bold: bool = False
    colour: tuple[int, int, int] = (10, 10, 10)  # stamps print in red or blue


@dataclass
class Stroke:
    points: list[tuple[float, float]]
    width: float
    colour: tuple[int, int, int]


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    colour: tuple[int, int, int]


@dataclass
class Picture:  # a pasted signature image
    x: float
    y: float
    strokes: list[Stroke]
    w: float
    h: float


Op = Text | Stroke | Rect | Picture


def load_font(family: str, size_px: float, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    if family == "script":
        candidates = [(f, f) for f in SCRIPT_FONTS]
    else:
        candidates = FONT_FILES[family] + FONT_FILES["sans"]
    for regular, bold_file in candidates:
        for base in FONT_DIRS:
            path = base / (bold_file if bold else regular)
            if path.exists():
                return ImageFont.truetype(str(path), round(size_px))
    return load_font("serif", size_px, bold=bold)  # no script font installed: italic-free fallback


def script_font_available() -> bool:
    return any((base / f).exists() for base in FONT_DIRS for f in SCRIPT_FONTS)


def font_available(family: str) -> bool:
    """Whether ``family`` renders in its own font rather than the fallback."""
    return any((base / regular).exists() for base in FONT_DIRS for regular, _ in FONT_FILES[family])


def rasterise(ops: list[Op]) -> Image.Image:
    image = Image.new("RGB", (round(PAGE_W * PX), round(PAGE_H * PX)), "white")
    draw = ImageDraw.Draw(image)
    for op in ops:
        if isinstance(op, Text):
            typeface = load_font(op.font, op.size * PX, bold=op.bold)
            draw.text(
                (op.x * PX, op.baseline * PX),
                op.text,
                font=typeface,
                fill=op.colour,
                anchor="ls",
            )
        elif isinstance(op, Rect):
            draw.rectangle(
                [op.x * PX, op.y * PX, (op.x + op.w) * PX, (op.y + op.h) * PX], fill=op.colour
            )
        elif isinstance(op, Stroke):
            draw_stroke(draw, op, 0, 0)
        else:
            for stroke in op.strokes:
                draw_stroke(draw, stroke, 0, 0)
    return image


def draw_stroke(draw: ImageDraw.ImageDraw, stroke: Stroke, dx: float, dy: float) -> None:
    points = [((x - dx) * PX, (y - dy) * PX) for x, y in stroke.points]
    draw.line(points, fill=stroke.colour, width=max(1, round(stroke.width * PX)), joint="curve")


# --- a PDF with a text layer --------------------------------------------------------


def _pdf_string(text: str) -> str:
    safe = text.replace("·", "-").encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


class _PdfWriter:
    """Just enough PDF: numbered objects, one xref table, base-14 fonts, RGB images."""

    def __init__(self) -> None:
        self.objects: list[bytes] = []

    def add(self, body: bytes | str) -> int:
        self.objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(self.objects)

    def stream(self, dictionary: str, data: bytes) -> int:
        return self.add(
            f"<< {dictionary} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"
        )

    def write(self, root: int, pages_id: int) -> bytes:
        out = io.BytesIO()
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self.objects, start=1):
            offsets.append(out.tell())
            filled = body.replace(b"{PAGES}", str(pages_id).encode())
            out.write(f"{number} 0 obj\n".encode() + filled + b"\nendobj\n")
        xref = out.tell()
        out.write(f"xref\n0 {len(self.objects) + 1}\n0000000000 65535 f \n".encode())
        out.writelines(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
        trailer = f"trailer\n<< /Size {len(self.objects) + 1} /Root {root} 0 R >>\n"
        out.write(f"{trailer}startxref\n{xref}\n%%EOF\n".encode())
        return out.getvalue()


def _pdf_font(op: Text) -> str:
    base = PDF_FONTS[op.font]
    if not op.bold or op.font == "script":
        return base
    return {"Helvetica": "Helvetica-Bold", "Times-Roman": "Times-Bold"}[base]


def _rgb(colour: tuple[int, int, int]) -> str:
    return " ".join(f"{c / 255:.3f}" for c in colour)


def _pdf_op(op: Op, fonts: dict[str, str], writer: _PdfWriter, images: dict[str, int]) -> str:
    if isinstance(op, Text):
        position = f"1 0 0 1 {op.x:.2f} {PAGE_H - op.baseline:.2f} Tm"
        font = f"/{fonts[_pdf_font(op)]} {op.size} Tf"
        return f"BT {_rgb(op.colour)} rg {font} {position} ({_pdf_string(op.text)}) Tj ET"
    if isinstance(op, Rect):
        return (
            f"{_rgb(op.colour)} rg {op.x:.2f} {PAGE_H - op.y - op.h:.2f} {op.w:.2f} {op.h:.2f} re f"
        )
    if isinstance(op, Stroke):
        path = " ".join(
            f"{x:.2f} {PAGE_H - y:.2f} {'l' if i else 'm'}" for i, (x, y) in enumerate(op.points)
        )
        return f"q {_rgb(op.colour)} RG {op.width:.2f} w 1 J 1 j {path} S Q"
    picture = Image.new("RGB", (round(op.w * PX), round(op.h * PX)), "white")
    draw = ImageDraw.Draw(picture)
    for stroke in op.strokes:
        draw_stroke(draw, stroke, op.x, op.y)
    name = f"Im{len(images)}"
    images[name] = writer.stream(
        f"/Type /XObject /Subtype /Image /Width {picture.width} /Height {picture.height} "
        "/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode",
        zlib.compress(picture.tobytes()),
    )
    return f"q {op.w:.2f} 0 0 {op.h:.2f} {op.x:.2f} {PAGE_H - op.y - op.h:.2f} cm /{name} Do Q"


def pdf(pages: list[list[Op]]) -> bytes:
    """A PDF whose words are real text (base-14 fonts), strokes as vector paths."""
    writer = _PdfWriter()
    used = sorted({_pdf_font(op) for ops in pages for op in ops if isinstance(op, Text)})
    fonts = {name: f"F{i}" for i, name in enumerate(used)}
    font_ids = {
        name: writer.add(
            f"<< /Type /Font /Subtype /Type1 /BaseFont /{name} /Encoding /WinAnsiEncoding >>"
        )
        for name in used
    }
    font_dict = " ".join(f"/{fonts[n]} {font_ids[n]} 0 R" for n in used)
    page_ids = []
    for ops in pages:
        images: dict[str, int] = {}
        content = "\n".join(_pdf_op(op, fonts, writer, images) for op in ops).encode("latin-1")
        content_id = writer.stream("", content)
        xobjects = " ".join(f"/{n} {i} 0 R" for n, i in images.items())
        page_ids.append(
            writer.add(
                f"<< /Type /Page /Parent {{PAGES}} 0 R /MediaBox [0 0 {PAGE_W:.0f} {PAGE_H:.0f}] "
                f"/Contents {content_id} 0 R "
                f"/Resources << /Font << {font_dict} >> /XObject << {xobjects} >> >> >>"
            )
        )
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    pages_id = writer.add(f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>")
    root = writer.add(f"<< /Type /Catalog /Pages {pages_id} 0 R >>")
    return writer.write(root, pages_id)
