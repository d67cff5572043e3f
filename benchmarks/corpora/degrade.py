"""What happens to a printed, signed letter on its way back: a flatbed scan, a phone
photo on a desk under uneven light, a fax, a photocopy of a photocopy.

Each takes the clean page (RGB, at ``dpi``) and returns the file bytes the requester
would upload and its extension. Seeded: the same page and seed give the same bytes.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CONDITIONS = ("clean", "text-pdf", "scan", "photo", "fax", "photocopy")
IMAGE_CONDITIONS = ("clean", "scan", "photo", "fax", "photocopy")


def encode(image: Image.Image, fmt: str, quality: int = 85, dpi: int | None = None) -> bytes:
    buffer = io.BytesIO()
    extra: dict[str, object] = {"dpi": (dpi, dpi)} if dpi else {}
    if fmt == "JPEG":
        image.convert("RGB" if image.mode != "L" else "L").save(
            buffer, "JPEG", quality=quality, **extra
        )
    else:
        image.save(buffer, fmt, **extra)
    return buffer.getvalue()


def _rotate(page: np.ndarray, degrees: float, fill: float) -> np.ndarray:
    h, w = page.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(page, matrix, (w, h), flags=cv2.INTER_CUBIC, borderValue=(fill,) * 3)


def scan(image: Image.Image, dpi: int, rng: np.random.Generator) -> tuple[bytes, str]:
    """Flatbed: a small tilt, paper tone, gamma, the lid's shadow along one edge, sensor
    noise, resampled to the scanner's resolution, JPEG or PNG, colour or grey."""
    page = np.asarray(image.convert("RGB"), dtype=np.float32)
    page = np.clip(_rotate(page, rng.uniform(-1.8, 1.8), 255.0), 0, 255)
    paper = rng.uniform(228, 250)
    page = page / 255.0 * paper
    page = 255.0 * (page / 255.0) ** rng.uniform(0.8, 1.25)
    edge = int(page.shape[1] * rng.uniform(0.005, 0.03))
    if rng.random() < 0.6:
        shade = np.linspace(rng.uniform(0.35, 0.7), 1.0, edge)
        side = slice(0, edge) if rng.random() < 0.5 else slice(page.shape[1] - edge, None)
        page[:, side] *= (shade if side.start == 0 else shade[::-1])[None, :, None]
    page = cv2.GaussianBlur(page, (0, 0), rng.uniform(0.4, 0.9))
    page += rng.normal(0, rng.uniform(2, 6), page.shape)
    target_dpi = int(rng.choice([150, 200, 300]))
    out = np.clip(page, 0, 255).astype(np.uint8)
    out = cv2.resize(
        out, None, fx=target_dpi / dpi, fy=target_dpi / dpi, interpolation=cv2.INTER_AREA
    )
    result = Image.fromarray(out)
    if rng.random() < 0.4:
        result = result.convert("L")
    if rng.random() < 0.75:
        return encode(result, "JPEG", int(rng.integers(55, 92)), target_dpi), "jpg"
    return encode(result, "PNG", dpi=target_dpi), "png"


def photo(image: Image.Image, _dpi: int, rng: np.random.Generator) -> tuple[bytes, str]:
    """A phone photo: the page in perspective on a desk, light falling off across it,
    a soft shadow of the phone or a hand, out of focus a little, colour cast, JPEG."""
    page = np.asarray(image.convert("RGB"), dtype=np.float32)
    h, w = page.shape[:2]
    cw, ch = int(w * rng.uniform(1.15, 1.4)), int(h * rng.uniform(1.1, 1.3))
    desk = rng.uniform(40, 170, 3)
    ox, oy = (cw - w) / 2, (ch - h) / 2
    page_corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    # Each corner moved a little: the phone is never square to the page.
    reach = np.array([[0.07, 0.04], [0.07, 0.04], [0.05, 0.03], [0.05, 0.03]]) * (w, h)
    corners = (page_corners + np.array([ox, oy]) + rng.uniform(-reach, reach)).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(page_corners, corners)
    texture = desk + rng.normal(0, 6, (ch, cw, 3))
    warped: np.ndarray = cv2.warpPerspective(
        page, matrix, (cw, ch), borderMode=cv2.BORDER_TRANSPARENT, dst=texture.astype(np.float32)
    )
    yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xx / cw + np.sin(angle) * yy / ch
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    light = 1.0 - rng.uniform(0.2, 0.5) * ramp
    cx, cy = rng.uniform(0.2, 0.8) * cw, rng.uniform(0.2, 0.8) * ch
    light *= 1.0 - rng.uniform(0.05, 0.25) * (((xx - cx) / cw) ** 2 + ((yy - cy) / ch) ** 2)
    if rng.random() < 0.6:  # the phone's or a hand's shadow: a soft dark blob from an edge
        mask: np.ndarray = np.zeros((ch, cw), np.float32)
        centre = (int(rng.choice([0, cw])), int(rng.uniform(0.3, 1.0) * ch))
        axes = (int(rng.uniform(0.25, 0.5) * cw), int(rng.uniform(0.15, 0.35) * ch))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), cw * 0.04)
        light *= 1.0 - rng.uniform(0.25, 0.5) * mask
    warped *= light[..., None]
    warped *= rng.uniform(0.9, 1.08, 3)[None, None, :]  # white balance
    warped = cv2.GaussianBlur(warped, (0, 0), rng.uniform(0.6, 1.6))
    warped = warped + rng.normal(0, rng.uniform(2, 6), warped.shape)
    out: np.ndarray = np.clip(warped, 0, 255).astype(np.uint8)
    scale = rng.uniform(0.65, 0.95)
    out = cv2.resize(out, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    turns = int(rng.choice([0] * 9 + [1, 3]))
    if turns:
        out = np.ascontiguousarray(np.rot90(out, k=turns))
    return encode(Image.fromarray(out), "JPEG", int(rng.integers(60, 90))), "jpg"


def fax(image: Image.Image, dpi: int, rng: np.random.Generator) -> tuple[bytes, str]:
    """Group 3 fax: 204 x 98 dpi (fine mode 196), one bit per pixel, dithered or
    thresholded, a header line across the top, a few dropped scan lines."""
    grey = image.convert("L")
    fine = rng.random() < 0.4
    w = round(grey.width * 204 / dpi)
    h = round(grey.height * (196 if fine else 98) / dpi)
    small = np.asarray(grey.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)
    small = np.clip((small - 40) * rng.uniform(1.1, 1.5) + 40, 0, 255)
    page = Image.fromarray(small.astype(np.uint8))
    day, month, hour, minute = (int(rng.integers(1, n)) for n in (28, 12, 23, 59))
    when = f"{day:02d}/{month:02d}  {hour:02d}:{minute:02d}"
    header = f"{when}  FAX +44 20 5550 {rng.integers(1000, 9999)}   P.001/001"
    ImageDraw.Draw(page).text((20, 4), header, fill=0, font=ImageFont.load_default())
    bits = (
        page.convert("1")
        if rng.random() < 0.5
        else page.point(lambda v: 255 if v > 150 else 0).convert("1")
    )
    array = np.asarray(bits).copy()
    for _ in range(int(rng.integers(0, 6))):  # lines lost on a noisy phone line
        row = int(rng.integers(0, h))
        array[row] = rng.random(w) > 0.1
    if not fine:  # shown at the right aspect: every line twice
        array = np.repeat(array, 2, axis=0)
    out = Image.fromarray(array.astype(np.uint8) * 255).convert("1")
    return encode(out, "PNG", dpi=204), "png"


def _copy_once(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One pass through a photocopier: mid-greys crushed, skewed and scaled a little,
    toner speckle, streaks down the page, a dark border where the glass ends."""
    h, w = page.shape
    page = _rotate(page[..., None].repeat(3, axis=2), rng.uniform(-1.2, 1.2), 255.0)[..., 0]
    scale = rng.uniform(0.97, 1.02)
    page = cv2.resize(page, None, fx=scale, fy=scale)[:h, :w]
    page = np.pad(page, ((0, h - page.shape[0]), (0, w - page.shape[1])), constant_values=255.0)
    page = page.astype(np.float32)
    contrast = rng.uniform(10, 20)
    page = 255.0 / (1.0 + np.exp(-(page - rng.uniform(165, 200)) / contrast))  # levels crushed
    page = cv2.GaussianBlur(page, (0, 0), rng.uniform(0.5, 1.0)).astype(np.float32)
    speckle = rng.random((h, w)) < rng.uniform(0.00002, 0.0001)
    page[cv2.dilate(speckle.astype(np.uint8), np.ones((2, 2), np.uint8)) > 0] = rng.uniform(0, 80)
    for _ in range(int(rng.integers(0, 3))):  # a scratch on the drum: a faint line down the page
        x, width = int(rng.integers(0, w)), int(rng.integers(1, 4))
        page[:, x : x + width] *= rng.uniform(0.7, 0.92)
    border = int(rng.integers(0, max(2, w // 60)))
    if border:
        page[:, :border] *= 0.2
    crushed: np.ndarray = np.clip(page, 0, 255)
    return crushed


def photocopy(image: Image.Image, dpi: int, rng: np.random.Generator) -> tuple[bytes, str]:
    page = np.asarray(image.convert("L"), dtype=np.float32)
    for _ in range(int(rng.integers(1, 3)) + 1):
        page = _copy_once(page, rng)
    result = Image.fromarray(page.astype(np.uint8))
    if rng.random() < 0.5:
        return encode(result, "JPEG", int(rng.integers(60, 90)), dpi), "jpg"
    return encode(result, "PNG", dpi=dpi), "png"


DEGRADE = {"scan": scan, "photo": photo, "fax": fax, "photocopy": photocopy}


def pages_pdf(images: list[Image.Image], dpi: int) -> bytes:
    """Pages as an image-only PDF (what a multi-page scan arrives as)."""
    buffer = io.BytesIO()
    first, *rest = [i.convert("RGB") for i in images]
    first.save(buffer, "PDF", save_all=True, append_images=rest, resolution=dpi)
    return buffer.getvalue()
