"""Announcements that who may do what has changed: what open streams listen to, to end within a second.

The actor lookups announce every change they hear of: the PostgreSQL one what its LISTEN connection hears from
every replica (``adapters.sql.access.actor_cache``) and what this process's use cases tell it (``forget_*``), the
in-memory one the latter. ``announced`` says whether announcements can be relied on right now; while they
cannot (the listener is down), whoever depends on them checks again on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from domain.sign_in import Actor

AccessChangeKind = Literal["session", "user", "api_key", "all"]


@dataclass(frozen=True, slots=True)
class AccessChange:
    """A sign-in session, a user or an API key changed (ended, deleted, demoted, re-scoped...), or anything did."""

    kind: AccessChangeKind
    id: UUID | None = None

    @classmethod
    def of_notification(cls, payload: str) -> AccessChange:
        """From ``session:<uuid>``, ``user:<uuid>``, ``api_key:<uuid>``; anything else means anything changed."""
        kind, _, value = payload.partition(":")
        try:
            if kind == "session":
                return cls("session", UUID(value))
            if kind == "user":
                return cls("user", UUID(value))
            if kind == "api_key":
                return cls("api_key", UUID(value))
        except ValueError:
            pass
        return cls("all")

    def concerns(self, actor: Actor) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "user":
            return actor.user_id == self.id
        # An API key's actor has the key's id as its session.
        return actor.session_id == self.id


AccessWatcher = Callable[[AccessChange], None]


class AccessChanges:
    def __init__(self) -> None:
        self._watchers: list[AccessWatcher] = []
        self.announced: Callable[[], bool] = lambda: True

    def watch(self, watcher: AccessWatcher) -> Callable[[], None]:
        """Call ``watcher`` with every change from now on; returns what stops it."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher)

    def announce(self, change: AccessChange) -> None:
        for watcher in list(self._watchers):
            watcher(change)
