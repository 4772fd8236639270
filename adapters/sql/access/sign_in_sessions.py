"""Sign-in sessions and their refresh tokens in PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.access.user_tables import refresh_tokens, sign_in_sessions
from application.ports.sign_in_sessions import SignInSessionRepository
from domain.sign_in import RefreshToken, SignInSession


def _session(row: Row[Any]) -> SignInSession:
    return SignInSession(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _token(row: Row[Any]) -> RefreshToken:
    return RefreshToken(
        token_hash=row.token_hash,
        session_id=row.session_id,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        rotated_at=row.rotated_at,
    )


class SqlSignInSessionRepository(SignInSessionRepository):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, session: SignInSession) -> None:
        await self._connection.execute(
            insert(sign_in_sessions).values(
                id=session.id,
                user_id=session.user_id,
                created_at=session.created_at,
                expires_at=session.expires_at,
                revoked_at=session.revoked_at,
            )
        )

    async def get(self, session_id: UUID) -> SignInSession | None:
        result = await self._connection.execute(select(sign_in_sessions).where(sign_in_sessions.c.id == session_id))
        row = result.one_or_none()
        return None if row is None else _session(row)

    async def add_refresh_token(self, token: RefreshToken) -> None:
        await self._connection.execute(
            insert(refresh_tokens).values(
                token_hash=token.token_hash,
                session_id=token.session_id,
                issued_at=token.issued_at,
                expires_at=token.expires_at,
                rotated_at=token.rotated_at,
            )
        )

    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None:
        # The lock makes a second refresh with the same token wait, then see it rotated.
        result = await self._connection.execute(
            select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash).with_for_update()
        )
        row = result.one_or_none()
        return None if row is None else _token(row)

    async def mark_rotated(self, token_hash: str, at: datetime) -> None:
        await self._connection.execute(
            update(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash).values(rotated_at=at)
        )

    async def revoke(self, session_id: UUID, at: datetime) -> None:
        # A session keeps the time it first ended.
        await self._connection.execute(
            update(sign_in_sessions)
            .where(sign_in_sessions.c.id == session_id, sign_in_sessions.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    async def revoke_all_of_user(self, user_id: UUID, at: datetime, *, keep: UUID | None = None) -> None:
        statement = update(sign_in_sessions).where(
            sign_in_sessions.c.user_id == user_id, sign_in_sessions.c.revoked_at.is_(None)
        )
        if keep is not None:
            statement = statement.where(sign_in_sessions.c.id != keep)
        await self._connection.execute(statement.values(revoked_at=at))
