"""Handwritten signatures for the ``typst`` generator, from Hollerbach's oscillatory
model of handwriting.

Hollerbach (1981) writes with two coupled oscillators: the pen's vertical position is
an oscillation whose amplitude and midline are modulated slowly (x-height letters,
ascenders, descenders, a swollen capital), the horizontal one runs at the same
frequency with its own amplitude and phase (a quarter turn apart the pen loops, in
phase it draws slanted strokes and arcades), and a horizontal drift carries the pen
along the line. Letters are not drawn from shapes: they emerge from the modulation.
Each name part is one pen-down movement; the pen lifts between parts. Later letters
shrink and flatten (signatures get lazy), a paraph is the same oscillator with its
drift reversed.

The pen is our own too: ballpoint (thin, grey-blue, semi-transparent, skips where the
pressure drops), gel/rollerball (even, saturated), felt tip (thick, soft edges) and
fountain (width by stroke direction against the nib). Pressure falls with speed and
ramps at landing and lifting; width and opacity follow it. The result is a coverage
map that is multiplied onto the page, never a font.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import cv2
import numpy as np

from benchmarks.corpora.spec import SignatureSpec

OVERSAMPLE = 3  # ink is drawn at three times the page's resolution, then averaged down
ASCENDERS = set("bdfhklt")
DESCENDERS = set("gjpqyz")
LOOPED = set("bdefghjklqy")
WIDE = {"m": 3.0, "w": 2.6, "n": 2.0, "u": 2.0, "h": 2.0, "v": 1.6, "x": 1.5}


@dataclass
class Mark:
    """Ink or a stamp: ``alpha`` (0..1 coverage) and its colour ``rgb`` (HxWx3 or one
    colour), at ``dpi``; ``x_mm``/``y_mm`` the top-left corner on the page (mm)."""

    alpha: np.ndarray
    rgb: np.ndarray
    dpi: int
    x_mm: float = 0.0
    y_mm: float = 0.0

    @property
    def size_mm(self) -> tuple[float, float]:
        """Width and height of what is actually inked (alpha above 0.08)."""
        rows = np.flatnonzero((self.alpha > 0.08).any(axis=1))
        cols = np.flatnonzero((self.alpha > 0.08).any(axis=0))
        if len(rows) == 0:
            return 0.0, 0.0
        mm = 25.4 / self.dpi
        return (cols[-1] - cols[0] + 1) * mm, (rows[-1] - rows[0] + 1) * mm

    def rgba(self) -> np.ndarray:
        h, w = self.alpha.shape
        rgb = np.broadcast_to(np.asarray(self.rgb, np.uint8), (h, w, 3))
        out = np.empty((h, w, 4), np.uint8)
        out[..., :3] = rgb
        out[..., 3] = np.clip(self.alpha * 255 + 0.5, 0, 255).astype(np.uint8)
        return out

    def box_hits(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        """Whether ink (alpha above 0.25) lies in the page box (mm)."""
        px = self.dpi / 25.4
        h, w = self.alpha.shape
        c0, c1 = round((x0 - self.x_mm) * px), round((x1 - self.x_mm) * px)
        r0, r1 = round((y0 - self.y_mm) * px), round((y1 - self.y_mm) * px)
        c0, r0 = max(c0, 0), max(r0, 0)
        c1, r1 = min(c1, w), min(r1, h)
        if c1 <= c0 or r1 <= r0:
            return False
        return int((self.alpha[r0:r1, c0:c1] > 0.25).sum()) >= 4


def multiply(page: np.ndarray, mark: Mark) -> None:
    """Lay ``mark`` on ``page`` (HxWx3 uint8 at the mark's dpi) as ink: multiplied."""
    px = mark.dpi / 25.4
    top, left = round(mark.y_mm * px), round(mark.x_mm * px)
    h, w = mark.alpha.shape
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, page.shape[0]), min(left + w, page.shape[1])
    if r1 <= r0 or c1 <= c0:
        return
    a = mark.alpha[r0 - top : r1 - top, c0 - left : c1 - left, None]
    rgb = np.broadcast_to(np.asarray(mark.rgb, np.float32) / 255, (h, w, 3))
    rgb = rgb[r0 - top : r1 - top, c0 - left : c1 - left]
    region = page[r0:r1, c0:c1].astype(np.float32)
    page[r0:r1, c0:c1] = np.clip(region * (1 - a * (1 - rgb)) + 0.5, 0, 255).astype(np.uint8)


# --- the oscillators -------------------------------------------------------------------


@dataclass
class Segment:
    cycles: float
    half: float  # vertical half-amplitude (x-height units)
    mid: float  # vertical midline
    amp_x: float  # horizontal amplitude
    phase: float  # horizontal phase against the vertical (radians)
    drift: float  # horizontal advance per cycle


def _letter(ch: str, rng: random.Random, capital: bool, loops: float) -> Segment:
    if capital:
        half = rng.uniform(1.15, 1.6)
        return Segment(
            rng.choice([1.0, 1.5, 1.5, 2.0]),
            half,
            half - rng.uniform(0.0, 0.25),
            rng.uniform(0.35, 0.8),
            rng.choice([math.pi / 2, math.pi / 2, 0.3]),
            rng.uniform(0.5, 0.9),
        )
    cycles = WIDE.get(ch, 1.0) * rng.uniform(0.85, 1.1)
    if ch in ASCENDERS:
        half, mid = rng.uniform(0.8, 1.1), rng.uniform(0.75, 1.0)
    elif ch in DESCENDERS:
        half, mid = rng.uniform(0.8, 1.05), rng.uniform(-0.2, 0.05)
    else:
        half, mid = rng.uniform(0.42, 0.55), 0.5
    looped = ch in LOOPED and rng.random() < loops
    amp_x = rng.uniform(0.22, 0.4) if looped else rng.uniform(0.02, 0.12)
    phase = math.pi / 2 if looped else rng.uniform(-0.4, 0.4)
    return Segment(cycles, half, mid, amp_x, phase, rng.uniform(0.75, 1.05))


def _word(word: str, rng: random.Random, *, laziness: float, loops: float) -> list[Segment]:
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return []
    segs = [_letter(letters[0].lower(), rng, letters[0].isupper(), loops)]
    rest = letters[1:]
    for i, ch in enumerate(rest):
        u = (i + 1) / max(len(rest), 1)
        if i > 0 and rng.random() < laziness * u * 0.6:
            continue  # a letter swallowed
        seg = _letter(ch, rng, False, loops)
        shrink = 1 - laziness * u**1.3 * 0.75
        seg.half *= shrink
        seg.mid = seg.mid * shrink + 0.15 * (1 - shrink)
        segs.append(seg)
    return segs


def _oscillate(
    segs: list[Segment], rng: random.Random, *, per_cycle: int = 64, reverse: bool = False
) -> np.ndarray:
    """The pen path (N x 2, y up) of one pen-down movement through ``segs``."""
    counts = [max(int(s.cycles * per_cycle), 8) for s in segs]
    n = sum(counts)
    params = np.empty((n, 5))
    i = 0
    for s, c in zip(segs, counts, strict=True):
        params[i : i + c] = (s.half, s.mid, s.amp_x, s.phase, s.drift)
        i += c
    k = max(per_cycle // 4, 3)  # parameters change smoothly, within about a quarter cycle
    kernel = np.hanning(2 * k + 1)
    kernel /= kernel.sum()
    padded = np.pad(params, ((k, k), (0, 0)), mode="edge")
    params = np.stack([np.convolve(padded[:, j], kernel, mode="valid") for j in range(5)], axis=1)
    # the frequency wanders a little (time is the model's parameter, not space)
    wobble = np.convolve(
        np.random.default_rng(rng.getrandbits(32)).normal(0, 1, n + 40),
        np.ones(40) / 40,
        mode="valid",
    )[:n]
    dtheta = 2 * math.pi / per_cycle * (1 + 0.9 * wobble)
    theta = np.cumsum(dtheta) - math.pi / 2  # start at the bottom of the stroke
    half, mid, amp_x, phase, drift = params.T
    y = mid + half * np.sin(theta)
    advance = np.cumsum(drift * dtheta / (2 * math.pi))
    x = advance * (-1 if reverse else 1) + amp_x * np.sin(theta + phase)
    return np.stack([x, y], axis=1)


def _parts(name: str, kind: str, rng: random.Random) -> list[tuple[str, str]]:
    """The name as it is signed: (how, text) per pen-down movement."""
    words = [w for w in name.replace("-", " ").split() if any(c.isalpha() for c in w)]
    first, last = words[0], words[-1]
    particles = [w for w in words[1:-1] if w.islower()]
    if kind == "initials":
        return [("initial", first[0].upper()), ("initial", last[0].upper())]
    style = rng.choice(["both", "both", "initial-last", "last"])
    out: list[tuple[str, str]] = []
    if style == "both":
        out.append(("word", first))
    elif style == "initial-last":
        out.append(("initial", first[0].upper()))
    out += [("word", p) for p in particles]
    out.append(("word", last[0].upper() + last[1:]))
    return out


def path(name: str, kind: str, rng: random.Random) -> list[np.ndarray]:
    """The signature's pen-down movements (x-height units, y up), before any sizing."""
    laziness, loops = rng.uniform(0.15, 0.8), rng.uniform(0.2, 0.9)
    strokes: list[np.ndarray] = []
    x = 0.0
    for how, text in _parts(name, kind, rng):
        if how == "initial":
            segs = [_letter(text.lower(), rng, True, loops)]
            if kind == "initials":  # initials trail off in a short garland
                segs.append(Segment(rng.uniform(1.0, 2.5), 0.3, 0.3, 0.05, 0.0, 1.2))
        else:
            segs = _word(text, rng, laziness=laziness, loops=loops)
        stroke = _oscillate(segs, rng)
        stroke[:, 0] += x - stroke[:, 0].min()
        strokes.append(stroke)
        x = stroke[:, 0].max() + rng.uniform(0.4, 1.1)
        if how == "initial" and rng.random() < 0.5:  # a full stop: a tiny tick
            dot = np.array([[x - 0.3, 0.05], [x - 0.22, 0.0], [x - 0.15, 0.08]])
            strokes.append(dot)
            x += 0.3
    if kind == "flourish" or (kind == "initials" and rng.random() < 0.6):
        strokes.append(_paraph(strokes, rng))
    return strokes


def _paraph(strokes: list[np.ndarray], rng: random.Random) -> np.ndarray:
    """The flourish: the oscillator again, its drift reversed under the name, or an
    underline sweeping on to the right."""
    everything = np.concatenate(strokes)
    x0, x1 = everything[:, 0].min(), everything[:, 0].max()
    span = x1 - x0
    if rng.random() < 0.6:
        cycles = rng.uniform(1.5, 3.0)
        segs = [Segment(cycles, rng.uniform(0.15, 0.45), 0.0, rng.uniform(0.3, 0.7), 1.4, 1.0)]
        sweep = _oscillate(segs, rng, reverse=True)
        sweep[:, 0] *= span * rng.uniform(0.8, 1.1) / max(np.ptp(sweep[:, 0]), 1e-6)
        sweep[:, 0] += x1 + rng.uniform(0.0, 0.6) - sweep[:, 0].max()
        sweep[:, 1] += -rng.uniform(0.35, 0.9) - np.linspace(0, rng.uniform(-0.3, 0.5), len(sweep))
        return sweep
    t = np.linspace(0, 1, 80)
    xs = x0 + span * (rng.uniform(-0.05, 0.2) + rng.uniform(0.9, 1.25) * t)
    ys = -rng.uniform(0.3, 0.7) - 0.25 * np.sin(math.pi * t) + rng.uniform(-0.2, 0.3) * t
    return np.stack([xs, ys], axis=1)


# --- sizing and pens ---------------------------------------------------------------


def _transform(strokes: list[np.ndarray], rng: random.Random) -> list[np.ndarray]:
    slant = math.radians(rng.uniform(4, 30))
    tilt = math.radians(rng.uniform(-6, 5))
    climb = rng.uniform(-0.06, 0.08)
    c, s = math.cos(tilt), math.sin(tilt)
    out = []
    for st in strokes:
        x, y = st[:, 0] + st[:, 1] * math.tan(slant), st[:, 1] + climb * st[:, 0]
        out.append(np.stack([c * x - s * y, s * x + c * y], axis=1))
    return out


def _pressure(p: np.ndarray, rng: random.Random) -> np.ndarray:
    if len(p) < 3:
        return np.full(len(p), 0.6)
    speed = np.linalg.norm(np.gradient(p, axis=0), axis=1)
    base = 1.2 - 0.55 * speed / (np.median(speed) + 1e-9)
    n = len(p)
    ramp = np.minimum(
        1, np.minimum(np.arange(n) / (0.06 * n + 1), (n - np.arange(n)) / (0.1 * n + 1))
    )
    pressure = np.clip(base, 0.3, 1.0) * (0.35 + 0.65 * ramp)
    pressure *= rng.uniform(0.85, 1.0)
    kernel = np.ones(5) / 5
    return np.clip(np.convolve(np.pad(pressure, 2, mode="edge"), kernel, mode="valid"), 0.15, 1)


def _resample(p: np.ndarray, step: float) -> np.ndarray:
    d = np.r_[0, np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))]
    if d[-1] <= step:
        return p
    t = np.arange(0, d[-1], step)
    return np.stack([np.interp(t, d, p[:, 0]), np.interp(t, d, p[:, 1])], axis=1)


@dataclass
class Pen:
    width: tuple[float, float]  # mm at the lightest and the heaviest pressure
    opacity: tuple[float, float]
    grey: float  # how far the ink's colour is pulled towards grey
    skips: float  # how often a light ballpoint leaves no ink
    blur: float  # mm (felt bleeds)
    nib: float | None  # fountain nib angle (radians)


def pen_for(kind: str, rng: random.Random) -> Pen:
    if kind == "ballpoint":
        w = rng.uniform(0.2, 0.34)
        return Pen(
            (w * 0.75, min(w * 1.35, 0.45)),
            (rng.uniform(0.5, 0.65), rng.uniform(0.8, 0.95)),
            rng.uniform(0.15, 0.35),
            rng.uniform(0.25, 0.55),
            0.0,
            None,
        )
    if kind == "gel":
        w = rng.uniform(0.38, 0.55)
        return Pen((w * 0.85, w * 1.1), (0.82, 0.97), 0.0, 0.03, 0.03, None)
    if kind == "felt":
        w = rng.uniform(0.7, 1.15)
        return Pen((w * 0.8, w * 1.1), (0.7, 0.9), 0.05, 0.0, rng.uniform(0.1, 0.18), None)
    return Pen(
        (rng.uniform(0.12, 0.22), rng.uniform(0.6, 0.95)),
        (0.75, 0.95),
        0.0,
        0.0,
        0.03,
        math.radians(rng.uniform(25, 50)),
    )


def draw(
    strokes_mm: list[np.ndarray], pen: Pen, rgb: tuple[int, int, int], dpi: int, rng: random.Random
) -> Mark:
    """The strokes (mm, y down) drawn with ``pen`` at ``dpi``; the mark's position is the
    strokes' origin (x_mm, y_mm of its top-left corner relative to that origin)."""
    hi = dpi * OVERSAMPLE
    px = hi / 25.4
    allp = np.concatenate(strokes_mm)
    pad = pen.width[1] + pen.blur * 3 + 1.0
    x0, y0 = allp.min(axis=0) - pad
    x1, y1 = allp.max(axis=0) + pad
    w, h = math.ceil((x1 - x0) * px), math.ceil((y1 - y0) * px)
    nrng = np.random.default_rng(rng.getrandbits(32))
    coverage = np.zeros((h, w), np.float32)
    for stroke in strokes_mm:
        pts = _resample(stroke, 0.4 / px)
        pressure = _pressure(pts, rng)
        layer = np.zeros((h, w), np.uint8)
        if len(pts) > 1:
            direction = np.arctan2(*np.gradient(pts, axis=0).T[::-1])
        else:
            direction = np.zeros(len(pts))
        skip_noise = np.convolve(nrng.normal(0, 1, len(pts) + 30), np.ones(30) / 30 * 4, "valid")
        skip_noise = skip_noise[: len(pts)]
        for (x, y), p, d, sk in zip(pts, pressure, direction, skip_noise, strict=True):
            if pen.nib is not None:
                width = pen.width[0] + (pen.width[1] - pen.width[0]) * abs(math.sin(d - pen.nib))
                width *= 0.8 + 0.2 * p
            else:
                width = pen.width[0] + (pen.width[1] - pen.width[0]) * p
            op = pen.opacity[0] + (pen.opacity[1] - pen.opacity[0]) * p
            if pen.skips and sk < -(1 - pen.skips) - (0.7 - p):
                op *= 0.12
            cx, cy = (x - x0) * px, (y - y0) * px
            cv2.circle(
                layer,
                (round(cx * 16), round(cy * 16)),
                max(round(width * px * 8), 8),
                int(op * 255),
                -1,
                cv2.LINE_AA,
                4,
            )
        stroke_alpha = layer.astype(np.float32) / 255
        coverage = 1 - (1 - coverage) * (1 - stroke_alpha)  # crossings darken
    if pen.skips:  # ballpoint on paper: the ball misses the paper's valleys
        grain = cv2.GaussianBlur(nrng.random((h, w), dtype=np.float32), (0, 0), 1.2)
        coverage *= np.clip((grain - grain.mean()) / (grain.std() + 1e-6) * 0.15 + 0.92, 0.5, 1)
    if pen.blur:
        coverage = cv2.GaussianBlur(coverage, (0, 0), pen.blur * px)
        if pen.blur > 0.08:
            coverage = np.clip(coverage * 1.25, 0, 1)
    alpha = cv2.resize(
        coverage, (max(w // OVERSAMPLE, 1), max(h // OVERSAMPLE, 1)), interpolation=cv2.INTER_AREA
    )
    grey = np.array([118, 124, 140], np.float32)
    colour = np.clip(np.asarray(rgb, np.float32) * (1 - pen.grey) + grey * pen.grey, 0, 255)
    return Mark(np.clip(alpha, 0, 1), colour.astype(np.uint8), dpi, float(x0), float(y0))


def signature(
    name: str, sig: SignatureSpec, *, width: tuple[float, float], height: float, dpi: int
) -> tuple[Mark, list[np.ndarray]]:
    """The executive's signature, its inked box about ``height`` mm high and between
    ``width`` mm wide (the band's room); the mark sits with its inked box's top-left at
    (0, 0). Also returns the strokes in mm."""
    rng = random.Random(f"typst-sig/{sig.seed}/{sig.kind}")
    strokes = _transform(path(name, sig.kind, rng), rng)
    allp = np.concatenate(strokes)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    pen = pen_for(sig.pen, rng)
    ink_w = pen.width[1]
    sy = max(height - ink_w, 4) / span[1]
    sx = sy * rng.uniform(0.85, 1.25)
    natural = span[0] * sx + ink_w
    target = min(max(natural, width[0]), width[1])
    sx *= (target - ink_w) / (span[0] * sx)
    mm = [np.stack([(s[:, 0] - lo[0]) * sx, (hi[1] - s[:, 1]) * sy], axis=1) for s in strokes]
    mark = draw(mm, pen, sig.rgb, dpi, rng)
    return mark, mm
