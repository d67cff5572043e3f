"""Letter pre-screening: read an executive's letter and tell the reviewer what it says.

The one entry point for the access-request flow::

    from keyholder.letters import prescreen_in_subprocess, TypedFields, AccountRecords

    report = prescreen_in_subprocess(
        data,                      # the uploaded file's bytes (PDF, PNG or JPEG)
        typed=TypedFields(email_to_add=..., contract_number=..., ...),
        records=AccountRecords(name, display_name, contract_number,
                               verified_domains, executive_contacts),  # or None
        settings=settings,         # limits: letters_max_* , timeout, memory
        today=clock.now().date(),
        annotated=True,            # also an annotated PNG for the reviewer
    )
    store(report.json)             # versioned: report.json["schema"] == SCHEMA

``prescreen_in_subprocess`` runs ``prescreen_letter`` (same arguments, this
process) in a child with time and memory limits; use the in-process one only
on trusted input or in tests. Files that are not letters raise
UnsupportedMediaType (415), PayloadTooLarge (413) or InvalidInput (422);
everything else, including a missing OCR engine, is in the report.

Pipeline: ``load`` (sniff, limits, PDF text layer and rendering) → ``clean``
(flatten photos, even lighting, deskew, 90° turns) → ``ocr`` (Tesseract) →
``fields`` (the items, with boxes) → ``reconcile`` (addresses OCR misread:
read again, or explained as OCR confusions and marked) → ``signature`` (ink in
the signature band: presence, not authenticity) → ``checks`` (pass / fail /
unknown with evidence) → ``report`` (JSON and annotated PNG).
"""

from __future__ import annotations

from keyholder.letters.checks import AccountRecords, Check, ExecutiveContact, Status, TypedFields
from keyholder.letters.prescreen import prescreen_letter
from keyholder.letters.report import SCHEMA, LetterReport
from keyholder.letters.sandbox import prescreen_in_subprocess
from keyholder.letters.signature_finding import PRESENCE_NOTE, SignatureLevel

__all__ = [
    "PRESENCE_NOTE",
    "SCHEMA",
    "AccountRecords",
    "Check",
    "ExecutiveContact",
    "LetterReport",
    "SignatureLevel",
    "Status",
    "TypedFields",
    "prescreen_in_subprocess",
    "prescreen_letter",
]
