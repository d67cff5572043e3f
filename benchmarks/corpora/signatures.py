"""Handwritten signatures from Plamondon's kinematic theory (sigma-lognormal strokes).

A pen-down movement is a chain of strokes; stroke ``j`` moves the pen from virtual
target ``P[j-1]`` to ``P[j]`` along a circular arc, with a speed that follows a
lognormal in time::

    |v_j(t)| = D_j / (sigma_j sqrt(2 pi) (t - t0_j)) exp(-(ln(t - t0_j) - mu_j)^2 / (2 sigma_j^2))

and a direction that turns from ``theta_s`` to ``theta_e`` in proportion to the
distance covered. The strokes overlap in time, so the pen never reaches the targets:
it sweeps past them, which is what makes handwriting round and fast. The targets
follow the name's letters roughly (capitals and ascenders tall, descenders low, round
letters looping back) and flatten into a wave as the name goes on, as most real
signatures do. Everything is in millimetres until ``render`` rasterises at a DPI with
a pen model: width and opacity follow the pen pressure, which drops with speed and
tapers where the pen lands and lifts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from benchmarks.corpora.spec import SignatureSpec

DT = 0.002  # seconds between trajectory samples


@dataclass(frozen=True)
class Movement:
    """One pen-down movement: positions (mm, y down) and the pen pressure (0-1)."""

    xy: np.ndarray  # (n, 2)
    pressure: np.ndarray  # (n,)
    speed: np.ndarray  # (n,) mm/s


@dataclass(frozen=True)
class InkLayer:
    """Ink on a transparent layer: coverage 0-1 per pixel, one ink colour."""

    alpha: np.ndarray  # (h, w) float32
    rgb: tuple[int, int, int]
    dpi: int
    x_mm: float = 0.0  # top-left corner relative to the generator's anchor
    y_mm: float = 0.0

    def rgba(self) -> np.ndarray:
        """An RGBA array to embed in a PDF or an HTML page."""
        out = np.zeros((*self.alpha.shape, 4), dtype=np.uint8)
        out[..., :3] = self.rgb
        out[..., 3] = np.clip(self.alpha * 255, 0, 255).astype(np.uint8)
        return out

    @property
    def size_mm(self) -> tuple[float, float]:
        h, w = self.alpha.shape
        return w * 25.4 / self.dpi, h * 25.4 / self.dpi


def multiply(page: np.ndarray, layer: InkLayer, x_px: int, y_px: int) -> None:
    """Lay the ink on ``page`` (RGB uint8, in place) as ink does on paper: the paper's
    colour is multiplied by the ink's, so typed text under the ink stays dark."""
    h, w = layer.alpha.shape
    top, left = max(0, y_px), max(0, x_px)
    bottom, right = min(page.shape[0], y_px + h), min(page.shape[1], x_px + w)
    if bottom <= top or right <= left:
        return
    a = layer.alpha[top - y_px : bottom - y_px, left - x_px : right - x_px, None]
    tint = 1.0 - a * (1.0 - np.asarray(layer.rgb, dtype=np.float32) / 255.0)
    region = page[top:bottom, left:right].astype(np.float32) * tint
    page[top:bottom, left:right] = np.clip(region, 0, 255).astype(np.uint8)


# --- the kinematic model -------------------------------------------------------------


def _chain(targets: np.ndarray, rng: np.random.Generator, tempo: float) -> Movement:
    """The sigma-lognormal movement through ``targets`` (mm)."""
    n = len(targets) - 1
    sigma = rng.uniform(0.18, 0.34, n)
    mu = rng.uniform(-1.95, -1.55, n) - math.log(tempo)
    gaps = rng.uniform(0.07, 0.13, n) / tempo
    t0 = np.concatenate([[0.0], np.cumsum(gaps[:-1])])
    end = t0[-1] + math.exp(mu[-1] + 3.2 * sigma[-1]) + 0.02
    t = np.arange(DT, end, DT)
    velocity = np.zeros((len(t), 2))
    for j in range(n):
        chord = targets[j + 1] - targets[j]
        length = float(np.hypot(*chord))
        if length < 1e-6:
            continue
        angle = math.atan2(chord[1], chord[0])
        bend = float(np.clip(rng.normal(0.0, 0.9), -2.6, 2.6))  # arc curvature (radians)
        arc = length * (bend / 2) / math.sin(bend / 2) if abs(bend) > 1e-3 else length
        tau = t - t0[j]
        live = tau > 0
        log_tau = np.log(tau[live])
        z = (log_tau - mu[j]) / sigma[j]
        profile = np.exp(-0.5 * z * z) / (sigma[j] * math.sqrt(2 * math.pi) * tau[live])
        fraction = 0.5 * (1 + _erf(z / math.sqrt(2)))
        heading = angle - bend / 2 + bend * fraction
        velocity[live, 0] += arc * profile * np.cos(heading)
        velocity[live, 1] += arc * profile * np.sin(heading)
    xy = targets[0] + np.cumsum(velocity, axis=0) * DT
    speed = np.hypot(velocity[:, 0], velocity[:, 1])
    moving = speed > 0.02 * speed.max()
    first, last = int(np.argmax(moving)), len(moving) - int(np.argmax(moving[::-1]))
    xy, speed = xy[first:last], speed[first:last]
    return Movement(xy, _pressure(speed, rng), speed)


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz-Stegun 7.1.26: numpy has no erf and scipy is not a dependency.
    sign = np.sign(x)
    a = np.abs(x)
    k = 1.0 / (1.0 + 0.3275911 * a)
    poly = k * (
        0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429)))
    )
    result: np.ndarray = sign * (1.0 - poly * np.exp(-a * a))
    return result


def _pressure(speed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lighter when fast, landing and lifting tapered, with a slow wobble."""
    n = len(speed)
    base = 1.0 - 0.45 * speed / max(float(speed.max()), 1e-6)
    ramp = np.ones(n)
    land, lift = max(2, int(n * rng.uniform(0.02, 0.06))), max(2, int(n * rng.uniform(0.05, 0.14)))
    ramp[:land] = np.linspace(0.35, 1.0, land)
    ramp[-lift:] = np.linspace(1.0, rng.uniform(0.05, 0.3), lift)
    wobble = np.interp(np.arange(n), np.linspace(0, n, 6), rng.uniform(0.8, 1.0, 6))
    return np.clip(base * ramp * wobble, 0.02, 1.0)


# --- targets that follow a name ----------------------------------------------------

_ASCENDERS, _DESCENDERS, _ROUND = set("bdfhklt"), set("gjpqyz"), set("aceosdgq")


def _letter_targets(
    ch: str, x: float, xh: float, amp: float, rng: np.random.Generator
) -> tuple[list[tuple[float, float]], float]:
    """Virtual targets for one letter at ``x`` (baseline y = 0, up is negative)."""

    def j(spread: float) -> float:
        return float(rng.normal(0, spread))

    w = xh * rng.uniform(0.7, 1.1) * (0.6 + 0.4 * amp)
    top = -xh * amp
    if ch.isupper():
        cap = -xh * rng.uniform(2.0, 3.2)
        w *= 1.6
        points = [
            (x + j(0.3), -0.1 * xh),
            (x + 0.35 * w, cap + j(0.5)),
            (x + 0.5 * w, j(0.4)),
            (x + 0.9 * w, cap * rng.uniform(0.4, 0.9)),
            (x + w, 0.5 * top),
        ]
    elif ch in _ASCENDERS:
        asc = -xh * rng.uniform(1.8, 2.6) * (0.5 + 0.5 * amp)
        if rng.random() < 0.6:  # a cursive loop: up to the right, back over to the left, down
            points = [
                (x + 0.5 * w, 0.5 * asc),
                (x + 0.45 * w, asc + j(0.3)),
                (x + 0.1 * w, 0.75 * asc),
                (x + 0.2 * w, j(0.2)),
                (x + w, top * 0.8),
            ]
        else:
            points = [(x + 0.3 * w, asc + j(0.3)), (x + 0.1 * w, j(0.2)), (x + w, top * 0.8)]
    elif ch in _DESCENDERS:
        desc = xh * rng.uniform(0.9, 1.6) * (0.5 + 0.5 * amp)
        points = [(x + 0.7 * w, top), (x + 0.5 * w, desc + j(0.3)), (x + w, top * 0.5)]
    elif ch in _ROUND:
        points = [
            (x + 0.8 * w, top + j(0.2)),
            (x + 0.1 * w, 0.5 * top),
            (x + 0.5 * w, j(0.2)),
            (x + w, top * 0.9),
        ]
    elif ch in "mnuvwrhx":
        humps = 3 if ch in "mw" else 2
        points = []
        for k in range(humps):
            points += [
                (x + (k + 0.5) * w / humps, top + j(0.2)),
                (x + (k + 1) * w / humps, j(0.15)),
            ]
    elif ch in ".-' ":
        return [], xh * 0.5
    else:
        points = [(x + 0.4 * w, top + j(0.3)), (x + w, j(0.2))]
    return points, w


def _word_targets(
    word: str, x: float, xh: float, legibility: float, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    points: list[tuple[float, float]] = [(x, rng.uniform(-0.3, 0.1) * xh)]
    for k, ch in enumerate(word):
        # Past the first few letters a signature decays into a wave.
        amp = max(0.25, 1.0 - (1.0 - legibility) * min(1.0, k / 2.5))
        if k > 2 and rng.random() > legibility + 0.3:
            continue  # letters dropped altogether
        letter, advance = _letter_targets(ch, x, xh, amp, rng)
        points += letter
        x += advance * rng.uniform(0.85, 1.1)
    return np.array(points, dtype=float), x


def _flourish(
    start: np.ndarray, left: float, right: float, xh: float, rng: np.random.Generator
) -> np.ndarray:
    """A long sweep from the end of the name: back under it, out past its start."""
    low = xh * rng.uniform(1.2, 2.6)
    if rng.random() < 0.5:  # a loop under the name and a tail out to the right
        return np.array(
            [
                start,
                (right + xh, low * 0.4),
                (left - 2 * xh, low),
                (left + 0.2 * (right - left), low * 0.6),
                (right + 3 * xh, low * 0.2),
            ]
        )
    return np.array(
        [
            start,
            (right - xh, -3.0 * xh),
            (left + 0.5 * (right - left), low),
            (left - 3 * xh, low * 0.5),
        ]
    )


def movements(name: str, spec: SignatureSpec) -> list[Movement]:
    """The pen-down movements of ``name``'s signature, in mm around (0, 0) on the baseline."""
    rng = np.random.default_rng(spec.seed)
    xh = rng.uniform(2.5, 4.5)  # x-height in mm
    legibility = rng.uniform(0.0, 0.8)
    tempo = rng.uniform(0.8, 1.4)
    words = [w for w in name.replace(".", " ").split() if w]
    chains: list[np.ndarray] = []
    x = 0.0
    if spec.kind == "initials":
        for word in (words[0], words[-1]):
            points, x = _word_targets(word[0].upper(), x, xh * 1.3, 1.0, rng)
            chains.append(points)
            if rng.random() < 0.5:  # the full stop after an initial
                chains.append(np.array([(x, 0.0), (x + 0.3, 0.2)]))
            x += xh * rng.uniform(0.2, 0.8)
    else:
        first = words[0] if rng.random() < 0.45 else words[0][0].upper()
        for k, word in enumerate([first, *words[1:]]):
            points, x = _word_targets(word, x, xh, legibility if k else max(legibility, 0.5), rng)
            if chains and rng.random() < 0.35:  # first and last name in one movement
                chains[-1] = np.vstack([chains[-1], points])
            else:
                chains.append(points)
            x += xh * rng.uniform(0.5, 1.4)
    end = chains[-1][-1]
    if spec.kind == "flourish":
        chains[-1] = np.vstack([chains[-1], _flourish(end, 0.0, x, xh, rng)[1:]])
    elif rng.random() < 0.35:  # an underline stroke
        y = xh * rng.uniform(0.8, 1.6)
        chains.append(
            np.array([(x * rng.uniform(0.7, 1.0), y), (-xh * rng.uniform(0, 1), y * 1.1)])
        )
    slant = math.radians(rng.uniform(-5, 28))
    tilt = math.radians(rng.uniform(-8, 3))
    out = []
    for targets in chains:
        if len(targets) < 2:
            continue
        moved = _chain(targets, rng, tempo)
        xy = moved.xy.copy()
        xy[:, 0] -= xy[:, 1] * math.tan(slant)
        c, s = math.cos(tilt), math.sin(tilt)
        xy = xy @ np.array([[c, s], [-s, c]])
        out.append(Movement(xy, moved.pressure, moved.speed))
    return out


# --- pens ------------------------------------------------------------------------

PEN_WIDTH_MM = {
    "ballpoint": (0.14, 0.36),
    "gel": (0.3, 0.5),
    "fountain": (0.25, 0.55),
    "felt": (0.55, 1.0),
}
PEN_OPACITY = {
    "ballpoint": (0.6, 0.95),
    "gel": (0.85, 0.97),
    "fountain": (0.7, 0.92),
    "felt": (0.75, 0.92),
}


def render(
    moves: list[Movement], pen: str, rgb: tuple[int, int, int], dpi: int, rng: np.random.Generator
) -> InkLayer:
    """Rasterise the movements with a pen; the layer's corner is at (x_mm, y_mm)."""
    scale = dpi / 25.4
    width = rng.uniform(*PEN_WIDTH_MM[pen]) * scale
    opacity = rng.uniform(*PEN_OPACITY[pen])
    everything = np.vstack([m.xy for m in moves])
    margin = width + 3
    origin = everything.min(axis=0) * scale - margin
    size = np.ceil(everything.max(axis=0) * scale - origin + margin).astype(int)
    alpha = np.zeros((size[1], size[0]), dtype=np.float32)
    nib = rng.uniform(0.5, 1.1)  # fountain nib angle
    for move in moves:
        path = move.xy * scale - origin
        step = np.hypot(*np.diff(path, axis=0).T)
        along = np.concatenate([[0.0], np.cumsum(step)])
        samples = np.arange(0.0, along[-1], 0.35)
        if len(samples) < 2:
            continue
        x, y = np.interp(samples, along, path[:, 0]), np.interp(samples, along, path[:, 1])
        pressure = np.interp(samples, along, move.pressure)
        heading = np.arctan2(np.gradient(y), np.gradient(x))
        radius = width / 2 * (0.45 + 0.55 * pressure)
        ink = opacity * (0.55 + 0.45 * pressure)
        if pen == "fountain":  # a broad nib: thin along its edge, wide across it
            radius = (
                width / 2 * (0.25 + 0.9 * np.abs(np.sin(heading - nib))) * (0.7 + 0.3 * pressure)
            )
        if pen == "ballpoint":  # the ball skips where the pen moves fast and light
            skips = np.interp(
                samples,
                np.linspace(0, samples[-1], max(3, len(samples) // 25)),
                rng.uniform(0, 1, max(3, len(samples) // 25)),
            )
            ink = ink * np.where(skips < 0.25 + 0.35 * (1 - pressure), rng.uniform(0.15, 0.5), 1.0)
        stroke = _stamp(alpha.shape, x, y, radius, ink, soft=1.4 if pen == "felt" else 0.5)
        if pen == "ballpoint":  # paper grain shows through the thin paste
            stroke *= rng.uniform(0.7, 1.0, stroke.shape).astype(np.float32)
        alpha = 1.0 - (1.0 - alpha) * (1.0 - stroke)
    if pen in {"felt", "fountain"}:  # wet ink bleeds a little into the fibres
        alpha = cv2.GaussianBlur(alpha, (0, 0), 0.5 if pen == "fountain" else 0.8)
    return InkLayer(
        alpha.astype(np.float32), rgb, dpi, float(origin[0] / scale), float(origin[1] / scale)
    )


def _stamp(
    shape: tuple[int, ...],
    xs: np.ndarray,
    ys: np.ndarray,
    radii: np.ndarray,
    inks: np.ndarray,
    *,
    soft: float,
) -> np.ndarray:
    """One stroke's coverage: round dabs along the path, overlapping dabs not darker."""
    layer = np.zeros(shape, dtype=np.float32)
    reach = math.ceil(float(np.max(radii)) + soft + 1)
    offsets = np.arange(-reach, reach + 1, dtype=np.float32)
    for x, y, r, a in zip(
        xs, ys, np.broadcast_to(radii, xs.shape), np.broadcast_to(inks, xs.shape), strict=True
    ):
        cx, cy = int(x), int(y)
        gx, gy = offsets + cx - x, offsets + cy - y
        distance = np.sqrt(gx[None, :] ** 2 + gy[:, None] ** 2)
        dab = a * np.clip((r + soft / 2 - distance) / soft, 0.0, 1.0)
        top, left = cy - reach, cx - reach
        t0, l0 = max(0, -top), max(0, -left)
        bottom, right = min(shape[0], cy + reach + 1), min(shape[1], cx + reach + 1)
        if bottom <= max(top, 0) or right <= max(left, 0):
            continue
        patch = layer[max(top, 0) : bottom, max(left, 0) : right]
        np.maximum(patch, dab[t0 : t0 + patch.shape[0], l0 : l0 + patch.shape[1]], out=patch)
    return layer


# --- placing a signature between the closing and the typed name --------------------


@dataclass(frozen=True)
class Band:
    """The signature band in mm, relative to the closing line's baseline at the margin."""

    gap: float  # closing baseline down to the top of the typed name's capitals
    text_height: float  # cap height of the typed lines
    width: float  # room to the right of the margin


def signature_ink(name: str, spec: SignatureSpec, band: Band, dpi: int) -> InkLayer:
    """``name``'s signature drawn with ``spec``'s pen, sized and placed in the band as
    ``spec.overlap`` asks: clear of both lines, into the closing above, into the typed
    name below, or both."""
    rng = np.random.default_rng(spec.seed + 1)
    moves = movements(name, spec)
    everything = np.vstack([m.xy for m in moves])
    low, high = everything.min(axis=0), everything.max(axis=0)
    th = band.text_height
    above = -rng.uniform(0.4, 1.2) * th if spec.overlap in {"closing", "both"} else band.gap * 0.1
    below = (
        band.gap + rng.uniform(0.3, 1.0) * th
        if spec.overlap in {"name", "both"}
        else band.gap * 0.92
    )
    target_h = below - above
    scale = min(
        target_h / max(high[1] - low[1], 1e-3), band.width * 0.8 / max(high[0] - low[0], 1e-3)
    )
    if spec.kind == "initials":
        scale = min(scale, 14.0 / max(high[0] - low[0], 1e-3))
    height = (high[1] - low[1]) * scale
    if spec.overlap == "name":  # narrower than asked: keep the side that overlaps
        above = below - height
    elif spec.overlap in {"both", "none"}:
        above += (target_h - height) / 2
    shift = np.array([rng.uniform(-2.0, 18.0) - low[0] * scale, above - low[1] * scale])
    placed = [Movement(m.xy * scale + shift, m.pressure, m.speed) for m in moves]
    return render(placed, spec.pen, spec.rgb, dpi, rng)


def overlaps(layer: InkLayer, band: Band) -> dict[str, bool]:
    """Whether the ink actually reaches into the closing line and the typed name."""
    rows = np.flatnonzero(layer.alpha.max(axis=1) > 0.15)
    if len(rows) == 0:
        return {"closing": False, "name": False}
    top = layer.y_mm + rows[0] * 25.4 / layer.dpi
    bottom = layer.y_mm + rows[-1] * 25.4 / layer.dpi
    return {
        "closing": bool(top < -0.3 * band.text_height),
        "name": bool(bottom > band.gap + 0.2 * band.text_height),
    }
