"""The ``typst`` generator's own damage for ``scan`` and ``photo``.

``scan``: an office multi-function printer's "scan to PDF" (bilevel with Floyd-Steinberg
error diffusion, or grey JPEG in a PDF, at 200 or 300 dpi), or a sheet-fed colour
scanner with a contact image sensor (colour fringing: the red, green and blue rows are
read at slightly different times, so edges get coloured seams), the page a little
rotated on a black backing; sometimes printed in toner-saving mode (faint text) and
sometimes with the crease of an earlier fold. ``photo``: a handheld phone photo:
the sheet on a desk (wood, laminate, a blotter) with something at its edge (a pen, a
mug, a phone), perspective and lens barrel distortion, a flash hotspot or a warm
desk lamp, the phone's own shadow, a little motion blur, the phone's HDR and
over-sharpening, JPEG 70-92; now and then turned 90 degrees or taken at a steep angle.

Files are written by our own minimal PDF writer (JPEG or 1-bit Flate images).
"""

from __future__ import annotations

import io
import math
import zlib

import cv2
import numpy as np
from PIL import Image


def _jpeg(image: np.ndarray, quality: int, dpi: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, dpi=(dpi, dpi), optimize=False)
    return buffer.getvalue()


def _png(image: np.ndarray, dpi: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG", dpi=(dpi, dpi), compress_level=6)
    return buffer.getvalue()


def pdf_of(pages: list[tuple[np.ndarray, int, int | None]]) -> bytes:
    """A PDF with one image per page: (pixels, dpi, JPEG quality or None for 1-bit)."""
    objects: list[bytes] = []
    kids = []
    for image, dpi, quality in pages:
        h, w = image.shape[:2]
        if quality is None:  # bilevel: 1 bit per pixel, 0 = black
            bits = np.packbits(image > 127, axis=1)
            data = zlib.compress(bits.tobytes(), 6)
            head = (
                f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray "
                f"/BitsPerComponent 1 /Filter /FlateDecode /Length {len(data)} >>"
            )
        else:
            data = _jpeg(image, quality, dpi)
            space = "/DeviceGray" if image.ndim == 2 else "/DeviceRGB"
            head = (
                f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace {space} "
                f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(data)} >>"
            )
        pw, ph = w * 72 / dpi, h * 72 / dpi
        n = len(objects) + 3  # objects 1 and 2 are the catalogue and the page tree
        objects.append(head.encode() + b"\nstream\n" + data + b"\nendstream")
        content = f"q {pw:.2f} 0 0 {ph:.2f} 0 0 cm /Im0 Do Q".encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2f} {ph:.2f}] "
            f"/Resources << /XObject << /Im0 {n} 0 R >> >> /Contents {n + 1} 0 R >>".encode()
        )
        kids.append(n + 2)
    kid_refs = " ".join(f"{k} 0 R" for k in kids)
    head_objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kid_refs}] /Count {len(kids)} >>".encode(),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(head_objs + objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref)
    )
    return out.getvalue()


# --- scan ---------------------------------------------------------------------------


def _fold(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The crease of an earlier fold across the sheet: a grey valley and a bright ridge."""
    h = page.shape[0]
    y = int(h * rng.choice([1 / 3, 0.5, 2 / 3]) + rng.integers(-20, 21))
    profile = np.zeros(h, np.float32)
    yy = np.arange(h, dtype=np.float32)
    profile -= rng.uniform(12, 30) * np.exp(-(((yy - y) / rng.uniform(2, 5)) ** 2))
    profile += rng.uniform(6, 14) * np.exp(-(((yy - y - 4) / 1.5) ** 2))
    tilt = np.linspace(0, rng.uniform(-6, 6), page.shape[1], dtype=np.float32)
    shade = profile[:, None] + 0 * tilt[None, :]
    extra = shade if page.ndim == 2 else shade[..., None]
    return np.clip(page.astype(np.float32) + extra, 0, 255).astype(np.uint8)


def _rotate_on(page: np.ndarray, angle: float, border: int, fill: int) -> np.ndarray:
    h, w = page.shape[:2]
    canvas_w, canvas_h = w + 2 * border, h + 2 * border
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[:, 2] += border
    value = (fill,) * (1 if page.ndim == 2 else 3)
    return cv2.warpAffine(
        page,
        m,
        (canvas_w, canvas_h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=value,
    )


def _scan_page(
    page: Image.Image, dpi: int, profile: dict[str, object], rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    out_dpi = int(profile["dpi"])  # type: ignore[call-overload]
    arr = np.asarray(page.convert("RGB"))
    if out_dpi != dpi:
        size = (round(arr.shape[1] * out_dpi / dpi), round(arr.shape[0] * out_dpi / dpi))
        arr = cv2.resize(arr, size, interpolation=cv2.INTER_CUBIC)
    f = arr.astype(np.float32)
    if profile["toner_saving"]:
        f = 255 - (255 - f) * rng.uniform(0.4, 0.6)
    if profile["fold"]:
        f = _fold(f.astype(np.uint8), rng).astype(np.float32)
    f = cv2.GaussianBlur(f, (0, 0), rng.uniform(0.5, 0.9) * out_dpi / 200)
    if profile["kind"] == "cis":
        shift = rng.uniform(0.6, 1.6) * out_dpi / 200
        for ch, s in ((0, shift), (2, -shift)):
            m = np.float32([[1, 0, 0], [0, 1, s]])
            f[..., ch] = cv2.warpAffine(
                f[..., ch], m, (f.shape[1], f.shape[0]), borderMode=cv2.BORDER_REFLECT
            )
        f = f * np.float32([rng.uniform(0.95, 1.0), 1.0, rng.uniform(0.93, 1.0)])
    paper = rng.uniform(238, 252)
    f = f * (paper / 255) + rng.normal(0, rng.uniform(1.5, 4), f.shape[:2])[..., None]
    arr = np.clip(f, 0, 255).astype(np.uint8)
    angle = rng.uniform(-1.2, 1.2) if profile["kind"] != "cis" else rng.uniform(-2.5, 2.5)
    if profile["kind"] == "cis":
        arr = _rotate_on(arr, angle, int(rng.uniform(4, 10) * out_dpi / 25.4), 12)
        return arr, out_dpi
    grey = cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY)
    grey = _rotate_on(grey, angle, 0, int(paper))
    if profile["kind"] == "bilevel":
        lo, hi = np.percentile(grey, 1.5), np.percentile(grey, 60)
        levels = np.clip((grey.astype(np.float32) - lo) / max(hi - lo - 12, 1) * 255, 0, 255)
        dithered = Image.fromarray(levels.astype(np.uint8)).convert("1")  # Floyd-Steinberg
        grey = np.asarray(dithered.convert("L"))
    return grey, out_dpi


def scan(pages: list[Image.Image], dpi: int, rng: np.random.Generator) -> tuple[bytes, str]:
    kind = rng.choice(["bilevel", "grey", "cis"], p=[0.35, 0.35, 0.3])
    profile: dict[str, object] = {
        "kind": str(kind),
        "dpi": int(rng.choice([200, 300])) if kind != "cis" else int(rng.choice([200, 240, 300])),
        "toner_saving": rng.random() < 0.2,
        "fold": rng.random() < 0.3,
    }
    scanned = [_scan_page(p, dpi, profile, rng) for p in pages]
    quality = None if kind == "bilevel" else int(rng.integers(55, 88))
    if len(scanned) == 1 and kind == "cis" and rng.random() < 0.5:
        image, out_dpi = scanned[0]
        return _jpeg(image, int(rng.integers(70, 92)), out_dpi), "jpg"
    return pdf_of([(image, out_dpi, quality) for image, out_dpi in scanned]), "pdf"


# --- photo --------------------------------------------------------------------------


def _desk(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A desk surface at (h, w), drawn small and enlarged."""
    sh, sw = max(h // 4, 8), max(w // 4, 8)
    kind = rng.choice(["wood", "laminate", "blotter"])
    yy = np.mgrid[0:sh, 0:sw][0].astype(np.float32)
    if kind == "wood":
        base = np.array(rng.choice([[120, 80, 50], [150, 105, 70], [90, 60, 40]]), np.float32)
        warp = cv2.GaussianBlur(rng.normal(0, 1, (sh, sw)).astype(np.float32), (0, 0), 12) * 60
        grain = np.sin((yy + warp) * rng.uniform(0.15, 0.35)) * 0.5 + 0.5
        tex = (0.8 + 0.25 * grain)[..., None] * base
    elif kind == "laminate":
        base = np.array(rng.choice([[200, 200, 195], [160, 165, 170], [60, 62, 66]]), np.float32)
        tex = base * (1 + 0.03 * rng.normal(0, 1, (sh, sw, 1)).astype(np.float32))
    else:
        base = np.array(rng.choice([[40, 70, 50], [30, 40, 70], [70, 35, 35]]), np.float32)
        tex = base * (
            1
            + cv2.GaussianBlur(rng.normal(0, 0.08, (sh, sw)).astype(np.float32), (0, 0), 2)[
                ..., None
            ]
        )
    tex = np.clip(tex, 0, 255).astype(np.uint8)
    return cv2.resize(tex, (w, h), interpolation=cv2.INTER_LINEAR)


def _objects(desk: np.ndarray, rng: np.random.Generator) -> None:
    """Something lying at the frame's edge: a pen, a mug seen from above, a phone."""
    h, w = desk.shape[:2]
    for _ in range(int(rng.integers(1, 3))):
        side = rng.integers(4)
        cx = [rng.uniform(0.1, 0.9) * w, w * 0.97, rng.uniform(0.1, 0.9) * w, w * 0.03][side]
        cy = [h * 0.03, rng.uniform(0.1, 0.9) * h, h * 0.97, rng.uniform(0.1, 0.9) * h][side]
        what = rng.choice(["pen", "mug", "phone"])
        if what == "pen":
            length, angle = rng.uniform(0.2, 0.3) * w, rng.uniform(0, 180)
            box = cv2.boxPoints(((cx, cy), (length, w * 0.018), angle)).astype(np.int32)
            colour = [int(c) for c in rng.choice([[20, 30, 90], [15, 15, 15], [160, 20, 30]])]
            cv2.fillPoly(desk, [box], colour, cv2.LINE_AA)
        elif what == "mug":
            r = int(rng.uniform(0.07, 0.11) * w)
            cv2.circle(desk, (int(cx), int(cy)), r, (235, 235, 230), -1, cv2.LINE_AA)
            cv2.circle(desk, (int(cx), int(cy)), int(r * 0.82), (60, 35, 20), -1, cv2.LINE_AA)
        else:
            size = (rng.uniform(0.14, 0.2) * w, rng.uniform(0.3, 0.38) * w)
            box = cv2.boxPoints(((cx, cy), size, rng.uniform(-30, 30))).astype(np.int32)
            cv2.fillPoly(desk, [box], (25, 25, 28), cv2.LINE_AA)


def _barrel(image: np.ndarray, k: float) -> np.ndarray:
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy, norm = w / 2, h / 2, math.hypot(w / 2, h / 2)
    nx, ny = (xx - cx) / norm, (yy - cy) / norm
    factor = 1 + k * (nx * nx + ny * ny)
    return cv2.remap(
        image,
        cx + nx * factor * norm,
        cy + ny * factor * norm,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _photo_page(page: Image.Image, rng: np.random.Generator) -> np.ndarray:
    sheet = np.asarray(page.convert("RGB"))
    ph, pw = sheet.shape[:2]
    out_h = int(rng.uniform(2500, 3000))
    out_w = int(out_h * 3 / 4)
    desk = _desk(out_h, out_w, rng)
    _objects(desk, rng)
    fill = rng.uniform(0.72, 0.9)
    scale = min(out_w * fill / pw, out_h * fill / ph)
    cw, ch = pw * scale, ph * scale
    x0, y0 = (out_w - cw) / 2 + rng.uniform(-0.04, 0.04) * out_w, (out_h - ch) / 2
    quad = np.float32([[x0, y0], [x0 + cw, y0], [x0 + cw, y0 + ch], [x0, y0 + ch]])
    jitter = rng.uniform(-0.035, 0.035, (4, 2)).astype(np.float32) * np.float32([cw, ch])
    if rng.random() < 0.12:  # a steep angle: the far edge much narrower
        squeeze = rng.uniform(0.12, 0.22) * cw
        jitter[0, 0] += squeeze
        jitter[1, 0] -= squeeze
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    m = cv2.getPerspectiveTransform(src, quad + jitter)
    warped = cv2.warpPerspective(sheet, m, (out_w, out_h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (out_w, out_h))
    shadow = cv2.GaussianBlur(mask, (0, 0), 14).astype(np.float32) / 255
    f = desk.astype(np.float32) * (1 - 0.45 * np.roll(shadow, (12, 8), (0, 1)))[..., None]
    a = mask.astype(np.float32)[..., None] / 255
    f = f * (1 - a) + warped.astype(np.float32) * a
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    light = rng.choice(["flash", "lamp", "window"])
    if light == "flash":
        cx, cy = rng.uniform(0.35, 0.65) * out_w, rng.uniform(0.3, 0.6) * out_h
        spot = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.13 * out_w) ** 2))
        f = f * (0.82 + 0.1 * spot)[..., None] + 45 * spot[..., None]
    elif light == "lamp":
        g = np.clip(1 - (xx / out_w) * rng.uniform(0.2, 0.45), 0, 1)
        warm = np.float32([1.05, 0.95, 0.78])
        f = f * (g[..., None] * warm * 0.85 + 0.2)
    else:
        g = 0.78 + 0.25 * (yy / out_h if rng.random() < 0.5 else 1 - yy / out_h)
        f = f * g[..., None] * np.float32([0.97, 1.0, 1.04])
    if rng.random() < 0.6:  # the phone's shadow from one edge
        cx, r = rng.uniform(0.2, 0.8) * out_w, rng.uniform(0.18, 0.3) * out_w
        cy = out_h * rng.choice([-0.05, 1.05])
        blob = ((xx - cx) ** 2 / (1.4 * r) ** 2 + (yy - cy) ** 2 / r**2) < 1
        soft = cv2.GaussianBlur(blob.astype(np.float32), (0, 0), 40)
        f = f * (1 - rng.uniform(0.25, 0.45) * soft)[..., None]
    image = np.clip(f, 0, 255).astype(np.uint8)
    image = _barrel(image, rng.uniform(0.02, 0.07))
    if rng.random() < 0.35:  # a small shake
        n = int(rng.integers(3, 7))
        kernel = np.zeros((n, n), np.float32)
        kernel[n // 2, :] = 1 / n
        rot = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1)
        kernel = cv2.warpAffine(kernel, rot, (n, n))
        image = cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))
    else:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.0))
    if rng.random() < 0.5:  # the phone's HDR: local contrast
        lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
        clahe = cv2.createCLAHE(clipLimit=rng.uniform(1.2, 2.2), tileGridSize=(8, 8))
        lab[..., 0] = clahe.apply(lab[..., 0])
        image = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    blur = cv2.GaussianBlur(image, (0, 0), rng.uniform(1.5, 3.0))
    amount = rng.uniform(0.6, 1.4)  # and its over-sharpening
    image = cv2.addWeighted(image, 1 + amount, blur, -amount, 0)
    noise = rng.normal(0, rng.uniform(2, 5), image.shape[:2])[..., None]
    image = np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.1:
        image = np.ascontiguousarray(np.rot90(image, int(rng.choice([1, 3]))))
    return image


def photo(pages: list[Image.Image], dpi: int, rng: np.random.Generator) -> tuple[bytes, str]:
    del dpi  # a photo has no resolution of its own
    shots = [_photo_page(p, rng) for p in pages]
    quality = int(rng.integers(70, 93))
    if len(shots) == 1:
        return _jpeg(shots[0], quality, 72), "jpg"
    return pdf_of([(s, 150, quality) for s in shots]), "pdf"


DEGRADE = {"scan": scan, "photo": photo}
