"""What webhook endpoints and their delivery log look like from outside (API, CLI --json)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from keyholder.db.types import INTEGER_MAX
from keyholder.webhooks.models import PayloadFormat, WebhookDelivery, WebhookEndpoint


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="https:// URL the events are POSTed to")
    events: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list,
        max_length=50,
        description="Event types (docs/webhooks.md); ignored for the audit format",
    )
    format: PayloadFormat = Field(
        default=PayloadFormat.EVENT,
        description="event: the subscribed types; audit: every audit event with its chain hash",
    )
    description: str = Field(default="", max_length=200)
    start_after: int | None = Field(
        default=None,
        ge=0,
        le=INTEGER_MAX,
        description="Deliver events after this seq (0: the whole log); unset: from now on",
    )


class RedeliverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_seq: int | None = Field(
        default=None,
        ge=1,
        le=INTEGER_MAX,
        description="Send again from this event on; unset: resume where deliveries stopped",
    )


class EndpointOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    events: list[str]
    format: PayloadFormat
    enabled: bool
    disabled_reason: str | None
    cursor: int = Field(description="The last audit seq this endpoint is done with")
    consecutive_failures: int
    next_attempt_at: datetime
    previous_secret_valid_until: datetime | None
    created_at: datetime
    created_by: str


class EndpointWithSecretOut(EndpointOut):
    secret: str = Field(description="whsec_…: shown once, keep it to verify deliveries")


class DeliveryOut(BaseModel):
    id: int
    seq: int
    webhook_id: str
    event_type: str
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    succeeded: bool


def endpoint_out(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(**_fields(endpoint))


def endpoint_with_secret_out(endpoint: WebhookEndpoint, secret: str) -> EndpointWithSecretOut:
    return EndpointWithSecretOut(**_fields(endpoint), secret=secret)


def _fields(endpoint: WebhookEndpoint) -> dict[str, object]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.event_types,
        "format": endpoint.payload_format,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "cursor": endpoint.cursor,
        "consecutive_failures": endpoint.consecutive_failures,
        "next_attempt_at": endpoint.next_attempt_at,
        "previous_secret_valid_until": endpoint.previous_secret_until,
        "created_at": endpoint.created_at,
        "created_by": endpoint.created_by,
    }


def delivery_out(delivery: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        seq=delivery.seq,
        webhook_id=delivery.message_id,
        event_type=delivery.event_type,
        attempted_at=delivery.attempted_at,
        status_code=delivery.status_code,
        error=delivery.error,
        duration_ms=delivery.duration_ms,
        succeeded=delivery.succeeded,
    )
