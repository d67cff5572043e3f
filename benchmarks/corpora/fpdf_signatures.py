"""Handwritten signatures for the ``fpdf`` generator, built on the Hershey vector fonts
and not on ``signatures.py``.

A name is written in a single-stroke Hershey script face; each letter is then moved,
scaled and tilted a little, the baseline drifts, the capitals swell and the tail of
the name flattens as a hurried hand does. A global slant and affine follow, the pen
path is smoothed with Catmull-Rom splines, and a pen model draws it: speed comes from
curvature, pressure from speed and from landing and lifting, and the pen turns
pressure into width and darkness (ballpoint: thin, semi-transparent, skipping; gel:
even and saturated; felt tip: wide and soft; fountain pen: width set by direction
against the nib).
"""

from __future__ import annotations

import functools
import math
import unicodedata
from dataclasses import dataclass

import cv2
import numpy as np
from HersheyFonts import HersheyFonts

from benchmarks.corpora.spec import SignatureSpec

DRAW_DPI = 600  # the pen is drawn at this resolution, then averaged down
INK_DPI = 300  # the ink layers handed to the layout
CAP, BASE = -12.0, 9.0  # Hershey script cap line and baseline (y grows downwards)

Path = np.ndarray  # (n, 2) float, mm, y downwards


@dataclass(frozen=True)
class Ink:
    """Coverage (0-1) of one ink colour at ``dpi``, its top-left ``x_mm, y_mm`` from an
    anchor (the closing line's baseline at the left edge of the signature block)."""

    alpha: np.ndarray  # float32 (h, w)
    rgb: tuple[int, int, int]
    x_mm: float
    y_mm: float
    dpi: int = INK_DPI

    def rows_mm(self, threshold: float = 0.15) -> tuple[float, float] | None:
        """Top and bottom of the visible ink, in mm from the anchor."""
        rows = np.flatnonzero(self.alpha.max(axis=1) > threshold)
        if len(rows) == 0:
            return None
        mm = 25.4 / self.dpi
        return self.y_mm + rows[0] * mm, self.y_mm + (rows[-1] + 1) * mm

    def rgba(self) -> np.ndarray:
        out = np.zeros((*self.alpha.shape, 4), np.uint8)
        out[..., :3] = self.rgb
        out[..., 3] = np.clip(self.alpha * 255 + 0.5, 0, 255).astype(np.uint8)
        return out


@functools.cache
def _face(name: str) -> HersheyFonts:
    face = HersheyFonts()
    face.load_default_font(name)
    return face


def ascii_name(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name)
    return "".join(c for c in folded if c.isascii() and (c.isalpha() or c in " .-'"))


def written_form(name: str, kind: str, rng: np.random.Generator) -> tuple[str, bool]:
    """What the hand writes, and whether it is underlined."""
    words = ascii_name(name).replace(".", " ").split()
    first, last = words[0], words[-1]
    if len(words) > 2 and words[-2][0].islower():  # "van der Berg": keep the particle
        last = words[-2] + " " + last
    middle = [w for w in words[1:-1] if len(w) == 1]
    if kind == "initials":
        letters = [first[0], *middle, last.split()[-1][0]]
        if rng.random() < 0.5:
            return ". ".join(letters) + ".", rng.random() < 0.4
        return "".join(letters), rng.random() < 0.6
    forms = [f"{first} {last}", f"{first[0]}. {last}", f"{first} {last}", f"{first[0]}{last}"]
    if middle:
        forms.append(f"{first} {middle[0]}. {last}")
    return forms[int(rng.integers(len(forms)))], kind == "full" and rng.random() < 0.2


def _letters(text: str, face: str) -> list[list[Path]]:
    """The strokes of each character, positioned as the face sets the text."""
    font = _face(face)
    strokes = [np.asarray(s, float) for s in font.strokes_for_text(text) if len(s) > 1]
    out: list[list[Path]] = []
    done = 0
    for i in range(1, len(text) + 1):
        upto = sum(1 for s in font.strokes_for_text(text[:i]) if len(s) > 1)
        out.append(strokes[done:upto])
        done = upto
    return out


def _smooth_field(rng: np.random.Generator, scale: float, wavelength: float):
    phases = rng.uniform(0, 2 * np.pi, 3)
    freqs = rng.uniform(0.6, 1.6, 3) * 2 * np.pi / wavelength
    amps = rng.normal(0, scale, 3)
    return lambda x: sum(a * np.sin(f * x + p) for a, f, p in zip(amps, freqs, phases, strict=True))


def _hand(text: str, rng: np.random.Generator, hurry: float) -> list[Path]:
    """Pen-down paths in Hershey units after letter-level variation, joined where the
    face joins the letters, with a few extra pen lifts."""
    face = str(rng.choice(["scripts", "scripts", "cursive", "scriptc"]))
    drift = _smooth_field(rng, 1.0, 40.0)
    paths: list[Path] = []
    last_end: np.ndarray | None = None  # the previous stroke's raw end, in face units
    seen = 0
    word_start = True
    for char, strokes in zip(text, _letters(text, face), strict=True):
        if char == " ":
            word_start, last_end = True, None
            continue
        seen += 1
        capital = char.isupper() and word_start
        swell = rng.uniform(1.15, 1.7) if capital else 1.0
        # the tail of a hurried name flattens: small letters lose height
        flatten = 1.0 if capital else max(0.35, 1.0 - hurry * max(0, seen - 2) * 0.12)
        sx, sy = swell * rng.uniform(0.88, 1.12), swell * flatten * rng.uniform(0.85, 1.15)
        dx, dy = rng.normal(0, 0.6), rng.normal(0, 0.7)
        tilt = rng.normal(0, 0.06)
        for stroke in strokes:
            pts = stroke.copy()
            ox = pts[0, 0] if capital else float(np.mean(stroke[:, 0]))
            rel = pts - [ox, BASE]
            rel = rel @ np.array(
                [[math.cos(tilt), math.sin(tilt)], [-math.sin(tilt), math.cos(tilt)]]
            )
            pts = rel * [sx, sy] + [ox + dx, BASE + dy]
            pts[:, 1] += drift(pts[:, 0])
            if last_end is not None and np.hypot(*(stroke[0] - last_end)) < 1.5:
                paths[-1] = np.vstack([paths[-1], pts])
            else:
                paths.append(pts)
            last_end = stroke[-1]
        word_start = False
    # sparing pen lifts: break one long path, or join two words with a ligature
    if paths and rng.random() < 0.3:
        k = int(np.argmax([len(p) for p in paths]))
        cut = int(
            rng.integers(len(paths[k]) // 3, max(len(paths[k]) // 3 + 1, 2 * len(paths[k]) // 3))
        )
        if 3 < cut < len(paths[k]) - 3:
            paths[k : k + 1] = [paths[k][:cut], paths[k][cut - 1 :] + rng.normal(0, 0.3, 2)]
    elif len(paths) > 1 and rng.random() < 0.35:
        big = [i for i in range(len(paths) - 1) if len(paths[i]) > 8 and len(paths[i + 1]) > 8]
        if big:
            i = big[int(rng.integers(len(big)))]
            paths[i : i + 2] = [np.vstack([paths[i], paths[i + 1]])]
    return paths


def _paraph(start: np.ndarray, left: float, right: float, rng: np.random.Generator) -> Path:
    """A long looping underline: down and back under the name, then forward in loops."""
    t = np.linspace(0, 1, 60)
    depth = rng.uniform(5, 9)
    back = np.column_stack(
        [start[0] + (left - start[0]) * t, start[1] + depth * np.sin(np.pi * t / 2) + 2 * t]
    )
    loops = int(rng.integers(2, 6))
    s = np.linspace(0, 2 * np.pi * loops, 90 * loops)
    run = right + rng.uniform(0, 15) - left
    a = run / s[-1]
    r = a * rng.uniform(1.4, 2.4)  # r > a: the trochoid loops
    forward = np.column_stack(
        [left + a * s - r * np.sin(s), back[-1, 1] + rng.uniform(1.5, 4.5) * (1 - np.cos(s))]
    )
    forward[:, 1] += np.linspace(0, -rng.uniform(0, 5), len(s))
    return np.vstack([back, forward])


def _catmull_rom(points: Path, step: float) -> Path:
    """A centripetal-ish Catmull-Rom spline through ``points`` resampled every ``step``."""
    keep = np.ones(len(points), bool)
    keep[1:] = np.hypot(*np.diff(points, axis=0).T) > 1e-6
    p = points[keep]
    if len(p) < 3:
        return p
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    out = []
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        n = max(2, int(np.hypot(*(p2 - p1)) / step) + 1)
        t = np.linspace(0, 1, n, endpoint=False)[:, None]
        out.append(
            0.5
            * (
                2 * p1
                + (-p0 + p2) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3
            )
        )
    out.append(p[-1:])
    return np.vstack(out)


def pen_paths(name: str, spec: SignatureSpec) -> tuple[list[Path], dict[str, float]]:
    """The signature's pen-down paths in mm (y down, origin at the top-left of the ink's
    bounding box) and its size."""
    rng = np.random.default_rng(spec.seed ^ 0x5EED)
    text, underline = written_form(name, spec.kind, rng)
    hurry = rng.uniform(0, 1)
    paths = _hand(text, rng, hurry)
    allp = np.vstack(paths)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    if spec.kind == "flourish":
        paths.append(_paraph(paths[-1][-1], lo[0] + rng.uniform(-4, 6), hi[0], rng))
    elif underline:
        y = hi[1] + rng.uniform(1, 4)
        x = np.linspace(lo[0] - 2, hi[0] + rng.uniform(0, 6), 12)
        paths.append(
            np.column_stack([x, y + np.cumsum(rng.normal(0, 0.25, 12)) - 0.15 * (x - x[0]) / 4])
        )
    # global hand: slant, aspect, shear, rotation
    slant = math.radians(rng.uniform(0, 25))
    aspect = rng.uniform(1.0, 1.6)
    rot = math.radians(rng.uniform(-4, 9))  # signatures tend to climb
    m = np.array([[1.0, -math.tan(slant)], [0.0, 1.0]]) @ np.diag([1.0, aspect])
    m = np.array([[math.cos(rot), math.sin(rot)], [-math.sin(rot), math.cos(rot)]]) @ m
    paths = [p @ m.T for p in paths]
    allp = np.vstack(paths)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    w_units, h_units = hi - lo
    bold = 1.3 if spec.pen == "felt" else 1.0  # a marker needs room
    if spec.kind == "initials":
        widest, tallest = rng.uniform(20, 40), rng.uniform(8, 16) * bold
    elif spec.kind == "flourish":
        widest, tallest = rng.uniform(50, 80), rng.uniform(14, 25)
    else:
        widest, tallest = rng.uniform(40, 75), rng.uniform(10, 20) * bold
    scale = min(widest / w_units, tallest / h_units)
    out = [_catmull_rom((p - lo) * scale, 0.08) for p in paths]
    size = (hi - lo) * scale
    return out, {"width_mm": float(size[0]), "height_mm": float(size[1])}


# --- the pen ---------------------------------------------------------------------------

PEN_WIDTH = {
    "ballpoint": (0.2, 0.4),
    "gel": (0.4, 0.6),
    "felt": (0.7, 1.2),
    "fountain": (0.15, 0.8),
}


def _pressure(path: Path, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pressure (0-1) and direction (radians) along a path: the pen slows in curves and
    presses harder there; it lands and lifts lightly."""
    d = np.gradient(path, axis=0)
    angle = np.arctan2(d[:, 1], d[:, 0])
    turn = np.abs(np.angle(np.exp(1j * np.gradient(np.unwrap(angle)))))
    curvature = cv2.GaussianBlur(turn.reshape(-1, 1).astype(np.float32), (1, 0), 6).ravel()
    speed = 1.0 / (1.0 + 25 * curvature)
    n = len(path)
    s = np.arange(n) * 0.08
    land = np.clip(s / rng.uniform(0.6, 2.5), 0, 1)
    lift = np.clip((s[-1] - s) / rng.uniform(1.0, 4.0), 0, 1)
    wander = _smooth_field(rng, 0.12, 12.0)(s)
    p = 0.45 + 0.45 * (1 - speed) + wander
    return np.clip(p * (0.35 + 0.65 * np.minimum(land, lift) ** 0.6), 0.05, 1.0), angle


def draw(paths: list[Path], size: dict[str, float], spec: SignatureSpec) -> np.ndarray:
    """The coverage of the pen's ink at INK_DPI, padded by 1.5 mm."""
    rng = np.random.default_rng(spec.seed ^ 0xB0B)
    px = DRAW_DPI / 25.4
    pad = 1.5
    h = int((size["height_mm"] + 2 * pad) * px) + 1
    w = int((size["width_mm"] + 2 * pad) * px) + 1
    total = np.zeros((h, w), np.float32)
    lo, hi = PEN_WIDTH[spec.pen]
    base_w = rng.uniform(lo, hi) if spec.pen != "fountain" else 0.0
    nib = rng.uniform(0.5, 1.1)  # fountain nib angle, radians from the horizontal
    for path in paths:
        if len(path) < 2:
            continue
        pressure, angle = _pressure(path, rng)
        if spec.pen == "fountain":
            width = lo + (hi - lo) * np.abs(np.sin(angle - nib)) * (0.6 + 0.4 * pressure)
            dark = 0.9 + 0.08 * pressure
        elif spec.pen == "ballpoint":
            width = base_w * (0.75 + 0.4 * pressure)
            dark = 0.45 + 0.45 * pressure
            skips = np.ones(len(path))
            for _ in range(int(rng.poisson(len(path) * 0.08 / 25))):
                at = int(rng.integers(len(path)))
                skips[at : at + int(rng.integers(4, 14))] = rng.uniform(0.05, 0.35)
            dark = dark * skips
        elif spec.pen == "gel":
            width = base_w * (0.85 + 0.25 * pressure)
            dark = np.full(len(path), rng.uniform(0.88, 0.97))
        else:  # felt
            width = base_w * (0.8 + 0.3 * pressure)
            dark = 0.7 + 0.2 * pressure
        layer = np.zeros((h, w), np.uint8)
        pts = np.round((path + pad) * px * 4).astype(np.int32)  # 2 fractional bits
        for i in range(len(pts) - 1):
            thick = max(1, round(float(width[i]) * px))
            cv2.line(
                layer, tuple(pts[i]), tuple(pts[i + 1]), int(255 * dark[i]), thick, cv2.LINE_AA, 2
            )
        a = layer.astype(np.float32) / 255
        total = 1 - (1 - total) * (1 - a)  # crossings lay ink twice
    if spec.pen == "ballpoint":  # the ball misses the paper's valleys
        grain = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 1.2)
        total *= np.clip(1.6 * (grain - grain.mean()) / (grain.std() + 1e-6) * 0.25 + 0.85, 0.3, 1)
    elif spec.pen == "felt":
        total = np.maximum(total, cv2.GaussianBlur(total, (0, 0), 0.08 * px) * 0.8)
    elif spec.pen == "fountain":  # ink pools where the stroke slows and along its edges
        total = np.clip(total * 1.05, 0, 1)
    small = cv2.resize(
        total, None, fx=INK_DPI / DRAW_DPI, fy=INK_DPI / DRAW_DPI, interpolation=cv2.INTER_AREA
    )
    return np.clip(small, 0, 1).astype(np.float32)


def ink_colour(spec: SignatureSpec, rng: np.random.Generator) -> tuple[int, int, int]:
    """The ink's colour where it lies thick: ballpoint paste is greyer than gel."""
    rgb = np.asarray(spec.rgb, float)
    if spec.pen == "ballpoint":
        grey = rgb.mean()
        rgb = rgb + (grey - rgb) * rng.uniform(0.1, 0.35) + rng.uniform(0, 25)
    elif spec.pen == "gel":
        rgb = rgb * rng.uniform(0.8, 0.95)
    r, g, b = (int(v) for v in np.clip(rgb, 0, 255))
    return r, g, b


def signature(name: str, spec: SignatureSpec, gap: float, cap: float, room: float) -> Ink:
    """The signature placed for the spec's overlap wish: ``gap`` mm from the closing's
    baseline to the typed name's cap line, ``cap`` the cap height, ``room`` the width.
    y is measured down from the closing baseline."""
    rng = np.random.default_rng(spec.seed ^ 0x9A9)
    paths, size = pen_paths(name, spec)
    wants_closing = spec.overlap in ("closing", "both")
    wants_name = spec.overlap in ("name", "both")
    # fit the height to the overlap wish
    top_goal = -rng.uniform(0.6, 1.6) * cap if wants_closing else rng.uniform(0.4, 1.5)
    bottom_goal = gap + rng.uniform(0.5, 1.3) * cap if wants_name else gap - rng.uniform(0.4, 1.5)
    height = bottom_goal - top_goal
    if size["height_mm"] > height or (wants_closing and wants_name):
        factor = height / size["height_mm"]
        paths = [p * factor for p in paths]
        size = {k: v * factor for k, v in size.items()}
    if size["width_mm"] > room - 4:  # narrower; as tall as asked when both lines are wanted
        factor = (room - 4) / size["width_mm"]
        keep = wants_closing and wants_name
        squeeze = np.array([factor, 1.0 if keep else factor])
        paths = [p * squeeze for p in paths]
        size = {"width_mm": size["width_mm"] * factor, "height_mm": size["height_mm"] * squeeze[1]}
    alpha = draw(paths, size, spec)
    probe = Ink(alpha, (0, 0, 0), 0.0, 0.0)
    rows = probe.rows_mm()
    top_off, bottom_off = rows if rows else (0.0, size["height_mm"])
    if wants_closing:
        y = top_goal - top_off
    elif wants_name:
        y = bottom_goal - bottom_off
    else:  # centred in the gap, a little high as people sign
        y = (gap - (bottom_off - top_off)) * rng.uniform(0.3, 0.6) - top_off
    x = rng.uniform(-3, max(-2.0, min(25.0, room - size["width_mm"] - 6)))
    return Ink(alpha, ink_colour(spec, rng), float(x), float(y))


def reaches(ink: Ink, gap: float, cap: float) -> dict[str, bool]:
    """Where the ink actually is: above the closing's baseline by a third of a capital,
    or below the typed name's cap line by a fifth of one (the manifest's ``ink_reaches``)."""
    rows = ink.rows_mm()
    if rows is None:
        return {"closing": False, "name": False}
    return {"closing": bool(rows[0] < -0.3 * cap), "name": bool(rows[1] > gap + 0.2 * cap)}
