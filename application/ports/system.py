"""The clock and the source of ids and secrets: replaced in tests to make time and randomness repeatable."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from uuid import UUID


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
