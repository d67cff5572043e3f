"""What the signature pre-screen says of the band: its level, the verdict a reviewer
reads, and the evidence behind it (``signature.find_signature`` measures it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from keyholder.letters.document import Box
from keyholder.letters.drawn_marks import Drawn

PRESENCE_NOTE = (
    "This detects whether handwriting-like ink is present where the signature "
    "belongs. It does not verify who signed: it is not a check of authenticity."
)


class SignatureLevel(StrEnum):
    """What the band holds. The values are the report's stable ``level`` keys; what
    a reviewer reads is ``verdict``. NONE is only said of a band that was found and
    holds nothing ink-like: faint or ambiguous ink is UNCERTAIN, and a band that was
    not found has no level at all (``UNKNOWN_BAND``), never NONE."""

    INK = "signature-like ink"
    UNCERTAIN = "uncertain"
    NONE = "no handwriting"

    @property
    def verdict(self) -> str:
        return VERDICTS[self]


VERDICTS = {
    SignatureLevel.INK: "signature-like ink",
    SignatureLevel.UNCERTAIN: "unclear \N{EM DASH} look at the letter",
    SignatureLevel.NONE: "no ink where the signature belongs",
}
UNKNOWN_BAND = "unclear \N{EM DASH} the signature's place was not found; look at the letter"


@dataclass
class SignatureFinding:
    level: SignatureLevel | None  # None: no band found, nothing measured
    score: float = 0.0
    band: Box | None = None
    ink_box: Box | None = None
    flags: list[str] = field(default_factory=list)
    evidence: str = ""
    # The band's edges ("top", "bottom") that ink left after the clean-up reaches:
    # a signature running into the closing or the typed name (not reported).
    reaches: frozenset[str] = field(default=frozenset(), compare=False)
    drawn: Drawn | None = field(default=None, compare=False)
    pen_sized: bool = field(default=False, compare=False)  # see signature.PEN_SIZED
    # "Unclear" only for marks left over, neither written nor printed nor drawn
    # (``signature._without_strokes``): the largest of them or of the marks erased as drawn,
    # or all the drawn shapes erased, in line heights squared. None for any other
    # reason.
    largest_mark: float | None = field(default=None, compare=False)
    # Signature-like only as initials: a small mark (``band_marks.written_initials``).
    initials: bool = field(default=False, compare=False)
    # No drawn mark was erased near the strokes (``band_marks.clear_of_drawn``).
    clear: bool = field(default=False, compare=False)

    @property
    def verdict(self) -> str:
        return self.level.verdict if self.level else UNKNOWN_BAND

    def as_json(self) -> dict[str, object]:
        return {
            "level": self.level.value if self.level else None,
            "verdict": self.verdict,
            "score": round(self.score, 3),
            "band": self.band.as_json() if self.band else None,
            "ink_box": self.ink_box.as_json() if self.ink_box else None,
            "flags": self.flags,
            "evidence": self.evidence,
            "note": PRESENCE_NOTE,
        }
