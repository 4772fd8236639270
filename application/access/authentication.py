"""Who is behind a request: a signed-in user's access token, or an API key."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from application.ports.security import AccessTokens, ActorLookup
from application.ports.system import Clock
from domain.api_keys import hash_of_api_key, looks_like_api_key
from domain.errors import NotAuthenticated
from domain.sign_in import Actor

# An API key's last_used_at is kept to this precision: each process writes it at most this often per key,
# rather than on every request.
API_KEY_USE_PRECISION = timedelta(minutes=1)
# The uses noted are forgotten wholesale past this many keys: a cost of one extra write each, no more.
_MAX_KEYS_NOTED = 10_000


class Authenticate:
    """Who is behind a credential, checked against the current state of its user and session or of its API
    key, so that deleting, demoting or signing out a user, or deleting a key, takes effect on the next request."""

    def __init__(self, tokens: AccessTokens, actors: ActorLookup, clock: Clock) -> None:
        self._tokens = tokens
        self._actors = actors
        self._clock = clock
        self._last_use_noted: dict[UUID, datetime] = {}

    async def execute(self, credential: str) -> Actor:
        if looks_like_api_key(credential):
            return await self._api_key(credential)
        claims = self._tokens.verify(credential)
        actor = await self._actors.find(claims.session_id, claims.user_id, self._clock.now())
        if actor is None:
            raise NotAuthenticated("The sign-in session has ended.")
        return actor

    def access_until(self, credential: str) -> datetime | None:
        """When the credential stops being valid by itself: an access token's expiry; None for an API key, which
        ends only when it is deleted or reaches an expiry that ``execute`` checks."""
        if looks_like_api_key(credential):
            return None
        return self._tokens.verify(credential).expires_at

    async def _api_key(self, key: str) -> Actor:
        now = self._clock.now()
        actor = await self._actors.find_api_key(hash_of_api_key(key), now)
        if actor is None:
            raise NotAuthenticated("The API key is unknown, expired or deleted.")
        await self._note_use(actor.user_id, now)
        return actor

    async def _note_use(self, key_id: UUID, now: datetime) -> None:
        noted = self._last_use_noted.get(key_id)
        if noted is not None and now - noted < API_KEY_USE_PRECISION:
            return
        if len(self._last_use_noted) >= _MAX_KEYS_NOTED:
            self._last_use_noted.clear()
        self._last_use_noted[key_id] = now
        await self._actors.record_api_key_use(key_id, now)
