"""Letters written as HTML/CSS and printed to PDF by Chromium (``chromium --headless
--print-to-pdf``, Debian's package found on PATH; nothing is downloaded), then drawn
by PDFium for the page images.

Five templates with their own habits: ``classic`` (centred serif letterhead, items as
a definition list), ``corporate`` (flexbox header with a CSS logo, items in a striped
table, a registered-office footer), ``minimal`` (no letterhead, the request in prose,
place and date above the closing), ``two-column`` (sender details in a grey side
column), ``bullets`` (items as a bulleted list, the subject underlined). Signature and
stamps are PNG images with ``mix-blend-mode: multiply``, absolutely positioned in the
signature block, so the PDF carries them as embedded images and the rendering shows
them as ink over the typed lines.
"""

from __future__ import annotations

import base64
import io
import random
import re
import shutil
import subprocess
import tempfile
from html import escape
from pathlib import Path

from benchmarks.corpora import wording as content
from benchmarks.corpora.base import Rendering, available, band_marks, png_of, raster
from benchmarks.corpora.signatures import Band, InkLayer
from benchmarks.corpora.spec import LetterSpec

TEMPLATES = ("classic", "corporate", "minimal", "two-column", "bullets")
FAMILIES = {
    "classic": ["Caladea", "P052", "C059", "Liberation Serif", "DejaVu Serif"],
    "corporate": ["Carlito", "Open Sans", "Lato", "Nimbus Sans", "Liberation Sans"],
    "minimal": ["Lato", "URW Bookman", "Open Sans", "FreeSerif", "DejaVu Sans"],
    "two-column": ["Open Sans", "Carlito", "Liberation Sans", "DejaVu Sans"],
    "bullets": ["Liberation Serif", "Caladea", "Nimbus Roman", "DejaVu Serif"],
}
CHROMIUM = "chromium"
PT = 0.3528  # mm per point


def chromium_available() -> bool:
    return shutil.which(CHROMIUM) is not None


def _img(layer: InkLayer, baseline_mm: float) -> str:
    buffer = io.BytesIO()
    png_of(layer).save(buffer, "PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    w, h = layer.size_mm
    return (
        f'<img alt="" src="data:image/png;base64,{data}" style="position:absolute;'
        f"left:{layer.x_mm:.2f}mm;top:{baseline_mm + layer.y_mm:.2f}mm;width:{w:.2f}mm;"
        f'height:{h:.2f}mm;mix-blend-mode:multiply">'
    )


def _signature_block(
    spec: LetterSpec, size: float, width_mm: float, rng: random.Random, details: dict[str, object]
) -> str:
    """The closing, a spacer of a known height, the typed lines and the ink on top.
    Line boxes are set in mm so the band's geometry is known without measuring."""
    line = size * PT * 1.4
    s = size * PT
    gap_div = rng.uniform(11, 21)
    closing_baseline = line / 2 + 0.33 * s
    name_cap_top = line + gap_div + (line - s) / 2 + 0.22 * s
    band = Band(name_cap_top - closing_baseline, 0.7 * s, width_mm)
    layers, found = band_marks(spec, band)
    details.update(found)
    typed = [
        f"<b>{escape(spec.executive_name)}</b>"
        if rng.random() < 0.4
        else escape(spec.executive_name),
        escape(spec.executive_title),
    ]
    if rng.random() < 0.4:
        typed.append(escape(spec.company.display_name))
    typed.append(escape(spec.executive_email))
    lines = "".join(
        f'<div style="height:{line:.2f}mm;line-height:{line:.2f}mm">{t}</div>' for t in typed
    )
    return (
        f'<div style="position:relative;margin-top:4mm">'
        f'<div style="height:{line:.2f}mm;line-height:{line:.2f}mm">{escape(spec.closing)}</div>'
        f'<div style="height:{gap_div:.2f}mm"></div>{lines}'
        + "".join(_img(layer, closing_baseline) for layer in layers)
        + "</div>"
    )


def _items_dl(spec: LetterSpec) -> str:
    rows = "".join(
        f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in content.labelled_items(spec)
    )
    return (
        f'<dl style="display:grid;grid-template-columns:max-content auto;gap:1mm 6mm">{rows}</dl>'
    )


def _items_table(spec: LetterSpec, colour: str) -> str:
    rows = "".join(
        f'<tr style="background:{"#f3f3f3" if k % 2 else "white"}"><th style="text-align:left;'
        f'padding:1.5mm 4mm;color:{colour}">{escape(label)}</th><td style="padding:1.5mm 4mm">'
        f"{escape(value)}</td></tr>"
        for k, (label, value) in enumerate(content.labelled_items(spec))
    )
    style = "border-collapse:collapse;border:0.3mm solid #bbb;width:100%;margin-bottom:4mm"
    return f'<table style="{style}">{rows}</table>'


def p(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _body(
    spec: LetterSpec, template: str, size: float, rng: random.Random, details: dict[str, object]
) -> str:
    c = spec.company
    colour = rng.choice(["#1f4e79", "#7a1f2b", "#2f6b3a", "#444", "#5b3b8c"])
    reason, confirm = content.reason_sentence(spec, rng), content.confirmation(spec, rng)
    opening = escape(content.opening(rng))
    width = 210 - 2 * 25
    if template == "classic":
        head = (
            f'<div style="text-align:center;font-variant:small-caps;font-size:{size + 9}pt;'
            f'letter-spacing:0.5mm">{escape(c.display_name)}</div><div style="text-align:center;'
            f'font-size:{size - 2}pt;border-bottom:0.4mm double #333;padding-bottom:2mm">'
            f"{escape(c.street)} &middot; {escape(c.city)} &middot; {escape(c.phone)}</div>"
            f'<p style="text-align:right;margin-top:10mm">{escape(spec.date_text)}</p>'
        )
        middle = p("I ask you to give administrator access to our enterprise account:") + _items_dl(
            spec
        )
    elif template == "corporate":
        head = (
            f'<div style="display:flex;justify-content:space-between;align-items:center">'
            f'<div style="display:flex;align-items:center;gap:3mm"><div style="width:11mm;'
            f'height:11mm;border-radius:2mm;background:{colour};transform:rotate(45deg)"></div>'
            f'<b style="font-size:{size + 6}pt;color:{colour}">{escape(c.display_name)}</b></div>'
            f'<div style="font-size:{size - 2.5}pt;color:#666;text-align:right">{escape(c.street)}'
            f"<br>{escape(c.city)}<br>{escape(c.phone)}</div></div>"
            f'<p style="margin-top:12mm">{escape(spec.date_text)}</p>'
        )
        middle = p("Please add an administrator to our account as follows.") + _items_table(
            spec, colour
        )
    elif template == "minimal":
        head = '<div style="height:25mm"></div>'
        middle = p(content.request_sentence(spec, rng))
    elif template == "two-column":
        head = f"<p>{escape(spec.date_text)}</p>"
        middle = p("We would like a new administrator on our enterprise account.") + _items_dl(spec)
        width = 120
    else:  # bullets
        head = (
            f'<div style="font-size:{size + 4}pt"><b>{escape(c.display_name)}</b></div>'
            f'<div style="font-size:{size - 1}pt">{escape(c.street)}, {escape(c.city)}</div>'
            f'<p style="margin-top:8mm">{escape(spec.date_text)}</p>'
            f"<p><u>{escape(content.subject(spec))}</u></p>"
        )
        items = "".join(
            f"<li>{escape(k)}: {escape(v)}</li>" for k, v in content.labelled_items(spec)
        )
        middle = p("Please grant administrator access:") + f"<ul>{items}</ul>"
    recipient = "" if template == "two-column" else "<p>Keyholder Support<br>Keyholder Platform</p>"
    place = p(f"{c.town}, {spec.date_text}") if template == "minimal" else ""
    letter = (
        head
        + recipient
        + f"<p>{opening}</p>"
        + middle
        + p(reason)
        + p(confirm)
        + place
        + _signature_block(spec, size, width, rng, details)
    )
    if template == "two-column":
        side = (
            f'<div style="width:42mm;font-size:{size - 2}pt;color:#555;'
            f'border-right:0.3mm solid #ccc;padding-right:4mm">'
            f'<b style="color:{colour}">{escape(c.display_name)}</b><br><br>'
            f"{escape(c.street)}<br>{escape(c.city)}<br><br>{escape(c.phone)}<br>"
            f"www.{escape(c.domain)}</div>"
        )
        return f'<div style="display:flex;gap:8mm">{side}<div style="flex:1">{letter}</div></div>'
    if template == "corporate":
        footer = (
            f'<div style="position:fixed;bottom:10mm;left:25mm;right:25mm;font-size:7pt;'
            f'color:#888;border-top:0.2mm solid #ccc">{escape(c.display_name)} &middot; '
            f"Registered office: {escape(c.street)}, {escape(c.city)}</div>"
        )
        letter += footer
    return letter


def html(spec: LetterSpec) -> tuple[str, str, str, dict[str, object]]:
    """(html, template, font family, details) for ``spec``."""
    rng = random.Random(f"html/{spec.seed}/{spec.number}")
    template = rng.choice(TEMPLATES)
    family = rng.choice(available(FAMILIES[template]))
    size = rng.choice([10.0, 10.5, 11.0, 12.0])
    details: dict[str, object] = {}
    body = _body(spec, template, size, rng, details)
    margin = rng.uniform(18, 28)
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><style>@page{{size:A4;margin:0}}"
        f"body{{margin:0;padding:{margin:.1f}mm 25mm 20mm 25mm;font-family:'{family}';"
        f"font-size:{size}pt;line-height:1.4;color:#111}}p{{margin:0 0 {size * 0.5:.1f}pt}}"
        f"</style></head><body>{body}</body></html>"
    )
    return page, template, family, details


def print_to_pdf(page: str, timeout: float = 60.0) -> bytes:
    """The page printed by Chromium headless, in a throwaway profile."""
    with tempfile.TemporaryDirectory(prefix="letter-html-") as tmp:
        source, target = Path(tmp) / "letter.html", Path(tmp) / "letter.pdf"
        source.write_text(page, encoding="utf-8")
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-pdf-header-footer",
                "--disable-extensions",
                f"--user-data-dir={tmp}/profile",
                f"--print-to-pdf={target}",
                source.as_uri(),
            ],
            capture_output=True,
            timeout=timeout,
            check=True,
        )
        return target.read_bytes()


def _dated(pdf: bytes, spec: LetterSpec) -> bytes:
    """Chromium stamps the printing time into the PDF: the letter's own date instead (the
    same length, so the cross-reference offsets stay right), for files that depend on the
    seed alone."""
    stamp = f"(D:{spec.dated:%Y%m%d}120000".encode()
    return re.sub(rb"\(D:\d{14}", stamp, pdf)


def render(spec: LetterSpec) -> Rendering:
    page, template, family, details = html(spec)
    pdf = _dated(print_to_pdf(page), spec)
    return Rendering(raster(pdf), pdf, template, family, details)
