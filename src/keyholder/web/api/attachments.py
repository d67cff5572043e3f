"""GET /api/tickets/{number}/attachments/{id}: a ticket attachment's bytes (S29, S30, S34).

Always a download, never a page: ``Content-Disposition: attachment``, the type
we sniffed when it arrived, ``nosniff`` so no browser second-guesses it, a
sandboxing CSP should one open it anyway, and no caching. Who may see it and the
audit of each view are ``desk.attachments.download_attachment``'s.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from urllib.parse import quote

from fastapi import APIRouter, Response

from keyholder.desk.attachments import download_attachment
from keyholder.desk.models import Attachment
from keyholder.desk.sniff import MediaType
from keyholder.web.deps import CurrentActor, UoW
from keyholder.web.inputs import RowNumber

router = APIRouter(tags=["desk"])

_UNSAFE_IN_QUOTED = re.compile(r"[^A-Za-z0-9 ._()+-]")


@router.get(
    "/tickets/{number}/attachments/{attachment_id}",
    response_class=Response,
    responses={
        200: {"description": "The file, as a download", "content": {"application/pdf": {}}},
        404: {"description": "No such attachment, or not one this caller may see"},
    },
)
def get_attachment(
    number: RowNumber, attachment_id: uuid.UUID, actor: CurrentActor, uow: UoW
) -> Response:
    """Download an attachment: staff see all, a ticket's requester those on public replies."""
    attachment, data = download_attachment(uow, number, attachment_id, actor=actor)
    return download_response(attachment, data)


def download_response(attachment: Attachment, data: bytes) -> Response:
    """The file as a download that no browser renders or second-guesses (S34)."""
    media_type = attachment.content_type
    if media_type == MediaType.TEXT:
        media_type += "; charset=utf-8"  # sniffed as UTF-8 when it arrived
    return Response(
        content=data,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the exact UTF-8 ``filename*`` (RFC 6266).

    Safe for any string: the quoted fallback keeps only harmless ASCII, and the
    RFC 5987 value percent-encodes every byte but letters, digits and ``._-~``.
    """
    ascii_only = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = _UNSAFE_IN_QUOTED.sub("_", ascii_only).strip(" .") or "attachment"
    encoded = quote(filename.encode("utf-8", "replace"), safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
