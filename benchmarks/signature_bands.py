"""The signature check alone, on many synthetic signature bands (issue 14).

Each band is a strip of a letter drawn here: the closing, the corpora's signature
(sigma-lognormal, ``corpora/signatures.py``) or clutter (stamps, seals, logos, rules,
``corpora/clutter.py``) under it, the typed name below; then damaged as a phone photo
or a scan damages a page, without the perspective (so the lines' boxes stay known and
no OCR is needed). ``find_signature`` judges each band. Far faster than whole letters,
so thousands of bands can be run to count the one answer the issue forbids: "no ink
where the signature belongs" on a signed band::

    PYTHONPATH=$PWD/src:$PWD python -m benchmarks.signature_bands --bands 400 --seed 7 \\
        --condition photo --pen ballpoint --jobs 2

Only the development generators' signatures and clutter are used (``corpora/
signatures.py`` and ``clutter.py``, or with ``--maker fpdf`` the fpdf generator's
Hershey-letter signatures and its stamps and seals); the held-out generator's own
(``typst``) are never drawn here.
Exit status 1 when a signed band is told "no ink" or an unsigned one "signature-like
ink" (the first ``--show`` of them are listed), 0 otherwise.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.corpora import fpdf_clutter, fpdf_signatures  # noqa: E402
from benchmarks.corpora.base import DPI, band_marks, lay_marks  # noqa: E402
from benchmarks.corpora.signatures import Band, InkLayer  # noqa: E402
from benchmarks.corpora.spec import PENS, LetterSpec, random_spec  # noqa: E402
from keyholder.letters.document import Box, Line, Page, TextSource, Word  # noqa: E402
from keyholder.letters.found import LetterFields  # noqa: E402
from keyholder.letters.signature import find_signature  # noqa: E402
from keyholder.letters.signature_finding import SignatureLevel  # noqa: E402

PX = DPI / 25.4
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
CONDITIONS = ("clean", "scan", "photo")
# Whose signatures and stamps are drawn: the corpora's shared ones (``signatures.py``,
# ``clutter.py``) or the fpdf generator's own (Hershey letters, its stamps and seals).
# Both are tuning material; the held-out generator's never are.
MAKERS = ("corpora", "fpdf")


@dataclass(frozen=True)
class Outcome:
    number: int
    signed: bool
    pen: str
    kind: str
    overlap: str
    clutter: str
    level: str
    score: float
    drawn: str  # what drawn marks the check erased ("" for none)
    evidence: str
    flags: str = ""  # the finding's flags, joined


def typeset_words(
    draw: ImageDraw.ImageDraw, text: str, x: float, baseline: float, font: ImageFont.FreeTypeFont
) -> list[Word]:
    words = []
    for word in text.split():
        left, top, right, bottom = draw.textbbox((x, baseline), word, font=font, anchor="ls")
        draw.text((x, baseline), word, font=font, fill=(15, 15, 15), anchor="ls")
        words.append(
            Word(word, Box(1, int(left), int(top), int(right - left), int(bottom - top)), 95.0)
        )
        x = right + font.getlength(" ")
    return words


def _damage(page: np.ndarray, condition: str, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A photo's or a scan's light, blur, noise, scale and JPEG, without the geometry."""
    if condition == "clean":
        return page, 1.0
    image = page.astype(np.float32)
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if condition == "photo":
        angle = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(angle) * xx / w + np.sin(angle) * yy / h
        ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
        image *= (1.0 - rng.uniform(0.1, 0.4) * ramp)[..., None]
        image *= rng.uniform(0.9, 1.08, 3)[None, None, :]
        blur, noise, scale = rng.uniform(0.6, 1.6), rng.uniform(2, 6), rng.uniform(0.6, 0.95)
        quality = int(rng.integers(60, 90))
    else:
        image = image / 255.0 * rng.uniform(228, 250)
        image = 255.0 * (image / 255.0) ** rng.uniform(0.8, 1.25)
        blur, noise = rng.uniform(0.4, 0.9), rng.uniform(2, 6)
        scale, quality = float(rng.choice([0.75, 1.0, 1.5])), int(rng.integers(55, 92))
    image = cv2.GaussianBlur(image, (0, 0), blur)
    image += rng.normal(0, noise, image.shape)
    out = np.clip(image, 0, 255).astype(np.uint8)
    out = cv2.resize(out, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    # The pre-screen brings every page to about 200 dpi (``clean._to_working_width``).
    back = w / out.shape[1]
    if abs(back - 1) < 0.1:
        return cv2.imdecode(data, cv2.IMREAD_UNCHANGED), scale
    resample = cv2.INTER_AREA if back < 1 else cv2.INTER_CUBIC
    read = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return cv2.resize(read, None, fx=back, fy=back, interpolation=resample), scale * back


def _scaled(line: list[Word], scale: float) -> Line:
    return Line(tuple(
        replace(w, box=Box(1, round(w.box.x * scale), round(w.box.y * scale),
                           max(1, round(w.box.width * scale)), max(1, round(w.box.height * scale))))
        for w in line
    ))  # fmt: skip


def _fpdf_marks(spec: LetterSpec, gap: float, cap: float) -> list[InkLayer]:
    """The fpdf generator's stamp or seal and signature for the band, as ink layers."""
    room = 140.0
    ink = (
        fpdf_signatures.signature(spec.executive_name, spec.signature, gap, cap, room)
        if spec.signature
        else None
    )
    marks = []
    if spec.clutter in ("stamp", "seal"):
        right = ink.x_mm + ink.alpha.shape[1] * 25.4 / ink.dpi if ink else 15.0
        rng = np.random.default_rng([spec.seed, spec.number, 9])
        marks.append(fpdf_clutter.band_stamp(spec, gap=gap, room=room, sig_right=right, rng=rng))
    if ink is not None:
        marks.append(ink)
    return [InkLayer(m.alpha, m.rgb, m.dpi, m.x_mm, m.y_mm) for m in marks]


def one_band(
    seed: int, number: int, condition: str, pen: str | None, signed: bool, *, maker: str = "corpora"
) -> Outcome:
    spec = random_spec(seed, number, signed=signed)
    if pen is not None and spec.signature is not None:
        spec = replace(spec, signature=replace(spec.signature, pen=pen))
    rng = np.random.default_rng([seed, number])
    size_pt = float(rng.uniform(10, 12))
    font = ImageFont.truetype(FONT, round(size_pt * DPI / 72))
    gap = float(rng.uniform(14, 24))
    cap = size_pt * 0.3528 * 0.7
    left, closing_y = 25 * PX, 20 * PX
    name_y = closing_y + (gap + cap) * PX
    page = Image.new("RGB", (round(190 * PX), round(name_y + 25 * PX)), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    closing = typeset_words(draw, spec.closing, left, closing_y, font)
    name = typeset_words(draw, spec.executive_name, left, name_y, font)
    title = typeset_words(draw, spec.executive_title, left, name_y + size_pt * 1.4 / 72 * DPI, font)
    if maker == "fpdf":
        layers = _fpdf_marks(spec, gap, cap)
    else:
        layers, _ = band_marks(spec, Band(gap, cap, 140.0))
    inked = np.asarray(lay_marks(page, layers, (left, closing_y)))
    damaged, scale = _damage(inked, condition, rng)
    if damaged.ndim == 2:
        damaged = cv2.cvtColor(damaged, cv2.COLOR_GRAY2RGB)
    lines = [_scaled(line, scale) for line in (closing, name, title)]
    fields = LetterFields(closing=lines[0], name_line=lines[1])
    finding = find_signature([Page(1, damaged, "image", TextSource.OCR, lines=lines)], fields)
    signature = spec.signature
    return Outcome(
        number, signed, signature.pen if signature else "-", signature.kind if signature else "-",
        signature.overlap if signature else "-", spec.clutter,
        finding.level.value if finding.level else "unknown", finding.score,
        finding.drawn.value if finding.drawn else "", finding.evidence, "; ".join(finding.flags),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bands", type=int, default=200, help="signed and as many unsigned")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--condition", choices=CONDITIONS, default="photo")
    parser.add_argument("--pen", choices=PENS)
    parser.add_argument("--maker", choices=MAKERS, default="corpora",
                        help="whose signatures and stamps are drawn")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--show", type=int, default=10, help="how many wrong answers to list")
    args = parser.parse_args(argv)
    tasks = [(args.seed, n, args.condition, args.pen, signed)
             for n in range(args.bands) for signed in (True, False)]  # fmt: skip
    with ProcessPoolExecutor(args.jobs) as pool:
        judge = functools.partial(one_band, maker=args.maker)
        outcomes = list(pool.map(judge, *zip(*tasks, strict=True), chunksize=8))
    for signed in (True, False):
        levels = Counter(o.level for o in outcomes if o.signed is signed)
        print(f"{'signed' if signed else 'unsigned'}: " + ", ".join(
            f"{level} {count}" for level, count in levels.most_common()))  # fmt: skip
    wrong = [o for o in outcomes if (o.signed and o.level == SignatureLevel.NONE.value)
             or (not o.signed and o.level == SignatureLevel.INK.value)]  # fmt: skip
    for o in wrong[: args.show]:
        print(f"  {o.number} {'signed' if o.signed else 'unsigned'} {o.pen}/{o.kind}/{o.overlap}"
              f" clutter={o.clutter}: {o.level}: {o.evidence}")  # fmt: skip
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
