"""Letters laid out by Typst, the held-out generator.

It shares only the content with the other generators (``spec.py``, ``wording.py``):
its own templates (``typst_templates.py``), the fonts Typst finds (the system's through
its own font discovery, plus the faces Typst ships: Libertinus Serif, New Computer
Modern), signatures from Hollerbach's oscillatory model (``typst_signatures.py``),
stamps and seals (``typst_clutter.py``) and degradations (``typst_degrade.py``).

Each letter is compiled twice. The first pass lays the letter out and reports, through
``metadata`` placed at the closing and at the typed name (queried with
``typst.query``), where the signature band is on which page; the page images are this
pass rasterised by Typst itself, with the ink multiplied on in numpy. The second pass
is the same source with the marks as RGBA images in the page foreground (they take no
room, so nothing moves): the text PDF.
"""

from __future__ import annotations

import functools
import io
import json
import random
import tempfile
from pathlib import Path

import numpy as np
import typst
from PIL import Image

from benchmarks.corpora.base import DPI, Rendering
from benchmarks.corpora.spec import LetterSpec
from benchmarks.corpora.typst_clutter import seal, stamp
from benchmarks.corpora.typst_signatures import Mark, multiply, signature
from benchmarks.corpora.typst_templates import BUILD, TEMPLATES, Style

FONTS = (  # body faces; those Typst cannot find here are skipped
    "Libertinus Serif",
    "New Computer Modern",
    "C059",
    "P052",
    "Nimbus Roman",
    "Nimbus Sans",
    "URW Gothic",
    "URW Bookman",
    "Carlito",
    "Caladea",
    "Lato",
    "Open Sans",
    "Liberation Serif",
    "Liberation Sans",
    "FreeSerif",
    "FreeSans",
    "DejaVu Serif",
    "DejaVu Sans",
)
MEMO_FONTS = ("Nimbus Mono PS", "FreeMono", "Liberation Mono", "DejaVu Sans Mono")
ACCENTS = (
    'rgb("#1f3a5f")',
    'rgb("#7a1f2b")',
    'rgb("#1d6b5a")',
    'rgb("#3b3b3b")',
    'rgb("#b35c00")',
    'rgb("#4b2a7a")',
    'rgb("#00628b")',
)
HEIGHTS = {"full": (10.0, 20.0), "initials": (9.0, 17.0), "flourish": (14.0, 25.0)}
TIMESTAMP = 1767225600  # 2026-01-01: the PDFs' creation date


@functools.cache
def installed() -> frozenset[str]:
    return frozenset(f.family for f in typst.Fonts(include_system_fonts=True).fonts())


def fonts_for(template: str) -> list[str]:
    wanted = [*MEMO_FONTS[:2], *FONTS[:6]] if template == "memo" else list(FONTS)
    return [f for f in wanted if f in installed()] or ["Libertinus Serif"]


def _anchors(source: Path) -> dict[str, dict[str, float]]:
    found = json.loads(
        typst.query(str(source), "<khanchor>", field="value", root=str(source.parent))
    )
    return {a["key"]: a for a in found}


def _line(a: dict[str, float]) -> dict[str, float]:
    """An anchor as the line it marks: baseline, cap height, descent, extent (mm)."""
    return {
        "page": a["page"],
        "x": a["x"],
        "w": a["w"],
        "base": a["y"] + 0.75 * a["h"],
        "cap": a["cap"],
        "desc": 0.22 * a["h"],
    }


def _place_signature(
    spec: LetterSpec,
    closing: dict[str, float],
    name: dict[str, float],
    room: float,
    rng: random.Random,
) -> Mark:
    sig = spec.signature
    assert sig is not None
    low = closing["base"] + closing["desc"] + 0.5  # clear of the closing
    high = name["base"] - name["cap"] - 0.6  # clear of the name
    lo_h, hi_h = HEIGHTS[sig.kind]
    target = rng.uniform(lo_h, hi_h)
    if sig.overlap in ("closing", "both"):
        top = closing["base"] - closing["cap"] * rng.uniform(0.45, 0.9)
    else:
        top = None
    if sig.overlap in ("name", "both"):
        bottom = name["base"] - name["cap"] * rng.uniform(0.25, 0.7)
    else:
        bottom = None
    if top is None and bottom is None:
        h = max(min(target, high - low), 8.0)
        top = low + rng.uniform(0, max(high - low - h, 0))
    elif bottom is None:
        h = max(min(target, high - top), 8.0)
    elif top is None:
        h = max(min(target, bottom - low), 8.0)
        top = bottom - h
    else:
        h = bottom - top
    h = min(max(h, 8.0), 25.0)
    width = (25.0, max(min(80.0, room), 25.0))
    mark, _ = signature(spec.executive_name, sig, width=width, height=h, dpi=DPI)
    if sig.overlap in ("closing", "both"):
        x0 = closing["x"] + rng.uniform(0, max(closing["w"] * 0.5, 1))
    else:
        x0 = closing["x"] + rng.uniform(-3, 18)
    mark.x_mm += x0
    mark.y_mm += top
    _slide(mark, sig.overlap, closing, name)
    return mark


def _slide(mark: Mark, overlap: str, closing: dict[str, float], name: dict[str, float]) -> None:
    """Move the ink left (and up or down) until it reaches what ``overlap`` asks for."""
    want = (overlap in ("closing", "both"), overlap in ("name", "both"))
    wide = mark.alpha.shape[1] * 25.4 / mark.dpi
    up = -1 if overlap == "closing" else 1 if overlap == "name" else 0
    start = (mark.x_mm, mark.y_mm)
    for dx in np.arange(0, -wide * 0.7, -2.5):
        for dy in (0.0, 0.8, 1.6, 2.4):
            mark.x_mm, mark.y_mm = start[0] + dx, start[1] + up * dy
            if (_reaches(mark, closing), _reaches(mark, name)) == want:
                return
    mark.x_mm, mark.y_mm = start


def _place_stamp(
    spec: LetterSpec,
    closing: dict[str, float],
    name: dict[str, float],
    sig_mark: Mark | None,
    *,
    rng: random.Random,
    nrng: np.random.Generator,
) -> Mark:
    """A stamp or seal in the band: beside the signature, partly over it, or alone."""
    mark = (stamp if spec.clutter == "stamp" else seal)(spec, DPI, nrng)
    w, h = (s * 25.4 / DPI for s in mark.alpha.shape[::-1])
    if sig_mark is not None and rng.random() < 0.6:
        x = sig_mark.x_mm + sig_mark.alpha.shape[1] * 25.4 / DPI - rng.uniform(4, 16)
    else:
        x = closing["x"] + rng.uniform(5, 75)
    mark.x_mm = min(x, 206 - w)
    mark.y_mm = (closing["base"] + name["base"]) / 2 - h / 2 + rng.uniform(-3, 3)
    return mark


def _reaches(mark: Mark, line: dict[str, float]) -> bool:
    return mark.box_hits(
        line["x"], line["base"] - line["cap"], line["x"] + line["w"], line["base"] + line["desc"]
    )


def _foreground(marks: list[tuple[int, Mark, str]]) -> str:
    if not marks:
        return "none"
    places = []
    for page, mark, file in marks:
        w_mm = mark.alpha.shape[1] * 25.4 / mark.dpi
        places.append(
            f"if here().page() == {page} {{ place(top + left, dx: {mark.x_mm:.3f}mm, "
            f'dy: {mark.y_mm:.3f}mm, image("{file}", width: {w_mm:.3f}mm)) }}'
        )
    return "context { " + "; ".join(places) + " }"


def render(spec: LetterSpec) -> Rendering:
    rng = random.Random(f"typst/{spec.seed}/{spec.number}")
    template = rng.choice(TEMPLATES)
    font = rng.choice(fonts_for(template))
    size = rng.choice([10.0, 10.5, 11.0, 11.0, 11.5, 12.0])
    style = Style(
        font=font,
        size=size,
        leading=rng.uniform(0.5, 0.85),
        justify=rng.random() < 0.45,
        accent=rng.choice(ACCENTS),
        margins=(
            rng.uniform(20, 30),
            rng.uniform(15, 28),
            rng.uniform(15, 25),
            rng.uniform(18, 28),
        ),
        page2=rng.random() < 0.1,
    )
    source = BUILD[template](spec, rng, style)
    marks_rng = random.Random(rng.getrandbits(64))
    nrng = np.random.default_rng(rng.getrandbits(63))
    with tempfile.TemporaryDirectory(prefix="typst-letter-") as tmp:
        root = Path(tmp)
        path = root / "letter.typ"
        path.write_text(source.replace("KH-MARKS", "none"), encoding="utf-8")
        anchors = _anchors(path)
        pngs = typst.compile(str(path), format="png", ppi=DPI, root=str(root))
        pngs = pngs if isinstance(pngs, list) else [pngs]
        pages = [Image.open(io.BytesIO(p)).convert("RGB") for p in pngs]
        closing, name = _line(anchors["closing"]), _line(anchors["name"])
        page = int(closing["page"])
        gap = name["base"] - name["cap"] - closing["base"]
        details: dict[str, object] = {"band_gap_mm": round(gap, 1)}
        right_edge = 210 - style.margins[2]
        room = right_edge - closing["x"] + 6
        if "grid(columns: (1fr, 1fr)" in source.split('kh-line("closing"')[-1]:
            room = (right_edge - closing["x"] - 8) / 2 + 4
        marks: list[Mark] = []
        sig_mark = None
        if spec.signature is not None:
            sig_mark = _place_signature(spec, closing, name, room, marks_rng)
        if spec.clutter in ("stamp", "seal"):
            marks.append(_place_stamp(spec, closing, name, sig_mark, rng=marks_rng, nrng=nrng))
        if sig_mark is not None:  # the signature on top of any stamp
            marks.append(sig_mark)
            details["ink_reaches"] = {
                "closing": _reaches(sig_mark, closing),
                "name": _reaches(sig_mark, name),
            }
        placed = []
        for i, mark in enumerate(marks):
            file = f"mark{i}.png"
            Image.fromarray(mark.rgba(), "RGBA").save(root / file, optimize=False)
            placed.append((page, mark, file))
        path.write_text(source.replace("KH-MARKS", _foreground(placed)), encoding="utf-8")
        pdf = typst.compile(str(path), format="pdf", root=str(root), timestamp=TIMESTAMP)
    canvas = np.asarray(pages[page - 1]).copy()
    for mark in marks:
        multiply(canvas, mark)
    pages[page - 1] = Image.fromarray(canvas)
    if len(pages) > 1:
        template += "+page2"
    return Rendering(pages, bytes(pdf), template, font, details)
