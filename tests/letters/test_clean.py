"""Finding the sheet of paper in a phone photo (synthetic photos drawn here)."""

from __future__ import annotations

from io import BytesIO

import cv2
import numpy as np
import pytest
from PIL import Image as PilImage
from PIL import ImageDraw

from keyholder.letters.clean import (
    CleanedPage,
    _is_turned_sideways,
    clean_page,
    find_page_quadrilateral,
)
from keyholder.letters.ocr import read_words
from tests.letters import drawing, generated
from tests.letters.conftest import needs_tesseract

PAGE_W, PAGE_H = 620, 860
CORNERS = np.array([[190, 150], [830, 120], [870, 1060], [150, 1090]], dtype=np.float32)


def page(*, header: bool) -> np.ndarray:
    """A letter: lines of dark 'text', and (``header``) a dark letterhead band."""
    sheet = np.full((PAGE_H, PAGE_W, 3), 236, np.uint8)
    if header:
        sheet[:110] = (40, 45, 110)
    for row in range(180, 760, 34):
        cv2.rectangle(sheet, (70, row), (70 + (row * 7) % 380 + 150, row + 12), (30, 30, 30), -1)
    return sheet


def photo(sheet: np.ndarray, *, shadow: bool, desk: tuple[int, int, int]) -> np.ndarray:
    """``sheet`` in perspective on a desk, a phone's soft shadow over part of it."""
    source = np.array([[0, 0], [PAGE_W, 0], [PAGE_W, PAGE_H], [0, PAGE_H]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(source, CORNERS)
    picture = np.empty((1200, 1000, 3), np.uint8)
    picture[:] = desk
    cv2.warpPerspective(sheet, matrix, (1000, 1200), dst=picture, borderMode=cv2.BORDER_TRANSPARENT)
    light = np.ones(picture.shape[:2], np.float32)
    if shadow:
        blob = np.zeros_like(light)
        cv2.ellipse(blob, (1000, 700), (520, 380), 20, 0, 360, 1.0, -1)
        light -= 0.5 * cv2.GaussianBlur(blob, (0, 0), 45)
    lit = picture.astype(np.float32) * light[..., None]
    noise = np.random.default_rng(3).normal(0, 3, lit.shape)
    return np.clip(lit + noise, 0, 255).astype(np.uint8)


class TestFindPage:
    # Issue 14: a phone's shadow split the bright page from its shaded part, and a
    # letterhead's dark band read as desk: the page went unflattened or was cut.
    @pytest.mark.parametrize(("shadow", "header"), [(True, False), (False, True), (True, True)])
    def test_the_whole_sheet_is_found_under_a_shadow_or_a_dark_letterhead(
        self, shadow: bool, header: bool
    ) -> None:
        picture = photo(page(header=header), shadow=shadow, desk=(95, 105, 45))

        corners = find_page_quadrilateral(picture)

        assert corners is not None
        assert np.abs(corners - CORNERS).max() < 15

    def test_a_scan_is_all_paper_and_has_no_sheet_to_find(self) -> None:
        scan = np.full((1200, 860, 3), 240, np.uint8)
        scan[170:1030, 120:740] = page(header=False)[:, :]

        assert find_page_quadrilateral(scan) is None


def test_a_scanned_sheet_on_a_grey_bed_is_not_cut_to_a_strip() -> None:
    # fpdf 5201 letter 19, scanned: the bed's grey edges and the text's outline made
    # a three-cornered "sheet"; the page was cut to a blank strip and nothing on it
    # was read (issue 14).
    data, _ = generated.letter_file("fpdf", 5201, 19, "scan")
    scan = np.asarray(PilImage.open(BytesIO(data)).convert("RGB"))

    cleaned = clean_page(scan)

    height, width = cleaned.image.shape[:2]
    assert height / width == pytest.approx(scan.shape[0] / scan.shape[1], rel=0.05)


@pytest.mark.parametrize("edge", [1, 3])
def test_a_dark_edge_down_one_side_does_not_make_an_upright_scan_sideways(edge: int) -> None:
    # The scanner glass's edge: a thin dark column the whole page long (issue 14:
    # a scan judged sideways, then straightened by 8 degrees the wrong way round).
    image = PilImage.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(image)
    font = drawing.load_font("sans", 24)
    for row in range(8):
        draw.text((120, 300 + 45 * row), "We would like to ask for a new administrator.",
                  fill="black", font=font)  # fmt: skip
    scan = np.asarray(image).copy()
    scan[:, -edge:] = 30

    assert not _is_turned_sideways(scan)


@needs_tesseract
def test_an_address_running_past_its_table_s_side_is_read_whole() -> None:
    # A table's right side crossing the address between "examp" and "le": Tesseract
    # ended the line at the rule and the address was read "...@tailspintoys.examp"
    # (Pillow letters, issue 14).
    image = PilImage.new("RGB", (1650, 400), "white")
    draw = ImageDraw.Draw(image)
    font = drawing.load_font("sans", 30)
    draw.text((80, 200), "Email to add as administrator", fill="black", font=font)
    draw.text((620, 200), "oluwaseun_raghunathan@tailspintoys.example", fill="black", font=font)
    side = 620 + draw.textlength("oluwaseun_raghunathan@tailspintoys.examp", font=font) + 2
    draw.rectangle((50, 60, side, 300), outline=(140, 140, 140), width=2)
    page = np.asarray(image)

    cleaned = CleanedPage(page, cv2.cvtColor(page, cv2.COLOR_RGB2GRAY))
    lines = read_words(cleaned.for_ocr, 1, timeout=60)

    assert any("tailspintoys.example" in line.text for line in lines), [x.text for x in lines]
