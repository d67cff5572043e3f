"""Generated letters for the tests and the benchmark (seeded; nothing committed).

A letter is laid out once as drawing operations in PDF points (A4), then
either rasterised with Pillow (PNG, scans, phone photos, scanned PDFs) or
written as a PDF with a real text layer (``drawing``). ``Letter.truth`` says what
a perfect reader would find.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import cv2
import numpy as np
from PIL import Image, ImageFilter

from tests.letters.drawing import (
    DPI,
    FONT_FILES,
    PAGE_H,
    PAGE_W,
    PX,
    Op,
    Picture,
    Rect,
    Stroke,
    Text,
    load_font,
    pdf,
    rasterise,
)

FIRST = ["Dana", "Marcus", "Priya", "Olivia", "Kenji", "Amara", "Lukas", "Sofia", "Hugo", "Ines"]
LAST = ["Whitfield", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Brennan", "Castillo", "Novak"]
COMPANIES = [("acme-corp", "Acme Corporation", "acme.example"),
             ("globex", "Globex Industries", "globex.example"),
             ("initech", "Initech Ltd", "initech.example"),
             ("umbrella-labs", "Umbrella Labs", "umbrella-labs.example"),
             ("stark-north", "Stark North GmbH", "starknorth.example"),
             ("vandelay", "Vandelay Imports", "vandelay.example")]  # fmt: skip
C_TITLES = ["Chief Executive Officer", "CEO", "Chief Financial Officer", "Chief Technology Officer",
            "Owner", "President", "Managing Director", "Chief Operating Officer"]  # fmt: skip
OTHER_TITLES = ["Office Manager", "IT Administrator", "Vice President, Sales"]
REASONS = [
    "our only administrator left the company last month and their mailbox was closed.",
    "the administrator who managed our account retired and nobody else has admin rights.",
    "our previous administrator lost access to their email address after a domain migration.",
    "the sole account administrator has resigned and can no longer be reached.",
]
FILLER = (
    "We have been a customer of the platform for several years and rely on it daily for our "
    "engineering and finance teams. Our internal records show the change of staff described "
    "above, and our human resources department can confirm it if needed. Please let us know "
    "if any further documents are required to complete this request."
)
TODAY = date(2026, 3, 20)
ITEMS = ("account_name", "contract_number", "email_to_add", "reason", "date", "executive_title")


@dataclass(frozen=True)
class Letter:
    seed: int
    account: str
    display_name: str
    domain: str
    contract: str
    email_to_add: str
    executive_name: str
    executive_title: str
    executive_email: str
    reason: str
    dated: date
    date_style: int = 0
    layout: str = "labelled"  # or "prose"
    font: str = "sans"
    size: float = 11.0
    letterhead: bool = True
    multipage: bool = False
    signature: str = "ink"  # ink | none | slash-s | script-font | pasted-image (text PDFs)
    ink: tuple[int, int, int] = (20, 40, 150)
    missing: frozenset[str] = field(default_factory=frozenset)
    # Printed things in the signature band that are not handwriting.
    clutter: str = "none"  # none | stamp | seal | logo | rule

    @property
    def truth(self) -> dict[str, str | None]:
        """The items a perfect reader finds (None where the letter lacks them)."""
        values: dict[str, str | None] = {
            "account_name": self.account, "contract_number": self.contract,
            "email_to_add": self.email_to_add, "reason": self.reason.rstrip("."),
            "date": self.dated.isoformat(), "executive_title": self.executive_title,
            "executive_name": self.executive_name, "executive_email": self.executive_email,
        }  # fmt: skip
        return {k: (None if k in self.missing else v) for k, v in values.items()}


def random_letter(rng: random.Random, seed: int = 0) -> Letter:
    account, display, domain = rng.choice(COMPANIES)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    new_first = rng.choice([f for f in FIRST if f != first])
    return Letter(
        seed=seed, account=account, display_name=display, domain=domain,
        contract=f"ENT-{rng.randint(2019, 2026)}-{rng.randint(0, 999999):06d}",
        email_to_add=f"{new_first.lower()}.{rng.choice(LAST).lower()}@{domain}",
        executive_name=f"{first} {last}", executive_title=rng.choice(C_TITLES),
        executive_email=f"{first.lower()}@{domain}", reason=rng.choice(REASONS),
        dated=TODAY - timedelta(days=rng.randint(0, 20)), date_style=rng.randint(0, 2),
        layout=rng.choice(["labelled", "prose"]), font=rng.choice(list(FONT_FILES)),
        size=rng.choice([10.5, 11.0, 12.0]), letterhead=rng.random() < 0.7,
        multipage=rng.random() < 0.15, ink=rng.choice([(20, 40, 150), (15, 15, 20), (30, 60, 190)]),
    )  # fmt: skip


# --- layout ---------------------------------------------------------------------------


def _wrap(text: str, family: str, size: float, width: float) -> list[str]:
    typeface = load_font(family, size * PX)
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if typeface.getlength(candidate) / PX > width and current:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current] if current else lines


def _date_text(letter: Letter) -> str:
    d = letter.dated
    return [f"{d.day} {d:%B %Y}", f"{d:%B} {d.day}, {d.year}", d.isoformat()][letter.date_style]


def signature_strokes(
    rng: random.Random, x: float, y: float, colour: tuple[int, int, int]
) -> list[Stroke]:
    """A handwriting-like scribble: a few Catmull-Rom splines through jittered points."""
    strokes = []
    cursor = x
    for _ in range(rng.randint(1, 3)):
        count = rng.randint(6, 11)
        points = []
        for i in range(count):
            px = cursor + i * rng.uniform(4, 9)
            py = y + rng.uniform(6, 17) * (1 if i % 2 else -1)
            points.append((px, py))
        cursor = points[-1][0] + rng.uniform(4, 12)
        strokes.append(Stroke(_spline(points), rng.uniform(0.9, 1.8), colour))
    if rng.random() < 0.5:  # an underline flourish
        strokes.append(Stroke(_spline([(x, y + 16), ((x + cursor) / 2, y + 19), (cursor, y + 13)]),
                              1.0, colour))  # fmt: skip
    return strokes


def _spline(points: list[tuple[float, float]], steps: int = 8) -> list[tuple[float, float]]:
    padded = [points[0], *points, points[-1]]
    out = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = (np.array(padded[j]) for j in (i - 1, i, i + 1, i + 2))
        for t in np.linspace(0, 1, steps, endpoint=False):
            q = 0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                       + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)  # fmt: skip
            out.append((float(q[0]), float(q[1])))
    out.append(points[-1])
    return out


def layout(letter: Letter) -> list[list[Op]]:  # noqa: PLR0912 - reads as the letter
    rng = random.Random(letter.seed * 7919 + 17)
    pages: list[list[Op]] = [[]]
    ops = pages[0]
    f, size = letter.font, letter.size
    left, width = 72.0, PAGE_W - 144
    lead = size * 1.45
    y = 60.0
    if letter.letterhead:
        colour = rng.choice([(25, 60, 120), (120, 30, 30), (20, 100, 70)])
        ops.append(Rect(left, y, 34, 34, colour))
        ops.append(Rect(left + 8, y + 8, 18, 18, (240, 240, 240)))
        ops.append(Text(left + 44, y + 22, letter.display_name, 18, f, bold=True))
        ops.append(
            Text(left + 44, y + 36, f"1 Example Street, Springfield  ·  www.{letter.domain}", 8, f)
        )
        ops.append(Rect(left, y + 44, width, 1.2, colour))
        y += 80
    else:
        y += 20

    def line(text: str, *, bold: bool = False, gap: float = 1.0) -> None:
        nonlocal y, ops
        if y > PAGE_H - 90:
            pages.append([])
            ops = pages[-1]
            y = 80.0
        ops.append(Text(left, y, text, size, f, bold))
        y += lead * gap

    def paragraph(text: str) -> None:
        for wrapped in _wrap(text, f, size, width):
            line(wrapped)
        line("", gap=0.5)

    if "date" not in letter.missing:
        line(_date_text(letter), gap=2)
    line("Keyholder Support")
    line("Keyholder Platform", gap=2)
    line(f"Re: Administrator access for {letter.display_name}", bold=True, gap=1.5)
    line("Dear Keyholder Support,", gap=1.5)
    m = letter.missing
    if letter.layout == "prose":
        title = (
            "" if "executive_title" in m else f", {letter.executive_title} of {letter.display_name}"
        )
        who = "a new administrator" if "email_to_add" in m else letter.email_to_add
        account = "" if "account_name" in m else f" {letter.account}"
        contract = "" if "contract_number" in m else f" (contract number {letter.contract})"
        paragraph(f"I, {letter.executive_name}{title}, request that administrator access to our "
                  f"enterprise account{account}{contract} be granted to {who}.")  # fmt: skip
        if "reason" not in m:
            paragraph(f"We make this request because {letter.reason}")
    else:
        paragraph("Please grant administrator access to our enterprise account as follows.")
        if "account_name" not in m:
            line(f"Enterprise account: {letter.account}")
        if "contract_number" not in m:
            line(f"Contract number: {letter.contract}")
        if "email_to_add" not in m:
            line(f"Email to add as administrator: {letter.email_to_add}")
        if "reason" not in m:
            for wrapped in _wrap(f"Reason: {letter.reason}", f, size, width):
                line(wrapped)
        line("", gap=0.5)
    if letter.multipage:
        for _ in range(5):
            paragraph(FILLER)
    paragraph(
        f"I confirm that I am authorised to make this request on behalf of {letter.display_name}."
    )
    if y > PAGE_H - 200:
        pages.append([])
        ops = pages[-1]
        y = 80.0
    line(rng.choice(["Sincerely,", "Yours sincerely,", "Kind regards,"]), gap=1.0)
    band_top = y
    signature_y = band_top + 22
    if rng.random() < 0.3:  # a ruled line to sign on: not handwriting
        ops.append(Rect(left, band_top + 42, 170, 0.6, (70, 70, 70)))
    if letter.signature in {"ink", "pasted-image"}:
        strokes = signature_strokes(rng, left + rng.uniform(0, 20), signature_y, letter.ink)
        if letter.signature == "ink":
            ops.extend(strokes)
        else:
            ops.append(Picture(left, band_top, strokes, 200, 48))
    elif letter.signature == "script-font":
        ops.append(Text(left + 4, signature_y + 10, letter.executive_name, 24, "script"))
    elif letter.signature == "slash-s":
        ops.append(Text(left, signature_y + 6, f"/s/ {letter.executive_name}", size, f))
    ops.extend(band_clutter(letter, rng, left, band_top))
    y = band_top + 58
    line(letter.executive_name)
    if "executive_title" not in m:
        line(letter.executive_title)
    line(letter.executive_email)
    return pages


CLUTTER = ("stamp", "seal", "logo", "rule")
_STAMP_INKS = [(185, 35, 45), (35, 55, 165), (90, 40, 130)]


def band_clutter(letter: Letter, rng: random.Random, left: float, top: float) -> list[Op]:
    """What offices print or stamp where a signature goes: a "RECEIVED" stamp, a
    company seal (rings and lettering), a printed logo, a signature line."""
    x = left + rng.uniform(120, 230)
    colour = rng.choice(_STAMP_INKS)
    if letter.clutter == "stamp":
        w, h, t = rng.uniform(110, 140), rng.uniform(34, 44), 1.2
        ops: list[Op] = [
            Rect(x, top + 4, w, t, colour),
            Rect(x, top + 4 + h, w, t, colour),
            Rect(x, top + 4, t, h, colour),
            Rect(x + w, top + 4, t, h + t, colour),
        ]
        word = rng.choice(["RECEIVED", "APPROVED", "COPY", "ORIGINAL"])
        ops.append(Text(x + 8, top + 4 + h * 0.5, word, 12, letter.font, True, colour))
        stamp_date = f"{letter.dated.day} {letter.dated:%b %Y}".upper()
        ops.append(Text(x + 8, top + h - 2, stamp_date, 8, letter.font, False, colour))
        return ops
    if letter.clutter == "seal":
        cx, cy, r = x + 30, top + 28, rng.uniform(20, 27)
        ops = [Stroke(_circle(cx, cy, radius), 1.0, colour) for radius in (r, r - 4)]
        ops.append(Text(cx - 11, cy + 3, "SEAL", 7, letter.font, True, colour))
        ops.append(Text(cx - 14, cy - 6, letter.display_name.split()[0][:7].upper(), 5, letter.font,
                        False, colour))  # fmt: skip
        return ops
    if letter.clutter == "logo":
        size = rng.uniform(22, 34)
        return [Rect(x, top + 6, size, size, colour),
                Rect(x + size * 0.25, top + 6 + size * 0.25, size / 2, size / 2, (245, 245, 245)),
                Text(x + size + 6, top + 6 + size * 0.65, letter.display_name, 10, letter.font,
                     True, colour)]  # fmt: skip
    if letter.clutter == "rule":
        return [Rect(left, top + 33, rng.uniform(150, 200), 0.7, (60, 60, 60)),
                Text(left, top + 41, "Authorised signature", 7, letter.font)]  # fmt: skip
    return []


def _circle(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    return [(cx + r * float(np.cos(a)), cy + r * float(np.sin(a)))
            for a in np.linspace(0, 2 * np.pi, 73)]  # fmt: skip


# --- rendering ----------------------------------------------------------------------


def render(letter: Letter) -> list[Image.Image]:
    return [rasterise(ops) for ops in layout(letter)]


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def scanned(image: Image.Image, rng: random.Random) -> Image.Image:
    """A flatbed scan: grey, a small tilt, softness, noise, slightly off-white paper."""
    grey = image.convert("L").rotate(
        rng.uniform(-3, 3), resample=Image.BICUBIC, fillcolor=255, expand=False
    )
    grey = grey.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    array = np.asarray(grey, dtype=np.float32) * rng.uniform(0.88, 0.97) + rng.uniform(0, 12)
    array += np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(3, 8), array.shape)
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)).convert("RGB")


def photographed(image: Image.Image, rng: random.Random, *, quarter_turns: int = 0) -> Image.Image:
    """A phone photo: the page on a desk, in perspective, unevenly lit, blurred, noisy."""
    page = np.asarray(image.convert("RGB"), dtype=np.float32)
    h, w = page.shape[:2]
    canvas_w, canvas_h = int(w * 1.3), int(h * 1.25)
    desk = np.array(rng.choice([(90, 70, 50), (60, 60, 65), (120, 100, 80)]), dtype=np.float32)
    jitter = lambda s: rng.uniform(-s, s)  # noqa: E731
    ox, oy = (canvas_w - w) / 2, (canvas_h - h) / 2
    source = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    target = np.float32([[ox + jitter(w * 0.06), oy + jitter(h * 0.04)],
                         [ox + w + jitter(w * 0.06), oy + jitter(h * 0.04)],
                         [ox + w + jitter(w * 0.06), oy + h + jitter(h * 0.04)],
                         [ox + jitter(w * 0.06), oy + h + jitter(h * 0.04)]])  # fmt: skip
    matrix = cv2.getPerspectiveTransform(source, target)
    warped = cv2.warpPerspective(
        page, matrix, (canvas_w, canvas_h), borderValue=tuple(float(c) for c in desk)
    )
    yy, xx = np.mgrid[0:canvas_h, 0:canvas_w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    gradient = np.cos(angle) * xx / canvas_w + np.sin(angle) * yy / canvas_h
    light = 1.0 - rng.uniform(0.2, 0.4) * (gradient - gradient.min()) / np.ptp(gradient)
    warped *= light[..., None]
    warped = cv2.GaussianBlur(warped, (0, 0), rng.uniform(0.8, 1.6))
    warped += np.random.default_rng(rng.randint(0, 2**31)).normal(0, 4, warped.shape)
    photo = np.clip(warped, 0, 255).astype(np.uint8)
    photo = cv2.resize(photo, None, fx=0.85, fy=0.85, interpolation=cv2.INTER_AREA)
    if quarter_turns:
        photo = np.ascontiguousarray(np.rot90(photo, k=quarter_turns))
    return Image.fromarray(photo)


def scanned_pdf(images: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    first, *rest = [i.convert("RGB") for i in images]
    first.save(buffer, format="PDF", save_all=True, append_images=rest, resolution=DPI)
    return buffer.getvalue()


def text_pdf(letter: Letter) -> bytes:
    """The letter as a PDF with a text layer; ink strokes as vector paths."""
    return pdf(layout(letter))


CONDITIONS = ("clean", "scan", "photo", "text-pdf", "scanned-pdf")


def letter_file(  # noqa: PLR0911 - one return per condition
    letter: Letter, condition: str, rng: random.Random
) -> tuple[bytes, str]:
    """The letter as a file in one condition: (bytes, filename)."""
    if condition == "text-pdf":
        return text_pdf(letter), "letter.pdf"
    pages = render(letter)
    if condition == "clean":
        return (
            (png_bytes(pages[0]), "letter.png")
            if len(pages) == 1
            else (scanned_pdf(pages), "letter.pdf")
        )
    if condition == "scan":
        scans = [scanned(p, rng) for p in pages]
        if len(scans) > 1:
            return scanned_pdf(scans), "letter.pdf"
        return jpeg_bytes(scans[0], rng.randint(60, 85)), "letter.jpg"
    if condition == "scanned-pdf":
        return scanned_pdf([scanned(p, rng) for p in pages]), "letter.pdf"
    if condition == "photo":
        turns = rng.choice([0] * 8 + [1, 2, 3])
        photos = [photographed(p, rng, quarter_turns=turns) for p in pages]
        if len(photos) > 1:
            return scanned_pdf(photos), "letter.pdf"
        return jpeg_bytes(photos[0], rng.randint(70, 90)), "letter.jpg"
    raise ValueError(condition)
