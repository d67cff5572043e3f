"""Is there handwriting where the signature belongs? Presence, never authenticity.

The signature band lies between the closing ("Sincerely,") and the typed name
under it. In that band printed words (OCR'd with confidence, or the PDF's text
layer) and ruled lines are removed, and so are marks that are drawn rather than
written: solid blocks (logos), rings and arcs of rings (seals), frames (stamps)
and straight rules. The ink left is measured, from its long strokes only:
handwriting leaves wide, tall, connected strokes, while an empty band leaves
specks and printed lettering leaves letter-sized marks. Ink that OCR reads as
the typed name is a name set in a script font, not handwriting: flagged.
Ink is judged against the paper around it (``ink.ink_mask``), so thin, faint and
blurred pen strokes stay strokes; a stroke a photo broke into pieces is joined
again where the pieces' ends point at each other (``broken_strokes``), and the
pieces near a long stroke are judged with it. A signature the band shows only
the edge of is measured again with the closing's or the typed name's row taken in,
or down over the title. "No ink where the signature belongs" is only said of a band
with nothing ink-like left in it, nor under the typed name; faint or ambiguous
marks are "unclear". Thresholds were calibrated on the reportlab, Pillow and fpdf
letters of benchmarks/corpora, never on its held-out generator.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import cv2
import numpy as np

from keyholder.letters.band import (
    band_line_height,
    down_to_the_title,
    signature_band,
    surroundings,
)
from keyholder.letters.band_marks import (
    bold_lettering,
    clear_of_drawn,
    ink_beside_level_rules,
    largest_beside_level_rules,
    min_mark_area,
    near_marks,
    printed_row,
    straight_bar,
    stroke_score,
    touching_edges,
    written_initials,
)
from keyholder.letters.broken_strokes import join_broken
from keyholder.letters.clean import TWO_TONE
from keyholder.letters.document import Box, Image, Page, TextSource
from keyholder.letters.drawn_marks import Drawn, strokes
from keyholder.letters.found import LetterFields
from keyholder.letters.ink import closed, darkness, faint_level, ink_colour, ink_mask
from keyholder.letters.printed_words import (
    mask_printed_words,
    overlaps,
    reads_as_the_name,
)
from keyholder.letters.signature_finding import SignatureFinding, SignatureLevel

# Thresholds on the ink score (see ``_score``). With ink judged against the paper
# (issue 14), stamps', seals' and logos' lettering joins up more: on reportlab
# letters (seed 501, photometric scan and photo damage) and on bands drawn with
# the corpora's stamps, seals and logos, clutter alone scored up to ~1.0 and
# mostly under 0.85; a signature scoring under SIGNATURE_SCORE is "unclear", never
# "no ink". Faint strokes alone (no STRONG_INK) scoring UNCERTAIN_SCORE are unclear.
SIGNATURE_SCORE = 0.9
UNCERTAIN_SCORE = 0.4
# Ink left in the band once printed words and shapes are erased, in line heights
# squared, below which the band counts as empty: "no ink where the signature
# belongs" is only said of a band with less (the dot of an "i" is about 0.02).
EMPTY_BAND = 0.05
FAINT_SPECK = 4
# A closing or typed name read as a line this many line heights high or more holds
# more than print: a signature written over it, which OCR took into the line.
TALL_LINE = 1.6
# A signature has one stroke at least LETTER_SIZED line heights long; a stamp's
# capitals, fused by grainy ink, measured up to 1.7 (pillow letters, seed 1401).
LETTER_SIZED = 2.0
# A band that ink runs out of is measured again with the closing's or the typed
# name's row taken in; what that finds counts only with a stroke PEN_SIZED line
# heights wide and high, larger than any stamp letter or seal's ring piece that
# reached into those rows on synthetic photos (up to 3.5 x 4.6).
PEN_SIZED = (4.0, 2.0)
# A band with no ink is looked under too, this many line heights below the typed
# name: a signature written under the name, over the title, is still a signature.
BELOW_NAME = 4
# ... and a mark there larger than a printed letter's (after every word read is
# blanked; synthetic photos' print left specks up to 0.06) is ink-like.
SIGNED_BELOW_MARK = 0.2
# ... and a pen-sized stroke there, reaching up to ACROSS_THE_TITLE line heights
# under the typed name (into the title's row or over it), is the signature even in
# an empty band.
ACROSS_THE_TITLE = 1.5


def find_signature(pages: list[Page], fields: LetterFields) -> SignatureFinding:
    anchor = fields.closing or fields.name_line
    if anchor is None:
        return SignatureFinding(
            None, evidence="no closing line or typed name found: the signature band is unknown"
        )
    page = pages[anchor.box.page - 1]
    line_height = band_line_height(page)
    band = signature_band(page, fields, line_height)
    finding = _measure_ink(page, band, line_height, fields)
    closing, name = fields.closing, fields.name_line
    finding = _into_the_lines(page, band, line_height, fields, finding)
    finding = _down_over_the_title(page, band, line_height, fields, finding)
    finding = _down_to_the_title(page, band, line_height, fields, finding)
    if finding.level is SignatureLevel.NONE and (
        closing is None or name is None or closing.box.page != name.box.page
    ):
        # Without both its edges the band is a guess: on a page read sideways a
        # "closing" in the garble put it over bare margin, and a signed letter was
        # told "no ink" (issue 14). Only a band between closing and name is empty.
        finding.level = SignatureLevel.UNCERTAIN
        finding.evidence += (
            f"; but the {'typed name' if name is None else 'closing'} that bounds the "
            "signature's place was not found, so the place is a guess"
        )
    tall = [
        label
        for label, line in (("closing", closing), ("typed name", name))
        if line is not None and line.box.height > TALL_LINE * line_height
    ]
    if finding.level is SignatureLevel.NONE and tall:
        # OCR took a signature written over the line into the line's box, and the
        # band stops at that box: a signed letter was told "no ink" (issue 14).
        finding.level = SignatureLevel.UNCERTAIN
        finding.evidence += (
            f"; but the {' and the '.join(tall)} {'is' if len(tall) == 1 else 'are'} "
            "taller than a line of print: ink written over it?"
        )
    if finding.level is SignatureLevel.NONE and TWO_TONE in page.notes:
        # A fax's threshold drops a thin ballpoint line whole (issue 14: four signed
        # faxes of the development corpora were told "no ink").
        finding.level = SignatureLevel.UNCERTAIN
        finding.evidence += "; but the page is black and white only, which loses faint strokes"
    if fields.typed_signature is not None and not finding.flags:
        # Usually reported already as typed text in the band; said once.
        finding.flags.append(f"typed signature {fields.typed_signature.text!r}")
    return finding


def _into_the_lines(
    page: Page, band: Box, line_height: int, fields: LetterFields, finding: SignatureFinding
) -> SignatureFinding:
    """A signature written into the closing or the typed name, that the band shows
    only the foot or the head of: the band measured again with that line's row
    taken in (its printed words blanked), kept only if that finds a pen-sized
    stroke and no seal or stamp (issue 14: signatures over the closing on photos),
    or, with no drawn mark erased there or in the band, any signature-like ink.
    Where the band held a seal, only signature-like ink clear of it (no drawn mark
    erased within ``band_marks.CLEAR_OF_DRAWN`` of the strokes). Not where a stamp's
    frame lies beside strokes too printed to be a pen's (its lettering, what is
    left of its sides): taken in with the line,
    the rest of the frame, joined to the line's letters, was scored as a pen's stroke
    (fpdf 5201 letter 6, a stamp on a scan). A felt tip's straight stem erased as a
    frame's side leaves no such strokes beside it (band harness, seed 910, band 36)."""
    if (
        finding.level is not SignatureLevel.UNCERTAIN
        or not finding.reaches
        or (finding.drawn is Drawn.FRAME and finding.ink_box is not None)
    ):
        return finding
    closing, name = fields.closing, fields.name_line
    top, bottom = band.y, band.bottom
    if "top" in finding.reaches and closing is not None and closing.box.page == band.page:
        top = min(top, closing.box.y)
    if "bottom" in finding.reaches and name is not None and name.box.page == band.page:
        bottom = max(bottom, name.box.bottom)
    if (top, bottom) == (band.y, band.bottom):
        return finding
    wider = Box(band.page, band.x, top, band.width, bottom - top)
    again = _measure_ink(page, wider, line_height, fields)
    if finding.drawn is Drawn.BLANKED:
        # Taking in the line can take in the rest of a seal or stamp the band cut;
        # what is left beside a blanked seal is the seal's as often as a pen's. Not
        # strokes clear of it (Pillow 5502 letter 1: a seal at the band's far end).
        return again if again.level is SignatureLevel.INK and again.clear else finding
    if again.level is SignatureLevel.INK and again.drawn is not Drawn.BLANKED and again.pen_sized:
        return again
    # Small initials written over the closing are smaller than a pen-sized stroke;
    # with no drawn mark in the band or the rows taken in, there is no stamp or seal
    # they could be the rest of (Pillow 5402 letter 34: 5.1 x 3.1 line heights).
    if again.level is SignatureLevel.INK and finding.drawn is None and again.drawn is None:
        return again
    return finding


def _down_over_the_title(
    page: Page, band: Box, line_height: int, fields: LetterFields, finding: SignatureFinding
) -> SignatureFinding:
    """A signature written across the typed name and on over the title, that the band
    shows the head of or nothing: measured again from the band's top to BELOW_NAME
    line heights under the name, every word read with confidence and every item read
    there blanked (issue 14: fpdf signatures on synthetic bands told "no ink" and
    "unclear", stops 31 and 32). What that finds is judged in ``_under_the_name``."""
    name = fields.name_line
    # The head of a signature in the band, found only as initials: the whole, under
    # it, is reported if it is signature-like (issue 14: a ballpoint "A" whose apex
    # alone reached the band, stop 35).
    head = finding.level is SignatureLevel.INK and finding.initials and "bottom" in finding.reaches
    if (
        (finding.level not in (SignatureLevel.UNCERTAIN, SignatureLevel.NONE) and not head)
        or (
            finding.level is SignatureLevel.UNCERTAIN
            and finding.drawn is not None
            and not _sealed(finding)
        )
        or name is None
        or name.box.page != band.page
    ):
        return finding
    bottom = min(page.height, name.box.bottom + BELOW_NAME * line_height)
    taller = Box(band.page, band.x, band.y, band.width, bottom - band.y)
    again = _measure_ink(page, taller, line_height, fields, every_word=True)
    return _under_the_name(finding, again, band, name.box, line_height, head=head)


def _down_to_the_title(
    page: Page, band: Box, line_height: int, fields: LetterFields, finding: SignatureFinding
) -> SignatureFinding:
    """With no typed name read and no signature-like ink in the band, the band taken
    down to the title under the closing (``band.down_to_the_title``); kept if that
    finds a pen-sized stroke and no seal or stamp was blanked (fpdf 5701 letter 14,
    scan: a flourish across the name hid it from OCR). Only then: taken down, the
    band holds the typed name's row too, and a label beside it read as typed text
    where the signature belongs (fpdf 5801 letter 9, scan)."""
    lower = down_to_the_title(band, fields, line_height)
    if finding.level is SignatureLevel.INK or lower is None:
        return finding
    again = _measure_ink(page, lower, line_height, fields)
    if again.level is SignatureLevel.INK and again.drawn is not Drawn.BLANKED and again.pen_sized:
        return again
    return finding


def _sealed(finding: SignatureFinding) -> bool:
    """Nothing in the band but a seal or a stamp, blanked whole."""
    return (
        finding.level is SignatureLevel.UNCERTAIN
        and finding.drawn is Drawn.BLANKED
        and finding.ink_box is None
    )


def _under_the_name(
    finding: SignatureFinding,
    again: SignatureFinding,
    band: Box,
    name: Box,
    line_height: int,
    *,
    head: bool,
) -> SignatureFinding:
    """The band's finding, judged again with the taller region's (``again``), which
    is reported in the band, the signature's place, with the band's flags: in the
    taller region the title is no typed text in the band, and the typed name inside
    the ink's box is no script font (both were flagged).

    - Ink in the band, no seal or stamp in it, and signature-like ink with no drawn
      marks in the taller region: the signature.
    - A seal or stamp alone in the band, blanked again in the taller region, and a
      pen-sized stroke beside it across the typed name or the title: the signature
      (issue 14: fpdf signatures beside seals on scans, stop 37). A seal that runs
      on under the band and is not seen there as one is itself a tall, long stroke
      (a corpora seal on a photo, 802-189): it must be blanked again.
    - An empty band over a pen-sized stroke across the typed name or the title: the
      signature, written low (stop 37: 4 of 200 fpdf scans "unclear", seed 801).
    - An empty band over other ink-like marks under the name: unclear, never "no
      ink"; those could be anything printed under the title (a logo, a stamp), and
      print under the title, a logo or a footer, starts lower than ACROSS_THE_TITLE.
    """
    if _sealed(finding):
        beside = again.drawn is Drawn.BLANKED and _across_the_name(again, name, line_height)
        where = ", beside the seal or stamp, written across the typed name or the title under it"
        return _in_the_band(again, finding, band, where) if beside else finding
    if finding.level is SignatureLevel.UNCERTAIN or head:
        whole = again.level is SignatureLevel.INK and again.drawn is None
        where = ", written across the typed name and under it"
        return _in_the_band(again, finding, band, where) if whole else finding
    if again.drawn is None and _across_the_name(again, name, line_height):
        return _in_the_band(
            again, finding, band, ", written across the typed name or the title under it"
        )
    if again.level is SignatureLevel.INK or (
        again.level is SignatureLevel.UNCERTAIN
        and (again.largest_mark is None or again.largest_mark >= SIGNED_BELOW_MARK)
    ):
        finding.level = SignatureLevel.UNCERTAIN
        finding.evidence += "; but there is handwriting-like ink under the typed name"
    return finding


def _in_the_band(
    again: SignatureFinding, finding: SignatureFinding, band: Box, where: str
) -> SignatureFinding:
    return replace(again, band=band, flags=finding.flags, evidence=again.evidence + where)


def _across_the_name(finding: SignatureFinding, name: Box, line_height: int) -> bool:
    """Signature-like ink, a pen-sized stroke in it, reaching the typed name's row
    and starting at most ACROSS_THE_TITLE line heights under it."""
    box = finding.ink_box
    return (
        finding.level is SignatureLevel.INK
        and finding.pen_sized
        and box is not None
        and box.bottom >= name.y
        and box.y <= name.bottom + ACROSS_THE_TITLE * line_height
    )


def _measure_ink(
    page: Page, band: Box, line_height: int, fields: LetterFields, *, every_word: bool = False
) -> SignatureFinding:
    crop = page.image[band.y : band.bottom, band.x : band.right]
    if crop.size == 0:
        return SignatureFinding(None, band=band, evidence="the signature band is empty")
    dark = darkness(crop)
    ink = ink_mask(dark)
    # Everything darker than the paper's noise, seeded or not: a stroke too faint
    # to be sure of still keeps the band from being called empty.
    faint = (dark >= faint_level(dark)).astype(np.uint8)
    flags: list[str] = []
    typed = mask_printed_words(
        page, band, [ink, faint], fields, every_word=every_word, line_height=line_height
    )
    if typed:
        flags.append(f"typed text where the signature belongs: {' '.join(typed)!r}")
    if page.text_source is TextSource.TEXT_LAYER and any(
        overlaps(box, band) and box.width * box.height < 0.5 * page.width * page.height
        for box in page.image_boxes
    ):  # a small image in a text PDF; a scanned PDF is one page-sized image
        flags.append("the signature is an image pasted into the PDF")
    # A photo breaks a thin stroke into pieces that one by one look printed.
    ink = join_broken(ink, dark, line_height)
    around = functools.partial(surroundings, page, band, line_height, fields, every_word=every_word)
    kept, marks, drawn = strokes(ink, line_height, min_mark_area(line_height), around=around)
    finding = _judge(page, band, line_height, fields, crop=crop, ink=ink, faint=faint,
                     flags=flags, kept=kept, marks=marks, drawn=drawn)  # fmt: skip
    finding.drawn = drawn
    finding.reaches = touching_edges(marks, band.height)
    finding.pen_sized = any(
        s[cv2.CC_STAT_WIDTH] >= PEN_SIZED[0] * line_height
        and s[cv2.CC_STAT_HEIGHT] >= PEN_SIZED[1] * line_height
        for s in kept
    )
    return finding


def _judge(
    page: Page,
    band: Box,
    line_height: int,
    fields: LetterFields,
    *,
    crop: Image,
    ink: np.ndarray,
    faint: np.ndarray,
    flags: list[str],
    kept: list[np.ndarray],
    marks: list[np.ndarray],
    drawn: Drawn | None,
) -> SignatureFinding:
    if not kept and drawn is Drawn.BLANKED:
        # A signature written inside a seal or a stamp's box went with it: a person
        # looks, never "no ink".
        evidence = "a seal or stamp between the closing and the name, and no pen strokes beyond it"
        return SignatureFinding(SignatureLevel.UNCERTAIN, 0.0, band, None, flags, evidence)
    if not kept:
        return _without_strokes(band, line_height, ink=ink, faint=faint, flags=flags, marks=marks)
    group = near_marks(kept, marks, line_height) if drawn is None else kept
    score, (left, top, right, bottom), ink_pixels = stroke_score(kept, group, line_height)
    ink_box = Box(
        band.page, band.x + int(left), band.y + int(top), int(right - left), int(bottom - top)
    )
    # Long strokes that score low are too little to call a signature and too
    # much to call the band empty: "no signature" is only said of an empty band.
    # Strokes that are all letter-sized, next to a stamp's frame or other drawn
    # shapes, are the stamp's lettering as often as a signature's pieces, and so
    # are strokes that are all rows of print (a tilted stamp's capitals run
    # together) or, beside drawn marks erased, straight bars (what the band's
    # edges left of a stamp frame's sides): a person looks (issue 14).
    longest = max(max(s[cv2.CC_STAT_WIDTH], s[cv2.CC_STAT_HEIGHT]) for s in kept)
    letter_sized = (
        (drawn is not None and longest < LETTER_SIZED * line_height)
        or bold_lettering(kept, line_height)
        or all(
            printed_row(s, ink, line_height)
            or (drawn is not None and straight_bar(s, ink, line_height))
            for s in kept
        )
    )
    level = (
        SignatureLevel.INK
        if score >= SIGNATURE_SCORE and not letter_sized
        else SignatureLevel.UNCERTAIN
    )
    clear = clear_of_drawn(ink, kept, marks, line_height, anything_drawn=drawn is not None)
    # Initials or a small signature, too small to score, clear of drawn marks.
    initials = (
        level is SignatureLevel.UNCERTAIN and clear and written_initials(kept, ink, line_height)
    )
    if initials:
        level = SignatureLevel.INK
    if page.text_source is TextSource.OCR:
        reading = reads_as_the_name(page, ink_box, fields, line_height)
        if reading is not None:
            flags.append(
                f"the signature reads as printed text ({reading!r}) like the typed name: "
                "a script font rather than handwriting?"
            )
    colour = ink_colour(crop, ink)
    evidence = (
        f"{ink_pixels} ink pixels in {len(kept)} strokes spanning "
        f"{(right - left) / line_height:.1f} x {(bottom - top) / line_height:.1f} line heights"
        + (f", {colour} ink" if colour else "")
        + (", shaped as initials" if initials else "")
    )
    return SignatureFinding(
        level, score, band, ink_box, flags, evidence, initials=initials, clear=clear
    )


def _without_strokes(
    band: Box,
    line_height: int,
    *,
    ink: np.ndarray,
    faint: np.ndarray,
    flags: list[str],
    marks: list[np.ndarray],
) -> SignatureFinding:
    """A band with no long stroke left: unclear, or "no ink" if nothing ink-like is
    there, not even what the drawn-mark rules erased or a tail from the lines."""
    # Specks down to FAINT_SPECK pixels count here: a hairline's dotted trail.
    faint_kept, faint_marks, _ = strokes(closed(faint), line_height, FAINT_SPECK)
    faint_score = stroke_score(faint_kept, faint_kept, line_height)[0] if faint_kept else 0.0
    if faint_score >= UNCERTAIN_SCORE:
        evidence = (
            "faint marks between the closing and the name that may be pen strokes "
            f"(score {faint_score:.2f})"
        )
        return SignatureFinding(SignatureLevel.UNCERTAIN, 0.0, band, None, flags, evidence)
    residue, measured = max(
        (
            (sum(int(m[cv2.CC_STAT_AREA]) for m in found) / line_height**2, found)
            for found in (marks, faint_marks)
        ),
        key=lambda pair: pair[0],
    )
    if residue >= EMPTY_BAND:
        # Letter-sized marks are a stamp's or a logo's lettering as often as a
        # small, faint or broken-up signature's strokes (both measured 0.1-0.6
        # line heights squared): a person tells them apart at a glance.
        evidence = (
            "marks between the closing and the name that are neither clearly "
            f"handwriting nor clearly printed ({len(measured)} marks, "
            f"{residue:.1f} line heights squared of ink)"
        )
        # With the marks the drawn-mark rules erased: a felt tip's strokes erased
        # as solid shapes left only specks under the typed name, and a signed
        # band was told "no ink" (issue 14: seed 791, band 197, stop 34).
        largest = max(
            max(int(m[cv2.CC_STAT_AREA]) for m in measured) / line_height**2,
            largest_beside_level_rules(ink, line_height, min_mark_area(line_height)),
        )
        return SignatureFinding(
            SignatureLevel.UNCERTAIN, 0.0, band, None, flags, evidence, largest_mark=largest
        )
    shapes = max(
        ink_beside_level_rules(ink, line_height, min_mark_area(line_height)),
        ink_beside_level_rules(closed(faint), line_height, FAINT_SPECK),
    )
    if shapes >= EMPTY_BAND:
        # The drawn-mark rules erased it: a stamp's or a seal's as often as a felt
        # tip's thick initials (issue 14: signed bands told "no ink", synthetic
        # scans). Only a band that was empty before anything was erased is empty.
        evidence = (
            "marks between the closing and the name that look drawn rather than "
            f"written ({shapes:.1f} line heights squared of ink, none of it a pen's "
            "clear strokes)"
        )
        return SignatureFinding(
            SignatureLevel.UNCERTAIN, 0.0, band, None, flags, evidence, largest_mark=shapes
        )
    if edges := touching_edges(marks, band.height):
        # The band starts below the closing's descenders and ends above the name's
        # capitals, so no print reaches its edges: ink that does comes from a pen
        # writing over those lines (issue 14: initials over "Sincerely,").
        evidence = (
            f"ink running into the {' and '.join(_EDGE_LINES[e] for e in sorted(edges))} "
            "and little between: a signature written over the lines?"
        )
        return SignatureFinding(SignatureLevel.UNCERTAIN, 0.0, band, None, flags, evidence)
    evidence = "no ink between the closing and the name" + (
        f" beyond specks ({len(measured)})" if measured else ""
    )
    return SignatureFinding(SignatureLevel.NONE, 0.0, band, None, flags, evidence)


_EDGE_LINES = {"bottom": "typed name", "top": "closing"}
