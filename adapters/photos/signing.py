"""Short-lived photo URLs signed by the service itself (for the local-folder storage).

A URL is ``{base_url}/{key}?expires=<unix seconds>&type=<content type>&signature=<s>``, where ``s`` is
the unpadded URL-safe base64 of HMAC-SHA256 over the key, the content type and the expiry. The type
is part of the signature so that the response's ``Content-Type`` cannot be chosen by whoever holds
the URL; nothing else about the object needs to be stored next to it.

The HMAC key is derived from the service's secret with a fixed label, so a photo signature can never
be mistaken for, or turned into, any other thing signed with the same secret (e.g. access tokens).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from application.ports.system import Clock

_LABEL = b"crm-service/photo-url/v1"
_MAX_EXPIRES_DIGITS = 12


@dataclass(frozen=True, slots=True)
class SignedQuery:
    expires: int
    content_type: str
    signature: str

    def encode(self) -> str:
        """The query string (without ``?``)."""
        return urlencode({"expires": self.expires, "type": self.content_type, "signature": self.signature})


class UrlSigner:
    def __init__(self, secret: bytes, lifetime: timedelta, clock: Clock) -> None:
        if len(secret) < 16:
            raise ValueError("the photo URL secret must be at least 16 bytes")
        if lifetime <= timedelta(0):
            raise ValueError("the photo URL lifetime must be positive")
        self._key = hmac.new(secret, _LABEL, hashlib.sha256).digest()
        self._lifetime = lifetime
        self._clock = clock

    @property
    def lifetime(self) -> timedelta:
        return self._lifetime

    def sign(self, key: str, content_type: str, now: datetime | None = None) -> SignedQuery:
        moment = now or self._clock.now()
        expires = int((moment + self._lifetime).timestamp())
        return SignedQuery(expires, content_type, self._signature(key, content_type, expires))

    def verify(
        self, key: str, content_type: str, expires: int | str, signature: str, now: datetime | None = None
    ) -> bool:
        """True only for a signature we made for exactly this key, type and expiry, not yet expired."""
        deadline = _parse_expires(expires)
        if deadline is None:
            return False
        moment = now or self._clock.now()
        if moment.timestamp() >= deadline:
            return False
        expected = self._signature(key, content_type, deadline)
        return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "surrogateescape"))

    def seconds_left(self, expires: int | str, now: datetime | None = None) -> int:
        """How long a response for this URL may be cached: never beyond the signature's expiry."""
        deadline = _parse_expires(expires)
        if deadline is None:
            return 0
        moment = now or self._clock.now()
        return max(0, int(deadline - moment.timestamp()))

    def _signature(self, key: str, content_type: str, expires: int) -> str:
        # JSON makes the message unambiguous whatever characters the fields hold.
        message = json.dumps([key, content_type, expires], separators=(",", ":")).encode("utf-8")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _parse_expires(expires: int | str) -> int | None:
    if isinstance(expires, int):
        return expires
    if not expires.isascii() or not expires.isdigit() or len(expires) > _MAX_EXPIRES_DIGITS:
        return None
    return int(expires)
