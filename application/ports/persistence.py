"""Persistence ports: the repositories, and the unit of work that holds them in one transaction."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Self
from uuid import UUID

from application.ports.api_keys import ApiKeyRepository
from application.ports.sign_in_sessions import SignInSessionRepository
from application.ports.webhooks import WebhookRepository
from domain.customer_history import CustomerChange
from domain.customers import Customer, TrashedCustomer
from domain.users import User, UserRef
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
    """Live customers, and those in the trash. Every read but the ``*trash*`` ones sees live customers only."""

    @abstractmethod
    async def add(self, customer: Customer) -> None:
        """Raise ``Conflict`` when the id is taken (by a live or a trashed customer)."""

    @abstractmethod
    async def get(self, customer_id: CustomerId, *, for_update: bool = False) -> Customer | None: ...

    @abstractmethod
    async def update(self, customer: Customer) -> None: ...

    @abstractmethod
    async def delete(self, customer_id: CustomerId) -> None:
        """Remove the customer for good, live or trashed (erasure)."""

    @abstractmethod
    async def move_to_trash(self, customer_id: CustomerId, by: UserRef, at: datetime) -> None:
        """Hide the live customer; its row, photo and id stay until it is restored, erased or purged."""

    @abstractmethod
    async def get_trashed(self, customer_id: CustomerId, *, for_update: bool = False) -> TrashedCustomer | None: ...

    @abstractmethod
    async def restore(self, customer: Customer) -> None:
        """Bring the trashed customer back as ``customer`` (its new version and update stamp)."""

    @abstractmethod
    async def list_trash(self, limit: int, after: tuple[datetime, str] | None = None) -> list[TrashedCustomer]:
        """The trash newest first: by ``deleted_at``, then id, both descending; at most ``limit``, strictly
        after the position ``after`` (the last of the previous page)."""

    @abstractmethod
    async def purge_trash(self, deleted_before: datetime, limit: int) -> list[Customer]:
        """Remove for good at most ``limit`` customers trashed before ``deleted_before``; return them."""

    @abstractmethod
    async def get_many(self, customer_ids: Sequence[CustomerId], *, for_update: bool = False) -> list[Customer]:
        """The live customers among ``customer_ids``, in no particular order."""

    @abstractmethod
    async def trashed_among(self, customer_ids: Sequence[CustomerId]) -> set[CustomerId]:
        """Those of ``customer_ids`` that are in the trash."""

    @abstractmethod
    async def add_many(self, customers: Sequence[Customer]) -> None:
        """Add them all at once (an import); ``Conflict`` when an id is taken."""

    @abstractmethod
    async def update_many(self, customers: Sequence[Customer]) -> None:
        """Write them all at once (an import)."""

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

    @abstractmethod
    async def list(self, query: CustomerListQuery) -> list[Customer]:
        """Customers in the query's order, at most ``query.limit``."""


class CustomerHistory(ABC):
    """Every recorded change of every customer, kept after the customer is deleted."""

    @abstractmethod
    async def record(self, change: CustomerChange) -> None:
        """Append the change to its customer's history, in this unit of work's transaction."""

    @abstractmethod
    async def record_many(self, changes: Sequence[CustomerChange]) -> None:
        """Append them all at once, in this order (an import)."""

    @abstractmethod
    async def erase(self, customer_id: CustomerId) -> None:
        """Remove every entry of the customer: they hold personal values (erasure)."""

    @abstractmethod
    async def list(
        self, customer_id: CustomerId, limit: int, after: tuple[datetime, int] | None = None
    ) -> list[CustomerChange]:
        """The customer's changes newest first: by time, then by id, both descending; at most ``limit``.

        ``after`` is the time and id of the last change of the previous page; the page starts strictly
        after it in that order. Each change carries its id and its actor's current name.
        """


class UnitOfWork(ABC):
    """One transaction over the repositories. Leaving the block without ``commit`` rolls back."""

    users: UserRepository
    customers: CustomerRepository
    customer_history: CustomerHistory
    sign_in_sessions: SignInSessionRepository
    webhooks: WebhookRepository
    api_keys: ApiKeyRepository

    @abstractmethod
    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._leave(exc)

    @abstractmethod
    async def _leave(self, error: BaseException | None) -> None:
        """Roll back whatever was not committed and let go of the transaction; ``error`` ended the block, if any."""

    def __init__(self, *, read_only: bool = False) -> None:
        # A unit of work for reading has no transaction around its reads, so it has nothing to commit.
        self.read_only = read_only

    async def commit(self) -> None:
        """Make the block's changes stick. Committing outside the block, or when reading, is a bug."""
        if not self._entered():
            raise RuntimeError("commit() outside of 'async with unit_of_work'")
        if self.read_only:
            raise RuntimeError("a unit of work for reading cannot commit")
        await self._commit()

    @abstractmethod
    def _entered(self) -> bool:
        """True between entering and leaving the ``async with`` block."""

    @abstractmethod
    async def _commit(self) -> None:
        """Commit the open transaction."""


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
