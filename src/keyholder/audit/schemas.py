"""What an exported audit event and a page of them look like from outside (issue 19)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from keyholder.audit.export import Page, event_record


class AuditEventOut(BaseModel):
    """One event with everything its hash covers, in the exact form hashed."""

    seq: int
    at: str = Field(description="UTC, ISO 8601 with microseconds: the text the hash covers")
    actor: str
    action: str
    target: str
    data: dict[str, Any] = Field(description='{"before": …, "after": …}')
    client_address: str | None
    request_id: str | None
    prev_hash: str = Field(description="The hash of event seq-1 (64 zeros for event 1)")
    hash: str = Field(
        description="HMAC-SHA256 under chain key key_id (plain SHA-256 when key_id is null) "
        "of the canonical JSON of the other fields"
    )
    key_id: str | None


class AuditPageOut(BaseModel):
    events: list[AuditEventOut]
    next_after: int = Field(
        description="Pass as ?after= for the next page; the same cursor when the page is empty"
    )


def page_out(page: Page) -> AuditPageOut:
    return AuditPageOut(
        events=[AuditEventOut(**event_record(e)) for e in page.events],
        next_after=page.next_after,
    )
