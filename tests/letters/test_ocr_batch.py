"""Several crops read in one Tesseract run: each word comes back to its own crop,
placed on the page, and the re-reads decide as they did one run at a time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from keyholder.letters import ocr
from keyholder.letters.document import Box, Line, Word
from keyholder.letters.ocr import Crop, Placement, lines_by_image, read_region, read_regions
from tests.letters.conftest import needs_tesseract
from tests.letters.drawing import load_font

# A word as Tesseract's TSV gives it: on which image, where, what.
_words = st.lists(
    st.tuples(
        st.integers(0, 3),  # image (0-based)
        st.integers(0, 400),  # left
        st.integers(0, 120),  # top
        st.integers(1, 80),  # width
        st.integers(1, 40),  # height
        st.sampled_from(["ENT-2026-1", "dana@acme.example", "Sincerely,", "Oak"]),
    ),
    max_size=12,
)
_placements = st.lists(
    st.builds(
        Placement,
        page=st.integers(1, 3),
        x0=st.integers(0, 2000),
        y0=st.integers(0, 3000),
        scale=st.sampled_from([1.0, 2.0, 3.0]),
    ),
    min_size=4,
    max_size=4,
)


def _tsv(words: list[tuple[int, int, int, int, int, str]]) -> dict[str, list[Any]]:
    """``image_to_data``'s dict for ``words``, each on a line of its own."""
    return {
        "page_num": [image + 1 for image, *_ in words],
        "block_num": [1] * len(words),
        "par_num": [1] * len(words),
        "line_num": list(range(1, len(words) + 1)),
        "left": [w[1] for w in words],
        "top": [w[2] for w in words],
        "width": [w[3] for w in words],
        "height": [w[4] for w in words],
        "text": [w[5] for w in words],
        "conf": [91.0] * len(words),
    }


@given(words=_words, placements=_placements)
@settings(max_examples=100, deadline=None)
def test_each_word_goes_to_its_own_image_placed_on_the_page(
    words: list[tuple[int, int, int, int, int, str]], placements: list[Placement]
) -> None:
    per_image = lines_by_image(_tsv(words), placements)

    assert len(per_image) == len(placements)
    for n, lines in enumerate(per_image):
        p = placements[n]
        mine = [w for w in words if w[0] == n]
        read = [word for line in lines for word in line.words]
        # Joining split lines may make two words one, never move one to another image.
        assert sorted("".join(w.text for w in read)) == sorted("".join(w[5] for w in mine))
        assert all(word.box.page == p.page for word in read)
        if len(mine) == 1:
            _, left, top, width, height, _ = mine[0]
            assert read[0].box == Box(
                p.page, p.x0 + round(left / p.scale), p.y0 + round(top / p.scale),
                round(width / p.scale), round(height / p.scale),
            )  # fmt: skip


def test_words_of_an_image_tesseract_never_numbered_are_dropped() -> None:
    data = _tsv([(0, 10, 10, 20, 10, "kept"), (5, 10, 10, 20, 10, "stray")])

    (lines,) = lines_by_image(data, [Placement(1, 0, 0)])

    assert [line.text for line in lines] == ["kept"]


def _page_with_lines(texts: list[str]) -> tuple[np.ndarray, list[Box]]:
    """A white page with each text on its own line; the boxes round each line."""
    image = Image.new("L", (900, 90 * len(texts) + 60), 255)
    draw = ImageDraw.Draw(image)
    font = load_font("sans", 30)
    boxes = []
    for n, text in enumerate(texts):
        y = 40 + 90 * n
        draw.text((40, y), text, fill=0, font=font)
        left, top, right, bottom = draw.textbbox((40, y), text, font=font)
        boxes.append(Box(1, left - 10, top - 12, right - left + 20, bottom - top + 24))
    return np.asarray(image, dtype=np.uint8), boxes


@needs_tesseract
def test_regions_read_in_one_run_read_as_each_alone() -> None:
    texts = ["Contract ENT-2026-004512", "dana.reyes@northwind.example", "Oakland 94612"]
    page, boxes = _page_with_lines(texts)
    off_page = Box(1, 5000, 5000, 100, 40)

    regions = [boxes[0], off_page, boxes[1], boxes[2]]

    together = read_regions(page, regions, config=ocr.REREAD_CONFIG, scale=2.0, one_line=True)

    alone = [
        read_region(page, b, config=ocr.REREAD_CONFIG, scale=2.0, one_line=True) for b in boxes
    ]
    assert together[1] == []
    assert [together[0], together[2], together[3]] == alone
    assert [" ".join(line.text for line in lines) for lines in alone] == texts
    for lines, box in zip(alone, boxes, strict=True):
        for word in (w for line in lines for w in line.words):
            assert box.y <= word.box.y + word.box.height // 2 <= box.bottom  # on its own line


def _line(text: str, confidence: float = 60.0, y: int = 100) -> Line:
    return Line((Word(text, Box(1, 50, y, 10 * len(text), 30), confidence),))


class TestRereadsInOneRun:
    """``reread_doubtful_lines`` reads every way in one run, and then takes the
    ways in turn: a later way counts only where the earlier ones disagreed."""

    def test_a_way_after_two_readings_agree_is_not_counted(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        first = _line("dana@acme.example", y=100)
        other = _line("ENT-2O26-1", y=300)
        # The first line's first re-read agrees with it: the later ways, which
        # agree with each other more surely, must not count. The second line's
        # first two re-reads disagree; the third agrees with the second.
        answers = {
            (2.0, True): [("dana@acme.example", 95.0), ("ENT-2026-7", 95.0)],
            (2.0, False): [("dana@acrne.example", 99.0), ("ENT-2026-1", 90.0)],
            (3.0, True): [("dana@acrne.example", 98.0), ("ENT-2026-1", 93.0)],
        }
        calls = []

        def fake_read_crops(crops: list[Crop | None], **_: object) -> list[list[Line]]:
            calls.append(len(crops))
            read = [answer for way in ocr.REREADS for answer in answers[way]]
            return [[_line(text, conf)] for text, conf in read]

        monkeypatch.setattr(ocr, "read_crops", fake_read_crops)
        page = np.full((600, 800), 255, dtype=np.uint8)

        result = ocr.reread_doubtful_lines(page, [first, _line("Dear Sir,", 99.0), other], 1)

        assert calls == [6]  # one run: two lines, three ways
        assert [line.text for line in result] == [
            "dana@acme.example",
            "Dear Sir,",  # confident, no digits: not read again
            "ENT-2026-1",
        ]
        assert result[0].confidence == 95.0  # the first re-read, not the later ways
        assert result[2].confidence == 93.0  # of the two that agree, the surer

    def test_a_confident_line_is_not_read_again(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def fail(*_: object, **__: object) -> list[list[Line]]:
            raise AssertionError("no run expected")

        monkeypatch.setattr(ocr, "read_crops", fail)
        lines = [_line("ENT-2026-1", 96.0)]

        assert ocr.reread_doubtful_lines(np.full((300, 300), 255, np.uint8), lines, 1) == lines


def _memo_with_sidebar() -> np.ndarray:
    """A page of body text under a dark letterhead band and a two-word bold heading:
    both hold more ink a row than the text."""
    image = Image.new("L", (1400, 1800), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1400, 160), fill=60)  # the letterhead's band
    draw.text((80, 200), "WIDE WORLD", fill=0, font=load_font("sans", 90, bold=True))
    body = load_font("serif", 30)
    sentences = [
        "On behalf of Wide World Importers I request that a new administrator",
        "be added to our enterprise account, contract ENT-2022-027118, because",
        "our IT manager retired and nobody else was ever given admin rights.",
        "Please contact me directly if you need anything further to verify this.",
    ]
    for n, text in enumerate(sentences * 3):
        draw.text((80, 420 + 48 * n), text, fill=0, font=body)
    return np.asarray(image, dtype=np.uint8)


def test_text_bands_leave_out_solid_blocks() -> None:
    page = _memo_with_sidebar()

    bands = ocr._densest_text_bands(page)

    assert len(bands) == ocr.TEXT_BANDS
    for band in bands:  # body text: no row of the letterhead's band in it
        assert (band < 128).mean(axis=1).max() < 0.9


@needs_tesseract
@pytest.mark.parametrize("turns", [1, 3])
def test_a_sideways_page_with_a_letterhead_band_is_turned_upright(turns: int) -> None:
    sideways = np.ascontiguousarray(np.rot90(_memo_with_sidebar(), turns))

    back = ocr.best_quarter_turns(sideways, candidates=(0, 1, 2, 3))

    assert (turns + back) % 4 == 0
