"""What the use cases need from the outside world. Adapters implement these.

Ports are abstract base classes rather than Protocols so that a missing method fails loudly at
construction and so that frameworks that check injected values with ``isinstance`` accept them.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Self
from uuid import UUID

from domain.customer_history import CustomerChange
from domain.customers import Customer
from domain.errors import TooManyAttempts
from domain.sign_in import Actor, RefreshToken, SignInSession
from domain.users import User
from domain.values import CustomerId

CustomerSortField = Literal["name", "surname", "created_at", "updated_at", "id"]


@dataclass(frozen=True, slots=True)
class CustomerListQuery:
    limit: int
    sort: CustomerSortField = "created_at"
    descending: bool = True
    # search_key() of the text to find in id, name, surname and e-mail.
    search: str | None = None
    # The sort value and id of the last customer of the previous page.
    after: tuple[Any, str] | None = None


@dataclass(frozen=True, slots=True)
class UserListQuery:
    limit: int
    # Case-insensitive text to find in e-mail or name.
    search: str | None = None
    is_admin: bool | None = None
    # The e-mail key and id of the last user of the previous page.
    after: tuple[str, UUID] | None = None


class UserRepository(ABC):
    @abstractmethod
    async def add(self, user: User) -> None: ...

    @abstractmethod
    async def get(self, user_id: UUID) -> User | None:
        """The active user with this id; deleted users are not found."""

    @abstractmethod
    async def get_by_email(self, email_key: str) -> User | None:
        """The active user whose casefolded e-mail is ``email_key``."""

    @abstractmethod
    async def update(self, user: User) -> None: ...

    @abstractmethod
    async def count_active_admins(self, *, lock: bool = False) -> int:
        """With ``lock``, hold the admins until commit so that concurrent demotions serialise."""

    @abstractmethod
    async def list(self, query: UserListQuery) -> list[User]:
        """Active users ordered by e-mail key then id, at most ``query.limit``."""


class CustomerRepository(ABC):
    @abstractmethod
    async def add(self, customer: Customer) -> None:
        """Raise ``Conflict`` when the id is taken."""

    @abstractmethod
    async def get(self, customer_id: CustomerId, *, for_update: bool = False) -> Customer | None: ...

    @abstractmethod
    async def update(self, customer: Customer) -> None: ...

    @abstractmethod
    async def delete(self, customer_id: CustomerId) -> None: ...

    @abstractmethod
    async def list(self, query: CustomerListQuery) -> list[Customer]:
        """Customers in the query's order, at most ``query.limit``."""

    @abstractmethod
    async def referenced_photo_keys(self, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that some customer's photo or thumbnail is stored under (for the orphan sweep)."""

    @abstractmethod
    async def add_with_history(self, customer: Customer, created: CustomerChange) -> None:
        """Store a new customer and the history entry of its creation in one atomic write (one statement in
        PostgreSQL). Raise ``Conflict`` when the id is taken; then nothing is written."""

    @abstractmethod
    async def update_with_history(self, customer: Customer, change: CustomerChange, *, read_version: int) -> bool:
        """Store the changed customer and its history entry in one atomic write, only if the stored customer
        is still the one that was read: same creation time, version ``read_version``. False, with nothing
        written, when it changed or was deleted meanwhile."""


class CustomerHistory(ABC):
    """Every recorded change of every customer, kept after the customer is deleted."""

    @abstractmethod
    async def record(self, change: CustomerChange) -> None:
        """Append the change to its customer's history, in this unit of work's transaction."""

    @abstractmethod
    async def list(
        self, customer_id: CustomerId, limit: int, after: tuple[datetime, int] | None = None
    ) -> list[CustomerChange]:
        """The customer's changes newest first: by time, then by id, both descending; at most ``limit``.

        ``after`` is the time and id of the last change of the previous page; the page starts strictly
        after it in that order. Each change carries its id and its actor's current name.
        """


class SignInSessionRepository(ABC):
    @abstractmethod
    async def add(self, session: SignInSession) -> None: ...

    @abstractmethod
    async def get(self, session_id: UUID) -> SignInSession | None: ...

    @abstractmethod
    async def add_refresh_token(self, token: RefreshToken) -> None: ...

    @abstractmethod
    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None:
        """Find and lock the token, so that two refreshes with it cannot both succeed."""

    @abstractmethod
    async def mark_rotated(self, token_hash: str, at: datetime) -> None: ...

    @abstractmethod
    async def revoke(self, session_id: UUID, at: datetime) -> None: ...

    @abstractmethod
    async def revoke_all_of_user(self, user_id: UUID, at: datetime, *, keep: UUID | None = None) -> None:
        """End every active session of the user, except ``keep``."""


class UnitOfWork(ABC):
    """One transaction over the repositories. Leaving the block without ``commit`` rolls back."""

    users: UserRepository
    customers: CustomerRepository
    customer_history: CustomerHistory
    sign_in_sessions: SignInSessionRepository

    @abstractmethod
    async def __aenter__(self) -> Self: ...

    @abstractmethod
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    @abstractmethod
    async def commit(self) -> None: ...


class UnitOfWorkFactory(ABC):
    @abstractmethod
    def __call__(self) -> UnitOfWork: ...

    @abstractmethod
    def for_reading(self) -> UnitOfWork:
        """A unit of work that only reads: each read stands alone, with no transaction around it (so a
        single read costs one round trip to the database). It cannot commit."""

    def for_single_write(self) -> UnitOfWork:
        """A unit of work whose only write is one call that is atomic by itself (``add_with_history``,
        ``update_with_history``), after plain reads: an adapter may skip the transaction around it, saving
        its round trips. Commit as usual."""
        return self()


class ActorLookup(ABC):
    """Finds who is behind an access token on every request: kept apart from the unit of work so
    that it can be answered from a cache."""

    @abstractmethod
    async def find(self, session_id: UUID, user_id: UUID, now: datetime) -> Actor | None:
        """The actor if the session is active and its user active, else None."""


class PasswordHasher(ABC):
    @abstractmethod
    async def hash(self, password: str) -> str: ...

    @abstractmethod
    async def verify(self, password_hash: str, password: str) -> bool: ...

    @abstractmethod
    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with parameters older than the current ones."""

    @abstractmethod
    async def verify_nothing(self, password: str) -> None:
        """Spend the time of a real verification, so that unknown users cannot be told apart."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UUID
    session_id: UUID


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


class AccessTokens(ABC):
    @abstractmethod
    def issue(self, claims: AccessClaims, now: datetime) -> IssuedToken: ...

    @abstractmethod
    def verify(self, token: str) -> AccessClaims:
        """Raise ``NotAuthenticated`` unless the token is a valid, unexpired access token of ours."""


class Clock(ABC):
    @abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class IdGenerator(ABC):
    @abstractmethod
    def new_id(self) -> UUID: ...

    @abstractmethod
    def new_secret(self) -> str:
        """An unguessable token for a client to hold, e.g. a refresh token."""


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


@dataclass(frozen=True, slots=True)
class ThrottleRule:
    """At most ``max_failures`` failed sign-ins for ``key`` in a window of ``window``; then wait for the
    window to end. Windows end, so nobody is ever locked out for good."""

    key: str
    max_failures: int
    window: timedelta

    def seconds_to_wait(self, failures: int, window_started: datetime, now: datetime) -> int:
        """0 while sign-ins may be tried, else how long until this rule's window ends."""
        ends = window_started + self.window
        if now >= ends or failures < self.max_failures:
            return 0
        return math.ceil((ends - now).total_seconds())


TOO_MANY_FAILED_SIGN_INS = "Too many failed sign-ins; wait before trying again."


def enforce_throttle(rules: list[ThrottleRule], counts: Mapping[str, tuple[int, datetime]], now: datetime) -> None:
    """Raise ``TooManyAttempts`` when any rule's key has ``counts`` (failures, window start) over its limit.

    Every throttle adapter reads its counts its own way and decides here, so that they all agree."""
    waits = [rule.seconds_to_wait(*counts.get(rule.key, (0, now)), now) for rule in rules]
    if any(waits):
        raise TooManyAttempts(TOO_MANY_FAILED_SIGN_INS, retry_after=max(waits))


class SignInThrottle(ABC):
    """Counts failed sign-ins per key (an account, a client address, or both) across all replicas."""

    @abstractmethod
    async def check(self, rules: list[ThrottleRule], now: datetime) -> None:
        """Raise ``TooManyAttempts`` (with the seconds to wait) if any rule's key is over its limit."""

    @abstractmethod
    async def record_failure(self, rules: list[ThrottleRule], now: datetime) -> None: ...

    @abstractmethod
    async def forget(self, keys: list[str]) -> None:
        """A successful sign-in clears the counts of these keys."""
