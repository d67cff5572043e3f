"""A software WebAuthn authenticator for service tests: real keys, real signatures.

It answers the options our ceremonies send as a browser and a platform
authenticator would: an EC P-256 key per credential, attestation "none",
``authenticatorData`` and ``clientDataJSON`` built byte by byte (WebAuthn
Level 3, sections 6.1 and 5.8.1), signatures with ``cryptography``. Nothing
of py_webauthn is used here, so the server's checks are tested against an
independent client.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40
AAGUID = bytes(16)  # "none" attestation: no make or model


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class StoredCredential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftwareAuthenticator:
    """Keeps its credentials (discoverable, as passkeys are) and counts signatures."""

    origin: str
    credentials: list[StoredCredential] = field(default_factory=list)

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        credential_id: bytes | None = None,
    ) -> dict[str, Any]:
        """A ``PublicKeyCredential`` (as JSON) answering ``navigator.credentials.create``."""
        rp_id = options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        stored = StoredCredential(
            credential_id=credential_id or secrets.token_bytes(32),
            key=key,
            rp_id=rp_id,
            user_handle=unb64url(options["user"]["id"]),
        )
        self.credentials.append(stored)
        numbers = key.public_key().public_numbers()
        cose_key = cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        attested = AAGUID + struct.pack(">H", len(stored.credential_id)) + stored.credential_id
        auth_data = self._auth_data(rp_id, UP | UV | AT, 0) + attested + cose_key
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(stored.credential_id),
            "rawId": b64url(stored.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        credential: StoredCredential | None = None,
        user_verified: bool = True,
        sign_count: int | None = None,
    ) -> dict[str, Any]:
        """A ``PublicKeyCredential`` (as JSON) answering ``navigator.credentials.get``.

        The credential is the one named (or the first allowed, or the newest);
        ``sign_count`` overrides the counter (a cloned key's stale count).
        """
        chosen = credential or self._pick(options)
        if sign_count is None:
            chosen.sign_count += 1
            sign_count = chosen.sign_count
        flags = UP | (UV if user_verified else 0)
        auth_data = self._auth_data(rp_id or chosen.rp_id, flags, sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = chosen.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(chosen.credential_id),
            "rawId": b64url(chosen.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(chosen.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def _pick(self, options: dict[str, Any]) -> StoredCredential:
        allowed = {unb64url(each["id"]) for each in options.get("allowCredentials") or []}
        for stored in reversed(self.credentials):
            if not allowed or stored.credential_id in allowed:
                return stored
        raise LookupError("no credential for these options")

    @staticmethod
    def _auth_data(rp_id: str, flags: int, sign_count: int) -> bytes:
        return (
            hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)
        )

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        return json.dumps({**data, "crossOrigin": False}).encode()
