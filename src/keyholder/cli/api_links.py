"""The API's addresses in the CLI's ``--json`` output, as the API's own answers carry them.

Written out again rather than imported from ``web.api.links``: the CLI loads
nothing of the web package (it would start slower, and the import contract in
pyproject.toml forbids it). tests/cli/test_api_links.py checks both agree.
"""

from __future__ import annotations

import uuid


def attachment_url(number: int, attachment_id: uuid.UUID) -> str:
    return f"/api/tickets/{number}/attachments/{attachment_id}"


def annotated_letter_url(request_id: uuid.UUID) -> str:
    return f"/api/access-requests/{request_id}/letter/annotated.png"
