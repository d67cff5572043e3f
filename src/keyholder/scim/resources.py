"""The SCIM resources this server speaks, as scim2-models models, and their discovery.

One resource type, ``User``: a member of the account (or a person invited, or
one the IdP deactivated). Permissions travel in an extension,
``urn:ietf:params:scim:schemas:extension:keyholder:2.0:Member``, as one boolean
per permission beyond ``view``, which every member holds (``create``,
``manage``, ``billing``): single values, so that every PATCH operation means one
thing (docs/scim.md says why this is not Groups, nor a multi-valued list).

The schema published is the subset of the core User schema Keyholder keeps,
with two characteristics of its own: ``userName`` is immutable (it names the
member's address, which an IdP cannot change for a person who may belong to
other accounts), and ``emails`` with its ``value`` is required (when
``userName`` is not an address, as an Entra UPN may not be, the primary email
is the member's address).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import EmailStr
from scim2_models import (
    URN,
    AnyExtension,
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Email,
    ETag,
    Extension,
    Filter,
    Meta,
    Mutability,
    Name,
    Patch,
    Required,
    Resource,
    ResourceType,
    Schema,
    ScimPolicy,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)

from keyholder.accounts.permissions import Permission

CORE_USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
EXTENSION_URN = "urn:ietf:params:scim:schemas:extension:keyholder:2.0:Member"
# The extension's flags: every permission but view, which every member holds.
FLAGS = [p for p in Permission if p is not Permission.VIEW]
MAX_RESULTS = 200  # per page, and what ServiceProviderConfig announces
DEFAULT_COUNT = 100
# Tolerant of what identity providers really send (docs/scim.md): attributes this
# server does not keep are ignored, not refused (Okta and Entra send title,
# phoneNumbers, the enterprise extension…); a PATCH add or replace whose path
# filter matches nothing creates the entry (Entra's emails[type eq "work"].value);
# a remove with a value removes that value.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)
# Names the SCIM id of an (account, address), whether or not SCIM has seen them.
_ID_NAMESPACE = uuid.UUID("6d1f7f44-2c43-5a43-9d5e-6b6579686f6c")


def scim_id(account_id: uuid.UUID, email: str) -> uuid.UUID:
    """The SCIM id of ``email`` on the account: the same from the first read on,
    so a member added by the API or the CLI keeps the id the IdP first saw."""
    return uuid.uuid5(_ID_NAMESPACE, f"{account_id}/{email}")


class KeyholderMember(Extension):
    """A member's permissions beyond view (which every member holds), one flag each."""

    __schema__ = URN(EXTENSION_URN)

    create: Annotated[bool | None, Mutability.read_write] = None
    """Holds the create permission."""

    manage: Annotated[bool | None, Mutability.read_write] = None
    """Holds the manage permission: an admin of the account, who changes its members."""

    billing: Annotated[bool | None, Mutability.read_write] = None
    """Holds the billing permission."""


class MemberEmail(Email):
    value: Annotated[EmailStr | None, Required.true] = None
    """An email address of the user."""


class MemberUser(Resource[AnyExtension]):
    """The subset of the core User schema a member has here."""

    __schema__ = URN(CORE_USER_URN)

    user_name: Annotated[str | None, Uniqueness.server, Required.true, Mutability.immutable] = None
    """The member's email address, or the IdP's name for them (then see emails)."""

    name: Name | None = None
    """The components of the user's real name."""

    display_name: str | None = None
    """The name of the user, suitable for display."""

    active: bool | None = None
    """Whether the person is a member; false takes them off the account."""

    emails: Annotated[list[MemberEmail] | None, Required.true] = None
    """Email addresses; the primary one is the member's when userName is not an address."""


Member = MemberUser[KeyholderMember]


def schemas(base: str) -> list[Schema]:
    """What ``/Schemas`` publishes: the User subset, the extension, and the three
    discovery schemas RFC 7644 §4 has every server describe."""
    described: list[tuple[Any, str, str]] = [
        (MemberUser, "User", "A member of the enterprise account"),
        (KeyholderMember, "KeyholderMember", "A member's permissions on the enterprise account"),
        (ResourceType, "ResourceType", "Specifies the schema that describes a SCIM resource type"),
        (
            ServiceProviderConfig,
            "ServiceProviderConfig",
            "Schema for the service provider's configuration",
        ),
        (Schema, "Schema", "Specifies the schema attributes of a SCIM resource"),
    ]
    found = []
    for model, name, description in described:
        schema = model.to_schema()
        schema.name, schema.description = name, description
        schema.meta = Meta(resource_type="Schema", location=f"{base}/Schemas/{schema.id}")
        found.append(schema)
    return found


def resource_type(base: str) -> ResourceType:
    described = ResourceType.from_resource(Member)  # id, name User; endpoint /Users
    described.description = "Members of the enterprise account"
    described.meta = Meta(resource_type="ResourceType", location=f"{base}/ResourceTypes/User")
    return described


def service_provider_config(base: str) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"),
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Bearer token",
                description="A token from `keyholder scim tokens create ACCOUNT`, "
                "sent as 'Authorization: Bearer <token>'",
                primary=True,
            )
        ],
    )


def dump(model: Any, **options: Any) -> dict[str, Any]:
    """A model as the JSON of a response."""
    from scim2_models import Context  # noqa: PLC0415

    result: dict[str, Any] = model.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE, **options)
    return result
