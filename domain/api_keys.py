"""API keys: how scripts and other systems read and write customers without a person's password."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.users import UserRef

KEY_PREFIX = "crm_"
# How much of a key is kept in the clear, so that people can tell their keys apart: "crm_" and 8 characters.
SHOWN_PREFIX_LENGTH = 12


class ApiKeyScope(StrEnum):
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"


@dataclass(frozen=True, slots=True)
class NewKeySecret:
    """A freshly made key: the secret itself, shown once, and what is kept of it."""

    key: str
    prefix: str
    key_hash: str


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


def hash_of_api_key(key: str) -> str:
    """SHA-256 in hex. The key holds 256 random bits, so a fast hash is enough: there is nothing to guess."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key_secret() -> NewKeySecret:
    """``crm_`` and 32 random bytes in unpadded base64url."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKeySecret(key, key[:SHOWN_PREFIX_LENGTH], hash_of_api_key(key))


@dataclass(slots=True)
class ApiKey:
    id: UUID
    name: str
    scopes: frozenset[ApiKeyScope]
    prefix: str
    key_hash: str
    created_at: datetime
    created_by: UserRef
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    # Deleted keys stay as rows, so that the customers they wrote keep showing their name.
    deleted_at: datetime | None = None

    def is_usable(self, now: datetime) -> bool:
        return self.deleted_at is None and (self.expires_at is None or now < self.expires_at)
