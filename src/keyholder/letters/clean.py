"""Clean up a scanned or photographed page before OCR (OpenCV).

Four steps, each cheap and each skipped when it finds nothing to do: find the
sheet of paper in a photo and flatten it (perspective), even out the lighting
(shadows, vignetting), straighten small tilts (deskew), and turn pages whose
lines of text run vertically by 90 degrees. Upside-down pages are left to
``ocr.read_page``, which asks Tesseract's orientation detection when the text
reads badly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from keyholder.letters.document import Image

# Working width of a cleaned page: about 200 dpi for A4/Letter. Bigger photos are
# scaled down (OCR time grows with pixels), smaller ones up (Tesseract wants
# capital letters 20+ pixels high).
TARGET_WIDTH = 1650
# The note on a page that came black and white only (see ``two_tone``).
TWO_TONE = "a black-and-white image (a fax?): faint pen strokes may be lost"
# The note on a page ``clean_page`` turned a quarter turn clockwise.
TURNED_SIDEWAYS = "turned the page by 90 degrees"
# The sheet must cover this share of the photo to count as found.
MIN_PAGE_AREA = 0.2
MAX_PAGE_AREA = 0.97
# The sheet's edge: paper just inside it and desk just outside differ by this much in
# one colour channel at least (0-255). Development photos: 45 or more; the outline
# of a scan's or photocopy's text block: under 5.
DESK_CONTRAST = 20.0
# A photographed sheet's corners are near right angles: development photos 4-5
# degrees off at most. An outline with a corner this far off is not a sheet (a
# scan's grey bed along two sides with the text's edges made a three-cornered
# "sheet", and the page was cut to a blank strip: issue 14, fpdf 5201 letter 19).
SHEET_CORNER_TOLERANCE = 30.0
DESKEW_RANGE_DEGREES = 8.0
# Lighting evened out, paper is ~255 and ink well below; above this is paper (noise).
PAPER_LEVEL = 200
# Darker than this is ink, for finding rules (a table's sides) to take out before OCR.
INK_LEVEL = 160
# An upright line this long (pixels, on a page TARGET_WIDTH wide: 1.9 cm) is a rule:
# a 60-point heading's "l" is about 115 pixels tall.
VERTICAL_RULE = 150
RULE_WIDTH = 6
DESKEW_STEP_DEGREES = 0.25
# Ink this many pixels thick (a page 1000 pixels high) is a printed block, no text.
SOLID_BLOCK = 9
# The share of each side of the page left out when judging the text's direction.
EDGE_MARGIN = 0.04
# Mean of a 0/255 ink mask below which a page counts as blank (0.04% of its
# pixels): a last page holding only the closing and the signature block has
# about 0.4% ink, and its direction and tilt still need measuring.
BLANK_INK_LEVEL = 0.1


@dataclass
class CleanedPage:
    image: Image  # RGB
    grey: Image  # lighting evened out, for ink detection
    notes: list[str] = field(default_factory=list)

    @property
    def for_ocr(self) -> Image:
        """The grey page with its paper made pure white. Tesseract segments every
        speck of scanner or sensor noise (twice the time on a noisy page); full
        binarisation would be as fast but loses dots and thin strokes of blurred
        photos ("a.b@c" read as "a b@c"), so the ink keeps its grey levels."""
        smooth = cv2.GaussianBlur(self.grey, (0, 0), 0.8)
        ready = np.where(smooth > PAPER_LEVEL, 255, self.grey).astype(np.uint8)
        return _without_vertical_rules(ready)


def _without_vertical_rules(grey: Image) -> Image:
    """``grey`` with its long upright lines made paper: a table's or a box's side.
    Tesseract ends a line of text where one crosses it, and what runs on past it is
    lost ("...@tailspintoys.examp|le" read to "examp": an address longer than its
    table's column, issue 14, Pillow letters). Letters' stems, even a heading's, are
    far shorter than VERTICAL_RULE."""
    ink = (grey < INK_LEVEL).astype(np.uint8)
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((VERTICAL_RULE, 1), np.uint8))
    if not rules.any():
        return grey
    # Only lines crossing the page: a dark block (a photo's desk, a letterhead's
    # sidebar) and the sheet's own edge stay as they were.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(rules, connectivity=8)
    margin = EDGE_MARGIN * grey.shape[1]
    thin = [
        i
        for i in range(1, count)
        if stats[i][cv2.CC_STAT_WIDTH] <= RULE_WIDTH
        and margin <= stats[i][cv2.CC_STAT_LEFT] <= grey.shape[1] - margin
    ]
    rules = np.isin(labels, thin).astype(np.uint8)
    # The rule's grey edges go with it.
    rules = cv2.dilate(rules, np.ones((1, 3), np.uint8))
    return np.where(rules > 0, 255, grey).astype(np.uint8)


def two_tone(image: Image) -> bool:
    """Black and white only (a fax, a bilevel scan): a pen's faint strokes fall on one
    side of its threshold or the other, so an empty-looking band proves little."""
    return len(np.unique(image[:: max(1, image.shape[0] // 200)])) <= 2


def clean_page(image: Image) -> CleanedPage:
    notes: list[str] = [TWO_TONE] if two_tone(image) else []
    quad = find_page_quadrilateral(image)
    if quad is not None:
        image = flatten(image, quad)
        notes.append("flattened the photographed page")
    # Turned before scaling: the working width is a portrait page's width. A sheet
    # found in a photo has its own outline: lying landscape, it is turned (letters
    # are portrait), however little text there is to tell by.
    landscape_sheet = quad is not None and image.shape[1] > 1.2 * image.shape[0]
    if landscape_sheet or _is_turned_sideways(image, scanned=quad is None):
        image = np.ascontiguousarray(np.rot90(image, k=-1))
        notes.append(TURNED_SIDEWAYS)
    image = _to_working_width(image)
    grey = even_out_lighting(np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), dtype=np.uint8))
    ink = _ink_mask(grey)
    angle = skew_angle(ink)
    if abs(angle) >= DESKEW_STEP_DEGREES:
        image = rotate(image, angle, border=(255, 255, 255))
        grey = rotate(grey, angle, border=255)
        notes.append(f"straightened a tilt of {angle:.2f} degrees")
    return CleanedPage(image=image, grey=grey, notes=notes)


def ocr_ready(image: Image) -> Image:
    """A cleaned page's image (RGB) made ready for OCR again, as ``CleanedPage.for_ocr``."""
    grey = even_out_lighting(np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), dtype=np.uint8))
    return CleanedPage(image, grey).for_ocr


def _is_turned_sideways(image: Image, *, scanned: bool = True) -> bool:
    """Lines of text run vertically, or (too few lines to tell) the page is
    landscape: letters are portrait."""
    height, width = image.shape[:2]
    if scanned:
        # A scan's outer edge is left out: the glass's edge or the lid's shadow
        # down one side is a long dark column that made an upright scan look
        # sideways (then straightened by 8 degrees the wrong way round). A sheet
        # found in a photo is cut at its own outline already.
        margin_y, margin_x = int(height * EDGE_MARGIN), int(width * EDGE_MARGIN)
        image = image[margin_y : height - margin_y, margin_x : width - margin_x]
    scale = 1000 / max(image.shape[:2])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = even_out_lighting(np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), dtype=np.uint8))
    ink = _without_solid_blocks(_ink_mask(grey))
    if ink.mean() < BLANK_INK_LEVEL:
        return False
    across, down = _profile_sharpness(ink, axis=1), _profile_sharpness(ink, axis=0)
    if down > 1.5 * across:
        return True
    return width > 1.2 * height and down > across / 1.5


def _without_solid_blocks(ink: Image) -> Image:
    """``ink`` (at about 1000 pixels a side) without solid blocks thicker than a
    letter's stroke: a letterhead's dark sidebar or band. Its long side made a
    whole page's text look vertical (issue 14: two photos read sideways)."""
    solid = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((SOLID_BLOCK, SOLID_BLOCK), np.uint8))
    solid = cv2.dilate(solid, np.ones((5, 5), np.uint8))
    return np.asarray(cv2.subtract(ink, solid), dtype=np.uint8)


def find_page_quadrilateral(image: Image) -> np.ndarray | None:
    """Corners of a sheet of paper lying on a darker background, or None.

    The sheet's edges first (``_edge_quadrilateral``); failing that, the
    brightest large region. Scans and rendered PDFs are all paper: neither
    finds a sheet with desk around it, and nothing is returned.
    """
    height, width = image.shape[:2]
    scale = 800 / max(height, width)
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    edged = _edge_quadrilateral(np.asarray(small, dtype=np.uint8))
    if edged is not None and _sheet_shaped(_order_corners(edged)):
        return _order_corners(edged / scale)
    grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (7, 7), 0)
    _, bright = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(contour) / (small.shape[0] * small.shape[1])
    if not MIN_PAGE_AREA <= area <= MAX_PAGE_AREA:
        return None
    approx = cv2.approxPolyDP(contour, 0.02 * cv2.arcLength(contour, closed=True), closed=True)
    if len(approx) == 4:
        corners = approx.reshape(4, 2).astype(np.float32)
    else:
        # Corners hidden by clutter: the tightest rotated rectangle, when it fits well.
        rect = cv2.minAreaRect(contour)
        if cv2.contourArea(contour) < 0.9 * rect[1][0] * rect[1][1]:
            return None
        corners = cv2.boxPoints(rect).astype(np.float32)
    # Touching the photo's edges on all sides means the page was cropped already.
    margin = 3
    x, y, w, h = cv2.boundingRect(corners)
    if (
        x <= margin
        and y <= margin
        and x + w >= small.shape[1] - margin
        and (y + h >= small.shape[0] - margin)
    ):
        return None
    return _order_corners(corners / scale) if _sheet_shaped(_order_corners(corners)) else None


def _sheet_shaped(corners: np.ndarray) -> bool:
    """Ordered ``corners`` are four distinct points whose every corner is within
    SHEET_CORNER_TOLERANCE of a right angle."""
    for i in range(4):
        before, after = corners[i - 1] - corners[i], corners[(i + 1) % 4] - corners[i]
        lengths = float(np.linalg.norm(before) * np.linalg.norm(after))
        if lengths < 1.0:
            return False
        angle = np.degrees(np.arccos(np.clip(float(before @ after) / lengths, -1.0, 1.0)))
        if abs(angle - 90.0) > SHEET_CORNER_TOLERANCE:
            return False
    return True


def _edge_quadrilateral(small: Image) -> np.ndarray | None:
    """The sheet as the outline of the edges found in the photo (Canny, each colour),
    when that outline is four-sided and the paper inside its edge differs from the
    desk outside it by DESK_CONTRAST.

    A phone's shadow across the page splits the brightest region (Otsu) into lit
    and shaded parts, and a letterhead's dark band or sidebar reads as desk: the
    page went unflattened or was cut (issue 14, 12 of 30 development photos). The
    sheet's edge is a sharp step, a shadow's a soft one that a blur removes.
    """
    blurred = cv2.GaussianBlur(small, (5, 5), 0)
    edges = np.zeros(small.shape[:2], np.uint8)
    for channel in range(3):
        edges = np.maximum(edges, cv2.Canny(np.ascontiguousarray(blurred[:, :, channel]), 30, 90))
    edges = np.asarray(cv2.dilate(edges, np.ones((3, 3), np.uint8)), dtype=np.uint8)
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    area = cv2.contourArea(hull) / (small.shape[0] * small.shape[1])
    if not MIN_PAGE_AREA <= area <= MAX_PAGE_AREA:
        return None
    approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, closed=True), closed=True)
    if len(approx) != 4:
        return None
    corners = approx.reshape(4, 2).astype(np.float32)
    # A scan's block of text also has an outline, with paper on both sides of it.
    inside = np.zeros(small.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(corners).astype(np.int32)], 1)
    ring = np.ones((9, 9), np.uint8)
    inner, outer = inside - cv2.erode(inside, ring), cv2.dilate(inside, ring) - inside
    if np.count_nonzero(outer) < 50:
        return None
    paper = np.median(small[inner > 0].astype(np.float32), axis=0)
    desk = np.median(small[outer > 0].astype(np.float32), axis=0)
    return corners if float(np.abs(paper - desk).max()) >= DESK_CONTRAST else None


def _order_corners(corners: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left."""
    sums = corners.sum(axis=1)
    diffs = np.diff(corners, axis=1).ravel()
    return np.array(
        [
            corners[np.argmin(sums)],
            corners[np.argmin(diffs)],
            corners[np.argmax(sums)],
            corners[np.argmax(diffs)],
        ],
        dtype=np.float32,
    )


def flatten(image: Image, corners: np.ndarray) -> Image:
    top_left, top_right, bottom_right, bottom_left = corners
    width = max(np.linalg.norm(top_right - top_left), np.linalg.norm(bottom_right - bottom_left))
    height = max(np.linalg.norm(bottom_left - top_left), np.linalg.norm(bottom_right - top_right))
    target = np.array(
        [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32
    )
    matrix = cv2.getPerspectiveTransform(corners, target)
    flat = cv2.warpPerspective(
        image, matrix, (int(width), int(height)), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip
    return np.asarray(flat, dtype=np.uint8)


def _to_working_width(image: Image) -> Image:
    width = image.shape[1]
    if abs(width - TARGET_WIDTH) < TARGET_WIDTH * 0.1:
        return image
    scale = TARGET_WIDTH / width
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation))


def even_out_lighting(grey: Image) -> Image:
    """Divide by the paper's own brightness, estimated without the ink.

    A dilation removes dark strokes thinner than the kernel; a blur smooths
    the result into the lighting field. Done on a quarter-size copy for speed.
    """
    small = cv2.resize(grey, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    background = cv2.dilate(small, np.ones((7, 7), np.uint8))
    background = cv2.medianBlur(background, 21)
    background = cv2.resize(
        background, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR
    )
    return np.asarray(cv2.divide(grey, background, scale=255), dtype=np.uint8)


def _ink_mask(grey: Image) -> Image:
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return np.asarray(ink, dtype=np.uint8)


def _small_ink(ink: Image) -> Image:
    scale = 600 / max(ink.shape)
    return np.asarray(cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))


def _profile_sharpness(ink: Image, axis: int) -> float:
    """How strongly ink gathers into lines along ``axis`` (variance of the profile)."""
    profile = ink.sum(axis=axis, dtype=np.float64)
    return float(np.var(profile))


def skew_angle(ink: Image) -> float:
    """The rotation (degrees) that makes lines of text horizontal: the angle
    whose row profile is sharpest (text lines separated by white gaps)."""
    small = _small_ink(ink)
    if small.mean() < BLANK_INK_LEVEL:
        return 0.0
    centre = (small.shape[1] / 2, small.shape[0] / 2)
    best_angle, best_score = 0.0, -1.0
    steps = int(DESKEW_RANGE_DEGREES / DESKEW_STEP_DEGREES)
    for step in range(-steps, steps + 1):
        angle = step * DESKEW_STEP_DEGREES
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = np.asarray(
            cv2.warpAffine(small, matrix, (small.shape[1], small.shape[0])), dtype=np.uint8
        )
        score = _profile_sharpness(rotated, axis=1)
        if score > best_score:
            best_angle, best_score = angle, score
    return best_angle


def rotate(image: Image, angle: float, *, border: int | tuple[int, int, int]) -> Image:
    centre = (image.shape[1] / 2, image.shape[0] / 2)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    rotated = cv2.warpAffine(
        image, matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=border,
    )  # fmt: skip
    return np.asarray(rotated, dtype=np.uint8)


def row_runs(rows: np.ndarray, *, gap: int) -> list[tuple[int, int]]:
    """(top, bottom) of the runs of True in ``rows``, runs less than ``gap`` apart joined."""
    runs: list[tuple[int, int]] = []
    for row in np.flatnonzero(rows):
        if runs and row - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], int(row) + 1)
        else:
            runs.append((int(row), int(row) + 1))
    return runs
