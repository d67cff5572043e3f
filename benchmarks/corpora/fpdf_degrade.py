"""The ``fpdf`` generator's own damage (not ``degrade.py``): how its letters come back
after a scanner or a phone.

Each function takes all the clean pages (RGB at ``dpi``) and returns one file, so a
multi-page letter arrives as the scanner or the app would send it (a PDF of JPEGs).

``scan``: a flatbed or sheet feeder at 150, 200, 240 or 300 dpi, the sheet a little
crooked on a grey bed, paper tone and gamma, optics blur, sensor streaks along the
feed, noise, firmware sharpening (halos), grey or colour, JPEG (quality 60-90), PNG or
a PDF wrapper. One scan in four is a mobile scanning app instead: a phone capture
flattened (residual perspective), its background divided out and pushed to high
contrast, or to adaptive black and white.

``photo``: a phone photo of the sheet on a desk, wood or cloth: the sheet folded in
three or with a corner curling up, in perspective and not filling the frame, daylight
falling off across it and a soft shadow, a little motion blur or defocus, sensor noise,
the phone's denoise and sharpening, a white balance shift, JPEG.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from datetime import UTC, datetime

import cv2
import numpy as np
from fpdf import FPDF
from PIL import Image

Pages = list[Image.Image]


def _jpeg(image: np.ndarray, quality: int, dpi: int | None = None) -> bytes:
    buffer = io.BytesIO()
    extra: dict[str, object] = {"dpi": (dpi, dpi)} if dpi else {}
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, optimize=True, **extra)
    return buffer.getvalue()


def _pdf_of(images: list[bytes], dpi: list[float]) -> bytes:
    """JPEG pages wrapped in a PDF, each page the image's size (what apps send)."""
    pdf = FPDF(unit="pt")
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    for data, res in zip(images, dpi, strict=True):
        w, h = Image.open(io.BytesIO(data)).size
        size = (w * 72 / res, h * 72 / res)
        pdf.add_page(format=size)
        pdf.image(io.BytesIO(data), 0, 0, size[0], size[1])
    return bytes(pdf.output())


def _f32(page: Image.Image) -> np.ndarray:
    return np.asarray(page.convert("RGB"), np.float32) / 255


def _u8(array: np.ndarray) -> np.ndarray:
    return np.clip(array * 255 + 0.5, 0, 255).astype(np.uint8)


def _unsharp(a: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    return a + amount * (a - cv2.GaussianBlur(a, (0, 0), sigma))


# --- scanners ---------------------------------------------------------------------------


def _flatbed(
    page: Image.Image, dpi: int, target: int, grey: bool, rng: np.random.Generator
) -> np.ndarray:
    a = _f32(page)
    lo, hi, gamma = rng.uniform(0.03, 0.12), rng.uniform(0.9, 0.99), rng.uniform(0.85, 1.2)
    paper = np.array([1.0, rng.uniform(0.985, 1.0), rng.uniform(0.95, 1.0)], np.float32)
    a = lo + (hi - lo) * a**gamma * paper
    a = cv2.resize(
        a,
        None,
        fx=target / dpi,
        fy=target / dpi,
        interpolation=cv2.INTER_AREA if target < dpi else cv2.INTER_CUBIC,
    )
    a = cv2.GaussianBlur(a, (0, 0), rng.uniform(0.35, 0.8))
    h, w = a.shape[:2]
    margin = int(rng.uniform(1, 5) / 25.4 * target)
    bed = np.full((h + 2 * margin, w + 2 * margin, 3), rng.uniform(0.8, 0.95), np.float32)
    bed[margin : margin + h, margin : margin + w] = a
    angle = rng.uniform(-1.3, 1.3)
    shift = rng.uniform(-margin, margin, 2)
    matrix = cv2.getRotationMatrix2D((bed.shape[1] / 2, bed.shape[0] / 2), angle, 1.0)
    matrix[:, 2] += shift
    a = cv2.warpAffine(
        bed,
        matrix,
        (bed.shape[1], bed.shape[0]),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    a = a[margin // 2 : -margin // 2 or None, margin // 2 : -margin // 2 or None]
    for _ in range(int(rng.integers(0, 4))):  # a speck on the glass or a dead sensor cell
        x, width = int(rng.integers(0, a.shape[1])), int(rng.integers(1, 3))
        a[:, x : x + width] += rng.choice([-1, 1]) * rng.uniform(0.03, 0.09)
    a += rng.normal(0, rng.uniform(0.004, 0.015), a.shape[:2])[..., None].astype(np.float32)
    a = _unsharp(a, rng.uniform(0.8, 1.8), rng.uniform(0.3, 1.1))
    if grey:
        a = a.mean(axis=2, keepdims=True)
    return a


def _background_flatten(a: np.ndarray) -> np.ndarray:
    """Divide out the paper's lighting as scanning apps do."""
    a = a.astype(np.float32)
    grey = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, np.ones((9, 9), np.uint8))
    paper = cv2.GaussianBlur(paper, (0, 0), 6)
    paper = cv2.resize(paper, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(a / np.maximum(paper, 0.2)[..., None], 0, 1)


def _scan_app(
    page: Image.Image, dpi: int, rng: np.random.Generator
) -> tuple[np.ndarray, int, bool]:
    """A phone capture as a scanning app delivers it: 1 bit, or boosted colour."""
    a = _f32(page)
    target = int(rng.choice([150, 170, 200]))
    a = cv2.resize(a, None, fx=target / dpi, fy=target / dpi, interpolation=cv2.INTER_AREA)
    h, w = a.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = (src + rng.uniform(-0.006, 0.006, (4, 2)) * [w, h]).astype(np.float32)
    a = cv2.warpPerspective(
        a, cv2.getPerspectiveTransform(src, dst), (w, h), borderMode=cv2.BORDER_REPLICATE
    )
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = rng.uniform(0, 2 * math.pi)
    light = 0.88 + 0.12 * np.cos(t) * (xx / w - 0.5) * 2 + 0.1 * np.sin(t) * (yy / h - 0.5)
    a = a * light[..., None] * np.array([1.0, 0.97, 0.9], np.float32) * rng.uniform(0.75, 0.95)
    a = cv2.GaussianBlur(a, (0, 0), rng.uniform(0.5, 1.0))
    a += rng.normal(0, 0.015, a.shape).astype(np.float32)
    flat = _background_flatten(np.clip(a, 0, 1))
    if rng.random() < 0.5:  # black and white: adaptive threshold
        grey = _u8(cv2.cvtColor(flat.astype(np.float32), cv2.COLOR_RGB2GRAY))
        block = int(rng.choice([25, 31, 41, 51]))
        bw = cv2.adaptiveThreshold(
            grey,
            255,
            cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
            cv2.THRESH_BINARY,
            block,
            int(rng.integers(8, 16)),
        )
        return bw.astype(np.float32)[..., None] / 255, target, True
    knee = rng.uniform(0.78, 0.88)  # paper to pure white, ink deeper and more saturated
    out = np.clip((flat - 0.1) / (knee - 0.1), 0, 1) ** rng.uniform(1.1, 1.5)
    grey = out.mean(axis=2, keepdims=True)
    out = np.clip(grey + (out - grey) * rng.uniform(1.2, 1.6), 0, 1)
    return _unsharp(out, 1.2, 0.6), target, False


def scan(pages: Pages, dpi: int, rng: np.random.Generator) -> tuple[bytes, str]:
    app = rng.random() < 0.25
    wrapper = rng.random() < (0.6 if app else 0.3) or len(pages) > 1
    grey = rng.random() < 0.5
    target = int(rng.choice([150, 200, 240, 300], p=[0.2, 0.35, 0.15, 0.3]))
    quality = int(rng.integers(60, 91))
    outputs: list[tuple[np.ndarray, int, bool]] = []
    for page in pages:
        if app:
            outputs.append(_scan_app(page, dpi, rng))
        else:
            outputs.append((_flatbed(page, dpi, target, grey, rng), target, False))
    encoded = []
    for array, res, bilevel in outputs:
        image = _u8(array[..., 0] if array.shape[2] == 1 else array)
        if not wrapper and (bilevel or (grey and res <= 240 and rng.random() < 0.3)):
            buffer = io.BytesIO()
            Image.fromarray(image).convert("1" if bilevel else "L").save(
                buffer, "PNG", dpi=(res, res)
            )
            return buffer.getvalue(), "png"
        encoded.append(_jpeg(image, quality, res))
    if wrapper:
        return _pdf_of(encoded, [o[1] for o in outputs]), "pdf"
    return encoded[0], "jpg"


# --- phone photos -----------------------------------------------------------------------


def _surface(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A desk, wood or cloth under the sheet (drawn small, then enlarged)."""
    sh, sw = h // 4, w // 4
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    noise = cv2.GaussianBlur(rng.random((sh, sw)).astype(np.float32), (0, 0), 3)
    kind = rng.choice(["wood", "cloth", "laminate"])
    if kind == "wood":
        warp = cv2.GaussianBlur(rng.random((sh, sw)).astype(np.float32), (0, 0), 25) * 60
        rings = 0.5 + 0.5 * np.sin((xx + warp) * rng.uniform(0.08, 0.2) + noise * 4)
        base = np.array(
            rng.choice([[0.55, 0.36, 0.2], [0.42, 0.27, 0.16], [0.7, 0.55, 0.38]]), np.float32
        )
        tex = base * (0.8 + 0.25 * rings[..., None])
    elif kind == "cloth":
        weave = np.sin(xx * 1.7) * np.sin(yy * 1.7)
        base = np.array(
            rng.choice([[0.25, 0.3, 0.45], [0.5, 0.15, 0.15], [0.35, 0.38, 0.33]]), np.float32
        )
        tex = base * (0.9 + 0.08 * weave[..., None] + 0.15 * (noise[..., None] - 0.5))
    else:
        base = np.array(
            rng.choice([[0.75, 0.74, 0.7], [0.3, 0.3, 0.32], [0.85, 0.83, 0.78]]), np.float32
        )
        tex = base * (0.95 + 0.1 * (noise[..., None] - 0.5))
    return cv2.resize(tex, (w, h), interpolation=cv2.INTER_LINEAR)


def _bend(a: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The sheet out of plane: folded in three, or a corner curling. Returns the page
    and its coverage (where the sheet is)."""
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xx.copy(), yy.copy()
    shade = np.ones((h, w), np.float32)
    if rng.random() < 0.55:  # letter folded in three, then opened
        for k, third in enumerate((h / 3, 2 * h / 3)):
            crease = third + rng.uniform(-0.02, 0.02) * h
            side = np.where(yy > crease, 1.0, 0.0)
            shade *= 1 - side * rng.uniform(-0.06, 0.08)
            map_y += rng.uniform(1.0, 4.0) * np.exp(-np.abs(yy - crease) / (0.05 * h)) * (-1) ** k
            shade *= 1 - rng.uniform(0.04, 0.12) * np.exp(-(((yy - crease) / 2.5) ** 2))
    else:  # a corner curls towards the camera: squeezed, and lit differently
        cx, cy = (w if rng.random() < 0.5 else 0), h
        reach = rng.uniform(0.18, 0.35) * h
        d = np.clip(reach - np.hypot(xx - cx, yy - cy), 0, None) / reach
        lift = d**2
        map_x += (xx - cx) * lift * rng.uniform(0.08, 0.16)
        map_y += (yy - cy) * lift * rng.uniform(0.08, 0.16)
        shade *= 1 - lift * rng.uniform(-0.1, 0.25)
    rgba = np.dstack([a, np.ones((h, w), np.float32)])
    out = cv2.remap(
        rgba,
        map_x,
        map_y,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0, 0),
    )
    return out[..., :3] * shade[..., None], out[..., 3]


def _photo_one(page: Image.Image, rng: np.random.Generator) -> np.ndarray:
    frame_w, frame_h = [(2448, 3264), (3024, 4032), (2736, 3648)][int(rng.integers(3))]
    a = _f32(page)
    ph = rng.uniform(0.7, 0.84) * frame_h
    scale = ph / a.shape[0]
    a = cv2.resize(
        a, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    )
    a = a * rng.uniform(0.93, 1.0)
    a, cover = _bend(a, rng)
    h, w = a.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    centre = np.array([frame_w / 2, frame_h / 2]) + rng.uniform(-0.03, 0.03, 2) * [frame_w, frame_h]
    theta = math.radians(rng.uniform(-4, 4))
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    dst = (src - [w / 2, h / 2]) @ rot.T + centre
    tilt = rng.uniform(-0.05, 0.05)  # keystone: the far edge narrower
    dst[:2, 0] += np.array([1, -1]) * tilt * w
    dst += rng.uniform(-0.015, 0.015, (4, 2)) * [w, h]
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    size = (frame_w, frame_h)
    sheet = cv2.warpPerspective(a, matrix, size, flags=cv2.INTER_LINEAR)
    flat_mask = cv2.warpPerspective(cover, matrix, size, flags=cv2.INTER_LINEAR)
    mask = flat_mask[..., None]
    ground = _surface(frame_h, frame_w, rng)
    drop = cv2.GaussianBlur(np.roll(flat_mask, (12, 8), axis=(0, 1)), (0, 0), 14)[..., None]
    ground = ground * (1 - 0.35 * drop)
    img = ground * (1 - mask) + sheet * mask
    yy, xx = np.mgrid[0:frame_h, 0:frame_w].astype(np.float32)
    t = rng.uniform(0, 2 * math.pi)
    ramp = (np.cos(t) * (xx / frame_w - 0.5) + np.sin(t) * (yy / frame_h - 0.5)) * 2
    light = rng.uniform(0.8, 1.0) + rng.uniform(0.05, 0.18) * ramp
    light *= 1 - rng.uniform(0.1, 0.3) * (
        ((xx / frame_w - 0.5) ** 2 + (yy / frame_h - 0.5) ** 2) * 2
    )
    shadow = np.zeros((frame_h // 8, frame_w // 8), np.float32)  # a hand's or phone's shadow
    edge = int(rng.integers(4))
    sh, sw = shadow.shape
    poly = rng.uniform(0, 1, (4, 2)) * [sw, sh]
    anchor = [
        (0, rng.uniform(0, sh)),
        (sw, rng.uniform(0, sh)),
        (rng.uniform(0, sw), 0),
        (rng.uniform(0, sw), sh),
    ][edge]
    poly[:2] = anchor
    poly[0] += rng.uniform(-0.3, 0.3, 2) * [sw, sh]
    cv2.fillPoly(shadow, [poly.astype(np.int32)], 1.0)
    shadow = cv2.resize(cv2.GaussianBlur(shadow, (0, 0), rng.uniform(6, 14)), (frame_w, frame_h))
    light *= 1 - rng.uniform(0.15, 0.35) * shadow
    balance = np.array(
        rng.choice([[1.08, 1.0, 0.84], [0.92, 1.0, 1.1], [1.02, 1.0, 0.95]]), np.float32
    )
    img = img * light[..., None] * balance
    if rng.random() < 0.4:  # the hand moved
        n = int(rng.integers(3, 8))
        kernel = np.zeros((n, n), np.float32)
        cv2.line(kernel, (0, int(rng.integers(n))), (n - 1, int(rng.integers(n))), 1.0, 1)
        img = cv2.filter2D(img, -1, kernel / kernel.sum())
    elif rng.random() < 0.6:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.8, 1.8))
    level = rng.uniform(0.01, 0.03)
    img = img + rng.normal(0, 1, img.shape[:2])[..., None].astype(np.float32) * level * np.sqrt(
        np.clip(img, 0.01, 1)
    )
    chroma = cv2.resize(
        rng.normal(0, level, (frame_h // 4, frame_w // 4, 3)).astype(np.float32), size
    )
    img = _u8(img + chroma)
    img = cv2.bilateralFilter(img, 5, rng.uniform(15, 35), 3)  # the phone's denoise
    out = _unsharp(img.astype(np.float32) / 255, rng.uniform(1.2, 2.4), rng.uniform(0.4, 1.0))
    return _u8(out)


def photo(pages: Pages, _dpi: int, rng: np.random.Generator) -> tuple[bytes, str]:
    shots = [_jpeg(_photo_one(p, rng), int(rng.integers(72, 93))) for p in pages]
    if len(shots) == 1:
        return shots[0], "jpg"
    return _pdf_of(shots, [300.0] * len(shots)), "pdf"


DEGRADE: dict[str, Callable[[Pages, int, np.random.Generator], tuple[bytes, str]]] = {
    "scan": scan,
    "photo": photo,
}
