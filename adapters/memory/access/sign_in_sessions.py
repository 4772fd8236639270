"""Sign-in sessions and refresh tokens in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from adapters.memory.transaction import Transaction
from application.ports.sign_in_sessions import SignInSessionRepository
from domain.sign_in import RefreshToken, SignInSession


class InMemorySignInSessionRepository(SignInSessionRepository):
    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def add(self, session: SignInSession) -> None:
        tables = await self._transaction.writable()
        tables.sign_in_sessions[session.id] = replace(session)

    async def get(self, session_id: UUID) -> SignInSession | None:
        session = self._transaction.readable().sign_in_sessions.get(session_id)
        return None if session is None else replace(session)

    async def add_refresh_token(self, token: RefreshToken) -> None:
        tables = await self._transaction.writable()
        tables.refresh_tokens[token.token_hash] = replace(token)

    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None:
        # A locking read, as SELECT ... FOR UPDATE in the SQL adapter.
        token = (await self._transaction.writable()).refresh_tokens.get(token_hash)
        return None if token is None else replace(token)

    async def mark_rotated(self, token_hash: str, at: datetime) -> None:
        tables = await self._transaction.writable()
        token = tables.refresh_tokens.get(token_hash)
        if token is not None:
            tables.refresh_tokens[token_hash] = replace(token, rotated_at=at)

    async def revoke(self, session_id: UUID, at: datetime) -> None:
        tables = await self._transaction.writable()
        session = tables.sign_in_sessions.get(session_id)
        if session is not None and session.revoked_at is None:
            tables.sign_in_sessions[session_id] = replace(session, revoked_at=at)

    async def revoke_all_of_user(self, user_id: UUID, at: datetime, *, keep: UUID | None = None) -> None:
        tables = await self._transaction.writable()
        for session in list(tables.sign_in_sessions.values()):
            if session.user_id == user_id and session.revoked_at is None and session.id != keep:
                tables.sign_in_sessions[session.id] = replace(session, revoked_at=at)
