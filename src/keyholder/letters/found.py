"""One item as read from the letter (``Found``), and all of them (``LetterFields``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from keyholder.letters.document import Box, Line


@dataclass(frozen=True, slots=True)
class Found:
    """One item as read from the letter: its normalised value, the text, where."""

    value: str
    text: str
    box: Box | None
    # Set when ``value`` is not what OCR read but what the form or the records
    # say, and OCR confusions explain the difference (see ``reconcile``).
    corrected_from: str | None = None
    confusions: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "value": self.value,
            "text": self.text,
            "box": self.box.as_json() if self.box else None,
            "corrected_from": self.corrected_from,
            "confusions": list(self.confusions),
        }


@dataclass
class LetterFields:
    account_name: Found | None = None
    email_to_add: Found | None = None
    reason: Found | None = None
    contract_number: Found | None = None
    executive_name: Found | None = None
    executive_title: Found | None = None
    executive_email: Found | None = None
    date: Found | None = None  # value in ISO format
    # For the signature check: the closing line and the typed name under the signature.
    closing: Line | None = None
    name_line: Line | None = None
    # A closing read together with the signature over it as one tall line: not the
    # band's top edge (that would be under the signature), but where the signature
    # may start when no other closing was read.
    inked_closing: Line | None = None
    typed_signature: Found | None = None  # "/s/ Name"
    signature_lines: list[Line] = field(default_factory=list)  # lines between the two

    ITEMS = (
        "account_name", "email_to_add", "reason", "contract_number", "executive_name",
        "executive_title", "executive_email", "date",
    )  # fmt: skip

    def items(self) -> dict[str, Found | None]:
        return {name: getattr(self, name) for name in self.ITEMS}
