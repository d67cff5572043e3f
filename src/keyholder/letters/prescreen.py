"""The pre-screen pipeline: load, clean up, read, find the items, check, report."""

from __future__ import annotations

import re
import time
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from keyholder.config import Settings
from keyholder.letters.checks import (
    AccountRecords,
    Status,
    TypedFields,
    run_checks,
    unreadable_checks,
)
from keyholder.letters.clean import TURNED_SIDEWAYS, clean_page, row_runs
from keyholder.letters.document import Box, Line, Page, TextSource
from keyholder.letters.fields import LetterFields, extract_fields
from keyholder.letters.load import Limits, load_pages, sniff
from keyholder.letters.name_row import (
    Ready,
    read_name_above_title,
    ready_for_ocr,
    reread_tall_name,
)
from keyholder.letters.ocr import (
    BAND_CONFIG,
    DOUBTFUL_CONFIDENCE,
    REREAD_CONFIG,
    OcrFailed,
    OcrUnavailable,
    best_quarter_turns,
    read_region,
    read_regions,
    read_words,
    reading_quality,
    reread_doubtful_lines,
)
from keyholder.letters.pen_ink import read_name_without_pen
from keyholder.letters.reconcile import reconcile_emails
from keyholder.letters.report import SCHEMA, LetterReport, annotate
from keyholder.letters.signature import find_signature
from keyholder.letters.signature_finding import SignatureFinding

OCR_TIMEOUT_SECONDS = 30
# Ink on a page made ready for OCR (paper is 255), and how many dark pixels make
# a row count as inked: a few, so that noise the clean-up left does not.
INK_LEVEL = 128
MIN_INK_PER_ROW = 3
# A line worth adding holds a word of three letters read with this confidence:
# scribbles and a letterhead's small print read as "WwW" or "RJREEEPE" below it.
_READABLE = re.compile(r"[A-Za-z]{3,}")
READABLE_CONFIDENCE = 70.0
_ADDRESS = re.compile(r"[A-Za-z0-9]{2,} ?@ ?[A-Za-z0-9-]{2,} ?\.[A-Za-z]{2,}")
READABLE_ADDRESS_CONFIDENCE = 40.0
# A page read in fewer words than this is read again as sparse text (psm 11).
FEW_WORDS = 3
SPARSE_CONFIG = "--oem 1 --psm 11 -c tessedit_do_invert=0"
# A line this many times the page's median line height may be two read as one.
TALL_LINE = 1.6


def limits_from(settings: Settings | None) -> Limits:
    if settings is None:
        return Limits()
    return Limits(
        max_bytes=settings.letters_max_bytes,
        max_pixels=settings.letters_max_pixels,
        max_pages=settings.letters_max_pages,
    )


def prescreen_letter(
    data: bytes,
    *,
    typed: TypedFields | None = None,
    records: AccountRecords | None = None,
    settings: Settings | None = None,
    today: date | None = None,
    filename: str | None = None,
    annotated: bool = False,
) -> LetterReport:
    """Pre-screen the letter in ``data`` in this process (see ``sandbox`` for the safe way).

    Raises UnsupportedMediaType, PayloadTooLarge or InvalidInput for files it
    will not read; everything else ends up in the report, including a missing
    OCR engine (every check ``unknown``).
    """
    started = time.perf_counter()
    typed = typed or TypedFields()
    today = today or datetime.now(UTC).date()
    max_age_days = settings.letters_max_age_days if settings else 30
    media_type = sniff(data, filename)
    pages = load_pages(data, limits=limits_from(settings), filename=filename)
    ocr_problem = None
    for page in pages:
        if page.text_source is TextSource.TEXT_LAYER:
            continue
        try:
            read_page(page)
        except OcrFailed as exc:
            ocr_problem = f"OCR failed on page {page.number}: {exc}"
            break
        except OcrUnavailable as exc:
            ocr_problem = f"OCR unavailable: {exc}"
            break
    fields = extract_fields(pages) if ocr_problem is None else LetterFields()
    if ocr_problem is None:
        try:
            fields = read_signature_block_again(pages, fields)
        except OcrUnavailable as exc:
            # A second reading that fails (Tesseract crashed on a crop) loses only
            # what it would have added: the first reading stands, and says so.
            pages[0].notes.append(f"a second reading failed ({exc}); the first reading is used")
        reconcile_emails(pages, fields, typed=typed, records=records)
    signature = (
        find_signature(pages, fields)
        if ocr_problem is None
        else SignatureFinding(None, evidence=f"the letter was not read: {ocr_problem}")
    )
    if ocr_problem is None:
        read_by_ocr = any(page.text_source is TextSource.OCR for page in pages)
        checks = run_checks(fields, signature, typed=typed, records=records, today=today,
                            max_age_days=max_age_days, read_by_ocr=read_by_ocr)  # fmt: skip
    else:
        checks = unreadable_checks(ocr_problem)
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "media_type": media_type.value,
        "pages": [
            {"page": p.number, "text_source": p.text_source.value, "notes": p.notes} for p in pages
        ],
        "ocr": "unavailable" if ocr_problem else "available",
        "items": {
            name: found.as_json() if found else None for name, found in fields.items().items()
        },
        "checks": [check.as_json() for check in checks],
        "signature": signature.as_json(),
        "summary": {status.value: sum(c.status is status for c in checks) for status in Status},
        "typed": asdict(typed),
        "records": asdict(records) if records else None,
        "today": today.isoformat(),
    }
    png = annotate(pages, report) if annotated else None
    report["seconds"] = round(time.perf_counter() - started, 3)
    return LetterReport(report, png)


def read_signature_block_again(pages: list[Page], fields: LetterFields) -> LetterFields:
    """The letter's fields after reading the signature block again where OCR made
    little of it; the block is found from the closing or, with no closing read,
    from the typed name up (the signature's loops mangle the closing, issue 14)."""
    closing = fields.closing
    ready: Ready = {}  # each page made ready for OCR once, for all the re-reads
    # Tesseract sometimes reads two typed lines under the signature as one tall
    # line of nonsense (a script-font "signature" above them seems to set it
    # off), or skips the typed name under a big signature: those lines are
    # read apart, then the ink no line covers.
    anchor = closing or _line_above(pages, fields.name_line)
    if anchor is not None and _signature_block_doubtful(fields):
        page = pages[anchor.box.page - 1]
        if read_tall_lines(page, below=anchor, ready=ready):
            fields = extract_fields(pages)
        if closing and _signature_block_doubtful(fields) and read_skipped_ink(page, ready=ready):
            fields = extract_fields(pages)
    # Its layout analysis also takes a big signature and the lines under it for
    # a picture and skips them: then that block is read alone.
    if (
        closing
        and not fields.name_line
        and read_under_closing(pages[closing.box.page - 1], closing, ready=ready)
    ):
        fields = extract_fields(pages)
    # It can also skip the closing with the signature under it, and with no
    # closing the typed name, title and email are not looked for: then every
    # band of ink no line covers is read (a few bands, only on such letters).
    if not closing:
        skipped = [
            read_skipped_ink(page, ready=ready) for page in pages
        ]  # every page, no short cut
        if any(skipped):
            fields = extract_fields(pages)
    elif any(getattr(fields, item) is None for item in BODY_ITEMS):
        # Tesseract's layout can also skip a row of a form or a table in the body
        # (the account's row beside a boxed value): with an item of the body
        # missing, the ink no line covers above the closing is read.
        page = pages[closing.box.page - 1]
        if read_skipped_ink(page, ready=ready, above=closing.box.y):
            fields = extract_fields(pages)
    # A title (or the address) under the closing with no name above it: the
    # signature's strokes crossed the typed name, or OCR read it into another
    # line; the row just above the title is read alone.
    # With no closing read, the title is looked for among the last page's last lines.
    if fields.executive_name is None:
        page = pages[fields.closing.box.page - 1] if fields.closing else pages[-1]
        if read_name_above_title(page, fields.closing, ready=ready):
            fields = extract_fields(pages)
    # A signature in coloured ink over the typed name: read without the ink.
    fields = read_name_without_pen(pages, fields)
    # A name read as a line taller than print (the signature read into it): its
    # row read alone.
    if reread_tall_name(pages, fields, ready=ready):
        fields = extract_fields(pages)
    return fields


def _line_above(pages: list[Page], line: Line | None) -> Line | None:
    """The line read just above ``line`` on its page (the block's re-reads start
    below it), or None."""
    if line is None:
        return None
    above = [o for o in pages[line.box.page - 1].lines if o.box.bottom <= line.box.y + 2]
    return max(above, key=lambda o: o.box.y, default=None)


def read_under_closing(page: Page, closing: Line, *, ready: Ready | None = None) -> bool:
    """Read the block under the closing again as one uniform block of text; True
    when lines were found (they replace whatever OCR found there before)."""
    if page.text_source is not TextSource.OCR:
        return False
    height = closing.box.height
    region = Box(page.number, 0, closing.box.bottom + 1, page.width, 14 * height)
    grey = ready_for_ocr(page, ready)
    lines = read_region(grey, region, config=BAND_CONFIG, timeout=OCR_TIMEOUT_SECONDS)
    if not lines:
        return False
    above = [line for line in page.lines if line.box.bottom <= closing.box.bottom]
    below = [line for line in page.lines if line.box.y > region.bottom]
    page.lines = [*above, *lines, *below]
    return True


def read_skipped_ink(page: Page, *, ready: Ready | None = None, above: int | None = None) -> bool:
    """Read each band of ink rows that no line read covers (``above``: only over
    that row of pixels), as one block of text; True when lines were found there
    (added to the page's lines).

    Only the columns the lines read span count: a photo's flattened edges can
    keep a strip of desk, which would make every row look inked.
    """
    if page.text_source is not TextSource.OCR or not page.lines:
        return False
    grey = ready_for_ocr(page, ready)
    line_height = int(np.median([line.box.height for line in page.lines]))
    left = max(0, min(line.box.x for line in page.lines) - line_height)
    right = min(page.width, max(line.box.right for line in page.lines) + line_height)
    inked = (grey[:, left:right] < INK_LEVEL).sum(axis=1) >= MIN_INK_PER_ROW
    for line in page.lines:
        inked[max(0, line.box.y - 2) : line.box.bottom + 2] = False
    if above is not None:
        inked[max(0, above - line_height // 2) :] = False
    pad = line_height // 2
    regions = [
        Box(page.number, left, top - pad, right - left, bottom - top + 2 * pad)
        for top, bottom in row_runs(inked, gap=line_height // 2)
        # A short line's rows with a few dark pixels are about its x-height, a
        # third to a half of the boxes Tesseract draws; thinner runs are specks,
        # rules or the edge of a line already read.
        if bottom - top >= line_height // 4
    ]
    # Each band is read alone, all in one Tesseract run.
    read = read_regions(grey, regions, config=BAND_CONFIG, timeout=OCR_TIMEOUT_SECONDS)
    # The padding takes in a sliver of the lines around: read already.
    added = [
        line
        for lines in read
        for line in lines
        if _readable(line) and not _overlaps_any(line, page.lines)
    ]
    if not added:
        return False
    page.lines = sorted([*page.lines, *added], key=lambda line: (line.box.y, line.box.x))
    return True


# The items of the letter's body (above the closing).
BODY_ITEMS = ("account_name", "contract_number", "email_to_add", "reason", "date")


def read_tall_lines(page: Page, *, below: Line, ready: Ready | None = None) -> bool:
    """Split each doubtful line under ``below`` that is as tall as two into its rows
    of text and read those one by one; True when one was replaced."""
    if page.text_source is not TextSource.OCR or not page.lines:
        return False
    line_height = int(np.median([line.box.height for line in page.lines]))
    grey = ready_for_ocr(page, ready)
    replaced = False
    lines: list[Line] = []
    for line in page.lines:
        box = line.box
        if box.y <= below.box.y or box.height < TALL_LINE * line_height:
            lines.append(line)
            continue
        if line.confidence >= READABLE_CONFIDENCE:
            lines.append(line)
            continue
        crop = grey[box.y : box.bottom, box.x : box.right]
        inked = (crop < INK_LEVEL).sum(axis=1) >= MIN_INK_PER_ROW
        pad = line_height // 4
        regions = [
            Box(page.number, box.x - pad, box.y + top - pad, box.width + 2 * pad,
                bottom - top + 2 * pad)
            for top, bottom in row_runs(inked, gap=2)
            if bottom - top >= line_height // 3
        ]  # fmt: skip
        # Each row alone, all in one Tesseract run.
        read = read_regions(grey, regions, config=REREAD_CONFIG, timeout=OCR_TIMEOUT_SECONDS)
        again = [part for lines_read in read for part in lines_read]
        readable = [part for part in again if _readable(part)]
        if len(again) > 1 and readable:  # a scribble's rows read as nothing: left out
            lines += readable
            replaced = True
        else:
            lines.append(line)
    page.lines = lines
    return replaced


def _signature_block_doubtful(fields: LetterFields) -> bool:
    name = fields.name_line
    return name is None or name.confidence < READABLE_CONFIDENCE or fields.executive_email is None


def _readable(line: Line) -> bool:
    """A line with a word read with confidence, or an address (which OCR reads
    less surely than words: its dots and "@"); a scribble is neither."""
    if _ADDRESS.search(line.text) and line.confidence >= READABLE_ADDRESS_CONFIDENCE:
        return True
    return any(
        _READABLE.search(word.text) and word.confidence >= READABLE_CONFIDENCE
        for word in line.words
    )


def _overlaps_any(line: Line, lines: list[Line]) -> bool:
    middle = line.box.y + line.box.height // 2
    return any(other.box.y <= middle <= other.box.bottom for other in lines)


def read_page(page: Page) -> None:
    """Clean up a scanned or photographed page and OCR it, in place.

    A page that clean-up turned by 90 degrees may have been turned either way,
    or turned when it was upright, so it is read every way round first. Any
    page that reads badly is tried the four ways round (a short page gives
    clean-up too few lines to see their direction), then read again.
    """
    cleaned = clean_page(page.image)
    turned_by_cleanup = TURNED_SIDEWAYS in cleaned.notes
    page.notes.extend(note for note in cleaned.notes if note != TURNED_SIDEWAYS)
    image, for_ocr = cleaned.image, cleaned.for_ocr
    lines: list[Line] = []
    if turned_by_cleanup:
        # Clean-up can also turn an upright page with little text on it (the
        # signature's strokes outweigh its few lines): every way round is read.
        # Its turn is undone unless another way round reads clearly better.
        turns = best_quarter_turns(
            for_ocr, candidates=(0, 1, 2, 3), timeout=OCR_TIMEOUT_SECONDS, stay=1
        )
    else:
        lines = read_words(for_ocr, page.number, timeout=OCR_TIMEOUT_SECONDS)
        turns = 0
        if reading_quality(lines, minimum_words=3) < DOUBTFUL_CONFIDENCE:
            turns = best_quarter_turns(
                for_ocr, candidates=(0, 1, 2, 3), timeout=OCR_TIMEOUT_SECONDS
            )
    if turns:
        image = np.ascontiguousarray(np.rot90(image, turns))
        for_ocr = np.ascontiguousarray(np.rot90(for_ocr, turns))
        lines = []
    # Clean-up's turn is a quarter turn clockwise (np.rot90 by -1).
    net = (turns - 1 if turned_by_cleanup else turns) % 4
    if net:
        page.notes.append(f"turned the page by {180 if net == 2 else 90} degrees")
    if not lines:
        lines = read_words(for_ocr, page.number, timeout=OCR_TIMEOUT_SECONDS)
    if sum(len(line.words) for line in lines) < FEW_WORDS:
        # Tesseract's page layout can find no text at all on a page with a few
        # lines in a corner (a last page holding the signature); read as sparse text.
        sparse = read_words(for_ocr, page.number, timeout=OCR_TIMEOUT_SECONDS, config=SPARSE_CONFIG)
        if sum(len(line.words) for line in sparse) > sum(len(line.words) for line in lines):
            lines = sparse
    page.image = image
    page.lines = reread_doubtful_lines(for_ocr, lines, page.number, timeout=OCR_TIMEOUT_SECONDS)
    page.text_source = TextSource.OCR
