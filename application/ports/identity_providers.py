"""The OpenID Connect providers users may sign in with."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SignInProvider:
    """A configured OpenID Connect provider, as the frontend needs to know it."""

    name: str
    issuer: str
    client_id: str


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """What a provider's ID token proves: who it is, at which provider, with a verified e-mail."""

    issuer: str
    subject: str
    email: str


class IdentityProviders(ABC):
    """The OpenID Connect providers users may sign in with."""

    @abstractmethod
    def listed(self) -> list[SignInProvider]: ...

    @abstractmethod
    async def verify(self, id_token: str) -> VerifiedIdentity:
        """Check an ID token: signature against the provider's published keys, allowed algorithm, issuer,
        audience (our client id), expiry, and a verified e-mail. Raise ``InvalidGrant`` otherwise."""
