"""What the three generators share: the result of rendering a letter, the marks in its
signature band (the signature's ink and any stamp, seal, logo or printed note), and
system fonts found through fontconfig."""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from benchmarks.corpora.clutter import band_clutter
from benchmarks.corpora.signatures import Band, InkLayer, multiply, overlaps, signature_ink
from benchmarks.corpora.spec import LetterSpec

DPI = 200  # the clean page images; scans and photos resample from here
MM = 72 / 25.4  # PDF points per millimetre


@dataclass
class Rendering:
    pages: list[Image.Image]  # clean page images at DPI, ink laid on
    pdf: (
        bytes | None
    )  # a PDF with a text layer (signature as an embedded image), if the engine writes one
    template: str
    font: str
    details: dict[str, object] = field(default_factory=dict)  # e.g. where the ink reaches


def band_marks(
    spec: LetterSpec, band: Band, dpi: int = DPI
) -> tuple[list[InkLayer], dict[str, object]]:
    """The ink layers for the band under the closing (clutter first, signature on top),
    positioned in mm from the closing line's baseline at the left margin, and what the
    signature's ink actually reaches."""
    layers: list[InkLayer] = []
    clutter = band_clutter(spec, band, dpi)
    if clutter is not None:
        layers.append(clutter)
    details: dict[str, object] = {"band_gap_mm": round(band.gap, 1)}
    if spec.signature is not None:
        ink = signature_ink(spec.executive_name, spec.signature, band, dpi)
        layers.append(ink)
        details["ink_reaches"] = overlaps(ink, band)
    return layers, details


def lay_marks(
    page: Image.Image, layers: list[InkLayer], anchor_px: tuple[float, float]
) -> Image.Image:
    """The page with each layer multiplied on, ``anchor_px`` being the closing line's
    baseline at the left margin."""
    array = np.asarray(page.convert("RGB")).copy()
    for layer in layers:
        px = layer.dpi / 25.4
        multiply(
            array,
            layer,
            round(anchor_px[0] + layer.x_mm * px),
            round(anchor_px[1] + layer.y_mm * px),
        )
    return Image.fromarray(array)


def png_of(layer: InkLayer) -> Image.Image:
    return Image.fromarray(layer.rgba(), "RGBA")


@functools.cache
def font_file(family: str, *, bold: bool = False, italic: bool = False) -> str | None:
    """The file fontconfig has for ``family`` (None when only a substitute would be found)."""
    if shutil.which("fc-match") is None:
        return None
    style = ":weight=bold" if bold else ""
    style += ":slant=italic" if italic else ""
    found = subprocess.run(
        ["fc-match", "-f", "%{file}\n%{family}", f"{family}{style}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split("\n")
    if len(found) < 2 or family.lower() not in found[1].lower():
        return None
    return found[0]


def available(families: list[str]) -> list[str]:
    """The families of ``families`` installed here (the first is the fallback if none)."""
    return [f for f in families if font_file(f)] or families[:1]


def raster(pdf: bytes, dpi: int = DPI) -> list[Image.Image]:
    """The PDF's pages as images, as PDFium (what the pre-screen loads PDFs with) draws them."""
    import pypdfium2 as pdfium  # noqa: PLC0415 - only the PDF engines need it

    document = pdfium.PdfDocument(pdf)
    try:
        return [
            document[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(document))
        ]
    finally:
        document.close()
