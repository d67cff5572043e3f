"""The API's addresses that its answers carry, for the slices' converters to fill in.

The slices' response models (``desk.schemas``, ``access.schemas``) take these
as arguments: the routes live here, so the addresses are built here too.
"""

from __future__ import annotations

import uuid


def attachment_url(number: int, attachment_id: uuid.UUID) -> str:
    """``GET /api/tickets/{number}/attachments/{id}``: a ticket's attachment (or letter)."""
    return f"/api/tickets/{number}/attachments/{attachment_id}"


def annotated_letter_url(request_id: uuid.UUID) -> str:
    """``GET /api/access-requests/{id}/letter/annotated.png``: the pre-screen's boxes."""
    return f"/api/access-requests/{request_id}/letter/annotated.png"
