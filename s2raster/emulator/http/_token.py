"""The emulator's OAuth2 token endpoint (client credentials) and bearer-token check.

Tokens are real-looking JWTs (``header.payload.signature``, base64url, HS256 with a random
key per emulator instance), so ``SentinelHubSession.info()`` can decode them as it decodes
CDSE's Keycloak tokens. sentinelhub-py decodes the payload with :func:`base64.b64decode`,
which silently drops the base64url characters ``-`` and ``_``; JSON made of ASCII without
``>``, ``?`` and ``~`` never encodes to them, and :func:`issue` checks that it holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote_plus

#: The CDSE token path (Keycloak realm ``CDSE``).
TOKEN_PATH = "/auth/realms/CDSE/protocol/openid-connect/token"

INVALID_CLIENT = {
    "error": "invalid_client",
    "error_description": "Invalid client or Invalid client credentials",
}
UNSUPPORTED_GRANT = {
    "error": "unsupported_grant_type",
    "error_description": "Unsupported grant_type",
}


def new_client_id() -> str:
    """A random client id shaped like CDSE's (``sh-`` + UUID)."""
    return f"sh-{uuid.uuid4()}"


def new_client_secret() -> str:
    return secrets.token_urlsafe(24)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class TokenIssuer:
    """Issues and checks the bearer tokens of one emulator instance.

    ``issuer`` is the realm URL written into the tokens (``iss``); ``expires_in`` their
    lifetime in seconds.
    """

    client_id: str
    client_secret: str
    issuer: str
    expires_in: int = 600
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    _subject: str = field(default_factory=lambda: str(uuid.uuid4()), repr=False)

    def __repr__(self) -> str:  # never show the secret
        return f"TokenIssuer(client_id={self.client_id!r}, expires_in={self.expires_in})"

    def token_response(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer a token request: (HTTP status, JSON body) as Keycloak answers it."""
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items() if v}
        client_id, client_secret = _basic_credentials(headers.get("authorization", ""))
        client_id = form.get("client_id", client_id)
        client_secret = form.get("client_secret", client_secret)
        if not self._credentials_ok(client_id, client_secret):
            return 401, dict(INVALID_CLIENT)
        if form.get("grant_type") != "client_credentials":
            return 400, dict(UNSUPPORTED_GRANT)
        return 200, {
            "access_token": self.issue(),
            "expires_in": self.expires_in,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": "email profile",
        }

    def issue(self, *, now: float | None = None, expires_in: int | None = None) -> str:
        """A signed token valid for ``expires_in`` seconds from ``now``."""
        iat = int(time.time() if now is None else now)
        lifetime = self.expires_in if expires_in is None else expires_in
        payload = {
            "exp": iat + lifetime,
            "iat": iat,
            "jti": str(uuid.uuid4()),
            "iss": self.issuer,
            "aud": "account",
            "sub": self._subject,
            "typ": "Bearer",
            "azp": self.client_id,
            "scope": "email profile",
            "clientHost": "127.0.0.1",
            "preferred_username": f"service-account-{self.client_id}",
            "clientId": self.client_id,
            "s2raster_synthetic": 1,
        }
        header = {"alg": "HS256", "typ": "JWT", "kid": "s2raster-emulator"}
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
        if any(ch in text for ch in "<>?~"):  # pragma: no cover - guarded by construction
            raise ValueError("token payload must not contain > ? ~ (sentinelhub-py decoding)")
        signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(text.encode())
        signature = hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest()
        return signing_input + "." + _b64url(signature)

    def check(self, authorization: str, *, now: float | None = None) -> bool:
        """True if ``authorization`` is ``Bearer <token>`` with a valid, unexpired token."""
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or token.count(".") != 2:
            return False
        signing_input, _, signature = token.strip().rpartition(".")
        expected = hmac.new(self._key, signing_input.encode("ascii", "replace"), hashlib.sha256)
        try:
            if not hmac.compare_digest(_b64url_decode(signature), expected.digest()):
                return False
            payload = json.loads(_b64url_decode(signing_input.split(".")[1]))
        except (binascii.Error, ValueError):
            return False
        current = time.time() if now is None else now
        return isinstance(payload, dict) and float(payload.get("exp", 0)) > current

    def revoke_all(self) -> None:
        """Refuse every token issued so far (as a service that revoked them before their
        announced expiry): the signing key changes, tokens issued from now on work."""
        self._key = secrets.token_bytes(32)

    def _credentials_ok(self, client_id: str, client_secret: str) -> bool:
        id_ok = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        secret_ok = hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        return id_ok and secret_ok


def _basic_credentials(authorization: str) -> tuple[str, str]:
    """(client_id, client_secret) from an HTTP Basic header, or empty strings."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value.strip()).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, client_secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(client_secret)
