"""A per-process cache of who is behind an access token, kept correct by PostgreSQL LISTEN/NOTIFY.

Every authenticated request needs to know that the token's sign-in session is live and its user active
(``ActorLookup``). Asking the database every time is correct but costs a query per request; this cache
answers from memory instead, and stays correct across replicas because the database itself announces
every change that matters: triggers (migrations 0002 and 0006) send ``session:<id>`` when a session is
revoked or deleted, ``user:<id>`` when a user is deleted, demoted or promoted, renamed, or changes password
or e-mail, ``api_key:<id>`` when an API key is deleted or changed, and ``all`` when any of these tables is
truncated, on the channel ``crm_auth_changes``. PostgreSQL
delivers a notification when, and only if, its transaction commits.

Correctness comes first:

- The cache answers only while its listener connection is up and recently proved that notifications reach
  it (every few seconds it notifies itself and must hear the echo); while it is connecting, lost, silent,
  or reconnecting with back-off, every lookup goes to the database, and the cache is emptied both when the
  connection is lost and when it is back (changes made in between were never announced to us).
- An answer read from the database is kept only if no notification (and no loss or return of the
  connection) arrived while it was being read, so a change that commits during the read cannot be
  overwritten by the stale row.
- An entry never outlives its session's (or API key's) expiry, and is dropped after ``max_age`` seconds whatever
  happens (a safety net for a connection that dies silently between two pings).
- Only positive answers are kept; the cache is bounded (least recently used entries go first).

PostgreSQL signals the listeners as the change commits, so a notification usually arrives before the
writer's own reply does; on a loaded machine the listener may run a few milliseconds later (measured:
p99 1.6 ms, worst 15 ms with load 5 on 2 cores), and a request served by another replica in that instant
still sees the old state. That is the window any cache fed by notifications has, far below the access
tokens' own lifetime. The replica that made the change has no such window: its use cases call
``forget_user``/``forget_session`` right after their commit (read your own writes), because its own
notification may still be waiting behind the very next request.

The listener needs a real session: behind a transaction-pooling proxy LISTEN hears nothing, the echo
never comes, and the cache simply stays off.

The listener itself is in ``adapters.sql.access.change_listener``; the lookup that uses this cache is
``adapters.sql.access.actor_lookup``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.sign_in import Actor

logger = logging.getLogger("crm.auth_cache")


@dataclass(slots=True)
class _Entry:
    actor: Actor
    expires_at: datetime
    stored_at: float
    # Set for an API key: the hash it is found by.
    key_hash: str | None = None


class ActorCache:
    """The cache itself: no I/O, so that every rule can be tested on its own.

    Entries are kept by session id; an API key's entry is kept by the key's id (its actor's session id)
    and found by the key's hash.

    ``generation`` changes with every notification and every loss or return of the listener; an answer
    read from the database is stored only if the generation did not change meanwhile.
    """

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_age: float = 60.0,
        liveness: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._max_age = max_age
        self._liveness = liveness
        self._monotonic = monotonic
        self._entries: OrderedDict[UUID, _Entry] = OrderedDict()
        self._sessions_of_user: dict[UUID, set[UUID]] = {}
        self._api_key_ids: dict[str, UUID] = {}
        self._listening = False
        self._alive_until = 0.0
        self.generation = 0
        # Told of every notification, and of the listener coming and going ("all": anything may have changed).
        self.on_change: Callable[[str], None] = lambda _: None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def answering(self) -> bool:
        """Whether answers may come from memory: the listener is connected and was heard from lately."""
        return self._listening and self._monotonic() < self._alive_until

    def get(self, session_id: UUID, user_id: UUID, now: datetime, *, key_hash: str | None = None) -> Actor | None:
        """The cached actor, or None when the database must be asked. A session's entry answers only a lookup
        without ``key_hash``, an API key's only the lookup with its own."""
        if not self.answering:
            return None
        entry = self._entries.get(session_id)
        if entry is None or entry.key_hash != key_hash:
            return None
        if (
            entry.actor.user_id != user_id
            or now >= entry.expires_at
            or self._monotonic() - entry.stored_at >= self._max_age
        ):
            self._drop_session(session_id)
            return None
        self._entries.move_to_end(session_id)
        return entry.actor

    def get_api_key(self, key_hash: str, now: datetime) -> Actor | None:
        """The cached actor of the API key with this hash, or None when the database must be asked."""
        key_id = self._api_key_ids.get(key_hash)
        if key_id is None:
            return None
        return self.get(key_id, key_id, now, key_hash=key_hash)

    def put(self, actor: Actor, expires_at: datetime, generation: int, *, key_hash: str | None = None) -> None:
        """Keep what the database answered, unless something changed since ``generation`` was read."""
        if generation != self.generation or not self.answering:
            return
        self._drop_session(actor.session_id)
        self._entries[actor.session_id] = _Entry(actor, expires_at, self._monotonic(), key_hash)
        if key_hash is not None:
            self._api_key_ids[key_hash] = actor.session_id
        self._sessions_of_user.setdefault(actor.user_id, set()).add(actor.session_id)
        while len(self._entries) > self._max_entries:
            oldest, _ = next(iter(self._entries.items()))
            self._drop_session(oldest)

    def invalidate(self, payload: str) -> None:
        """Apply one notification: ``session:<uuid>``, ``api_key:<uuid>``, ``user:<uuid>`` or ``all``."""
        self.heard_from_listener()
        self._forget(payload)
        self.on_change(payload)

    def _forget(self, payload: str) -> None:
        kind, _, value = payload.partition(":")
        try:
            # An API key's entry is kept under its id, as a session's is.
            if kind in ("session", "api_key"):
                self.forget_session(UUID(value))
                return
            if kind == "user":
                self.forget_user(UUID(value))
                return
        except ValueError:
            pass
        if payload != "all":
            logger.warning("Unknown auth change notification %r: emptying the actor cache.", payload)
        self.clear()

    def forget_session(self, session_id: UUID) -> None:
        """Drop the session's entry, and refuse any answer that was being read meanwhile (it may predate
        the change). Unlike a notification, this says nothing about the listener being alive."""
        self.generation += 1
        self._drop_session(session_id)

    def forget_user(self, user_id: UUID) -> None:
        """Drop the entries of every session of the user, as ``forget_session`` does for one."""
        self.generation += 1
        for session_id in list(self._sessions_of_user.get(user_id, ())):
            self._drop_session(session_id)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._sessions_of_user.clear()
        self._api_key_ids.clear()

    def listening_started(self) -> None:
        """The listener is (again) connected: whatever we knew may have changed unannounced."""
        self.clear()
        self._listening = True
        self.heard_from_listener()
        self.on_change("all")

    def listening_stopped(self) -> None:
        was_listening, self._listening = self._listening, False
        self.clear()
        if was_listening:
            self.on_change("all")

    def heard_from_listener(self) -> None:
        now = self._monotonic()
        if now >= self._alive_until:
            # Quiet for too long: treat it like a reconnection, trusting nothing from before.
            self.clear()
        self._alive_until = now + self._liveness

    def _drop_session(self, session_id: UUID) -> None:
        entry = self._entries.pop(session_id, None)
        if entry is None:
            return
        if entry.key_hash is not None:
            self._api_key_ids.pop(entry.key_hash, None)
        sessions = self._sessions_of_user.get(entry.actor.user_id)
        if sessions is not None:
            sessions.discard(session_id)
            if not sessions:
                del self._sessions_of_user[entry.actor.user_id]
