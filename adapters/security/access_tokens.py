"""Access tokens as short-lived signed JWTs (RFC 9068 profile), with key rotation by ``kid``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt

from application.ports.security import AccessClaims, AccessTokens, IssuedToken
from application.ports.system import Clock
from domain.errors import NotAuthenticated

ACCESS_TOKEN_TYPE = "at+jwt"
# One fixed algorithm: the verifier never lets a token choose how it is checked.
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "sid", "jti"]


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """Named secrets; the first signs, all verify. Rotate by putting a new key first, retire by removing."""

    keys: Mapping[str, bytes]
    current: str

    @classmethod
    def single(cls, secret: bytes, key_id: str = "k1") -> SigningKeys:
        return cls({key_id: secret}, key_id)


LEEWAY = timedelta(seconds=5)
VERIFIED_CACHE_SIZE = 10_000


class JwtAccessTokens(AccessTokens):
    def __init__(self, keys: SigningKeys, issuer: str, audience: str, lifetime: timedelta, clock: Clock) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._lifetime = lifetime
        self._clock = clock
        # token -> (claims, not before, expires); oldest first, bounded.
        self._verified: dict[str, tuple[AccessClaims, datetime, datetime]] = {}

    def issue(self, claims: AccessClaims, now: datetime) -> IssuedToken:
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(claims.user_id),
            "sid": str(claims.session_id),
            "iat": now,
            "nbf": now,
            "exp": now + self._lifetime,
            "jti": uuid.uuid4().hex,
        }
        headers = {"kid": self._keys.current, "typ": ACCESS_TOKEN_TYPE}
        token = jwt.encode(payload, self._keys.keys[self._keys.current], algorithm=ALGORITHM, headers=headers)
        return IssuedToken(token, int(self._lifetime.total_seconds()))

    def verify(self, token: str) -> AccessClaims:
        # A token's signature and claims never change: remember tokens already verified, and check
        # only their time window again (a signature check is an eighth of a request's CPU).
        known = self._verified.get(token)
        if known is not None:
            claims, not_before, expires = known
            if not_before - LEEWAY <= self._clock.now() < expires + LEEWAY:
                return claims
            raise NotAuthenticated("The access token has expired or is not valid yet.")
        claims, not_before, expires = self._verify_signed(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = (claims, not_before, expires)
        return claims

    def _verify_signed(self, token: str) -> tuple[AccessClaims, datetime, datetime]:
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.keys.get(header.get("kid", ""))
            if key is None or header.get("typ") != ACCESS_TOKEN_TYPE or "crit" in header:
                raise NotAuthenticated("The access token is not valid.")
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                # Times are checked below against our clock, so that they follow the same time as the rest.
                options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
            now = self._clock.now()
            issued, not_before, expires = (_instant(payload[claim]) for claim in ("iat", "nbf", "exp"))
            if not (not_before - LEEWAY <= now < expires + LEEWAY and issued - LEEWAY <= now):
                raise NotAuthenticated("The access token has expired or is not valid yet.")
            claims = AccessClaims(user_id=UUID(payload["sub"]), session_id=UUID(payload["sid"]), expires_at=expires)
            return claims, not_before, expires
        except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError) as error:
            raise NotAuthenticated("The access token is not valid or has expired.") from error


def _instant(value: object) -> datetime:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError("a time claim must be a number")
    return datetime.fromtimestamp(value, UTC)
