"""/api/webhooks: operators subscribe endpoints to events (issue 19; docs/webhooks.md).

Platform admins only; errors are problem+json like the rest of the API. The
signing secret is in the answer of the POST that makes it (and of a rotation)
only: it is never shown again.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keyholder.web.deps import CurrentActor, ReadUoW, UoW
from keyholder.webhooks import service
from keyholder.webhooks.schemas import (
    DeliveryOut,
    EndpointIn,
    EndpointOut,
    EndpointWithSecretOut,
    RedeliverIn,
    delivery_out,
    endpoint_out,
    endpoint_with_secret_out,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
ONE = "/{endpoint_id}"


@router.get("", response_model=list[EndpointOut])
def list_endpoints(uow: ReadUoW, actor: CurrentActor) -> list[EndpointOut]:
    return [endpoint_out(e) for e in service.list_endpoints(uow, actor=actor)]


@router.post("", response_model=EndpointWithSecretOut, status_code=status.HTTP_201_CREATED)
def add_endpoint(body: EndpointIn, uow: UoW, actor: CurrentActor) -> EndpointWithSecretOut:
    """Subscribe a URL; the answer holds its signing secret, shown this once."""
    added = service.add_endpoint(
        uow,
        body.url,
        event_types=body.events,
        payload_format=body.format,
        description=body.description,
        start_after=body.start_after,
        actor=actor,
    )
    return endpoint_with_secret_out(added.endpoint, added.secret)


@router.get(ONE, response_model=EndpointOut)
def get_endpoint(endpoint_id: uuid.UUID, uow: ReadUoW, actor: CurrentActor) -> EndpointOut:
    return endpoint_out(service.get_endpoint(uow, endpoint_id, actor=actor))


@router.delete(ONE, status_code=status.HTTP_204_NO_CONTENT)
def remove_endpoint(endpoint_id: uuid.UUID, uow: UoW, actor: CurrentActor) -> Response:
    service.remove_endpoint(uow, endpoint_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(ONE + "/disable", response_model=EndpointOut)
def disable_endpoint(endpoint_id: uuid.UUID, uow: UoW, actor: CurrentActor) -> EndpointOut:
    """Stop deliveries; redelivery resumes them where they stopped."""
    return endpoint_out(service.disable_endpoint(uow, endpoint_id, actor=actor))


@router.post(ONE + "/redeliver", response_model=EndpointOut, status_code=status.HTTP_202_ACCEPTED)
def redeliver(
    endpoint_id: uuid.UUID, uow: UoW, actor: CurrentActor, body: RedeliverIn | None = None
) -> EndpointOut:
    """Enable the endpoint and deliver at the next run, from ``from_seq`` when given."""
    from_seq = body.from_seq if body is not None else None
    return endpoint_out(service.redeliver(uow, endpoint_id, from_seq=from_seq, actor=actor))


@router.post(ONE + "/secret", response_model=EndpointWithSecretOut)
def rotate_secret(endpoint_id: uuid.UUID, uow: UoW, actor: CurrentActor) -> EndpointWithSecretOut:
    """A new secret; the previous one signs too until ``previous_secret_valid_until``."""
    rotated = service.rotate_secret(uow, endpoint_id, actor=actor)
    return endpoint_with_secret_out(rotated.endpoint, rotated.secret)


@router.get(ONE + "/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    endpoint_id: uuid.UUID,
    uow: ReadUoW,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=service.MAX_DELIVERIES_PAGE)] = 50,
) -> list[DeliveryOut]:
    """The delivery log: every attempt, newest first."""
    deliveries = service.list_deliveries(uow, endpoint_id, limit=limit, actor=actor)
    return [delivery_out(d) for d in deliveries]
