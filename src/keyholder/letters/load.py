"""Load a letter: sniff its type, refuse what we do not take, turn it into pages.

PDF, PNG and JPEG only, decided by the bytes themselves (S32); size, pixel and
page limits (S33). PDFs keep their text layer (no OCR needed for those pages)
and are always rendered, because the signature check looks at ink.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps, UnidentifiedImageError

from keyholder.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from keyholder.letters.columns import text_layer_lines
from keyholder.letters.document import Box, Page, TextSource, Word

RENDER_DPI = 200
POINTS_PER_INCH = 72
# A page larger than A2 is not a letter; refusing it bounds the rendering cost.
MAX_PAGE_POINTS = 1191 * 1684
# Words on a page's text layer below this count mean "scanned PDF": OCR it.
MIN_TEXT_LAYER_WORDS = 5
# What pdfium reads a hyphen as when it takes it for a line-end hyphen.
HYPHEN_MARK = "\x02"
# Markup in the first bytes makes a file a polyglot a browser might run (S32).
_MARKUP = re.compile(rb"<\s*(html|script|svg|!doctype|body|iframe)", re.IGNORECASE)


class MediaType(StrEnum):
    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"


_EXTENSIONS = {
    MediaType.PDF: {".pdf"},
    MediaType.PNG: {".png"},
    MediaType.JPEG: {".jpg", ".jpeg"},
}


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 50_000_000
    max_pages: int = 10


def sniff(data: bytes, filename: str | None = None) -> MediaType:
    """The type of ``data`` from its magic bytes; raises UnsupportedMediaType (415).

    When a filename is given its extension must agree with the content.
    """
    if data.startswith(b"%PDF-"):
        media_type = MediaType.PDF
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        media_type = MediaType.PNG
    elif data.startswith(b"\xff\xd8\xff"):
        media_type = MediaType.JPEG
    else:
        raise UnsupportedMediaType("a letter must be a PDF, PNG or JPEG file")
    if _MARKUP.search(data[:1024]):
        raise UnsupportedMediaType("the file also carries HTML or SVG markup")
    if media_type is not MediaType.PDF and b"%PDF-" in data:
        raise UnsupportedMediaType("the image also carries a PDF (a polyglot file)")
    if filename is not None:
        extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if extension not in _EXTENSIONS[media_type]:
            raise UnsupportedMediaType(
                f"the file's content is {media_type.value} but its name ends in "
                f"{extension or 'no extension'}"
            )
    return media_type


def load_pages(data: bytes, *, limits: Limits, filename: str | None = None) -> list[Page]:
    """Pages of the letter in ``data``, as RGB images (PDF pages with their text layer)."""
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(f"a letter may be at most {limits.max_bytes} bytes")
    media_type = sniff(data, filename)
    if media_type is MediaType.PDF:
        return _load_pdf(data, limits)
    return [_load_image(data, limits)]


def _load_image(data: bytes, limits: Limits) -> Page:
    # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that: make both an error.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = limits.max_pixels
        try:
            with Image.open(io.BytesIO(data)) as opened:
                if opened.format not in {"PNG", "JPEG"}:
                    raise UnsupportedMediaType("a letter must be a PDF, PNG or JPEG file")
                image = ImageOps.exif_transpose(opened).convert("RGB")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PayloadTooLarge(f"the image has more than {limits.max_pixels} pixels") from exc
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise InvalidInput(f"the image cannot be read: {exc}") from exc
        finally:
            Image.MAX_IMAGE_PIXELS = previous
    return Page(number=1, image=np.asarray(image, dtype=np.uint8), source_kind="image")


def _load_pdf(data: bytes, limits: Limits) -> list[Page]:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise InvalidInput(f"the PDF cannot be read: {exc}") from exc
    try:
        if len(document) == 0:
            raise InvalidInput("the PDF has no pages")
        if len(document) > limits.max_pages:
            raise PayloadTooLarge(f"a letter may have at most {limits.max_pages} pages")
        return [_load_pdf_page(document[i], i + 1, limits) for i in range(len(document))]
    finally:
        document.close()


def _load_pdf_page(pdf_page: pdfium.PdfPage, number: int, limits: Limits) -> Page:
    width_pt, height_pt = pdf_page.get_size()
    scale = RENDER_DPI / POINTS_PER_INCH
    if width_pt * height_pt > MAX_PAGE_POINTS or (
        width_pt * height_pt * scale * scale > limits.max_pixels
    ):
        raise PayloadTooLarge(f"page {number} is larger than A2")
    bitmap = pdf_page.render(scale=scale, rotation=0)
    image = np.asarray(bitmap.to_pil().convert("RGB"), dtype=np.uint8)
    page = Page(number=number, image=image, source_kind="pdf")
    words = _text_layer_words(pdf_page, number, scale, height_pt)
    if len(words) >= MIN_TEXT_LAYER_WORDS:
        page.text_source = TextSource.TEXT_LAYER
        page.lines = text_layer_lines(words)
    page.image_boxes = [
        _to_pixels(obj.get_bounds(), number, scale, height_pt)
        for obj in pdf_page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])
    ]
    return page


def _to_pixels(
    bounds: tuple[float, float, float, float], number: int, scale: float, height_pt: float
) -> Box:
    left, bottom, right, top = bounds
    x, y = round(left * scale), round((height_pt - top) * scale)
    return Box(
        number, x, y, max(1, round((right - left) * scale)), max(1, round((top - bottom) * scale))
    )


def _word_box(
    boxes: list[tuple[float, float, float, float]], page_size: tuple[float, float]
) -> tuple[float, float, float, float]:
    """The box round a word's characters, leaving out those whose box is off the page
    or off the word's line: pdfium places the letters of a ligature Chromium printed
    ("fi" in "confirm") far from the word, off the page, and one such box made a line
    of the whole page (issue 14: Chromium's PDFs read as one jumbled line)."""
    width, height = page_size
    on_page = [
        b for b in boxes if b[0] >= -1 and b[1] >= -1 and b[2] <= width + 1 and b[3] <= height + 1
    ] or boxes
    middles = sorted((bottom + top) / 2 for _, bottom, _, top in on_page)
    heights = sorted(top - bottom for _, bottom, _, top in on_page)
    middle, tall = middles[len(middles) // 2], heights[len(heights) // 2]
    on_line = [
        b
        for b in on_page
        if abs((b[1] + b[3]) / 2 - middle) <= tall / 2 and b[3] - b[1] <= 2 * tall
    ] or on_page
    return (
        min(b[0] for b in on_line),
        min(b[1] for b in on_line),
        max(b[2] for b in on_line),
        max(b[3] for b in on_line),
    )


def _text_layer_words(
    pdf_page: pdfium.PdfPage, number: int, scale: float, height_pt: float
) -> list[Word]:
    """Words of the page's text layer with their boxes (characters joined between spaces)."""
    page_size = pdf_page.get_size()
    textpage = pdf_page.get_textpage()
    try:
        words: list[Word] = []
        chars: list[str] = []
        boxes: list[tuple[float, float, float, float]] = []

        def flush() -> None:
            if chars:
                box = _word_box(boxes, page_size)
                words.append(Word("".join(chars), _to_pixels(box, number, scale, height_pt), 100.0))
            chars.clear()
            boxes.clear()

        for index in range(textpage.count_chars()):
            char = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index))
            if char.isspace() or char == "\x00":
                flush()
                continue
            # Loose boxes span the font's ascent and descent: even lines, whole words.
            # pdfium adds (generated) spaces where words are set apart without one.
            # It reads a hyphen it takes for a line-end hyphen as U+0002; Chromium's
            # PDFs have them mid-line ("adventure-works.example", issue 14).
            chars.append("-" if char == HYPHEN_MARK else char)
            boxes.append(textpage.get_charbox(index, loose=True))
        flush()
        return words
    finally:
        textpage.close()
