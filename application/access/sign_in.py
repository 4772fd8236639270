"""Signing in with OAuth 2.0 grants, keeping sign-in sessions alive, and ending them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from application.access.sign_in_throttle import ThrottlePolicy
from application.ports.identity_providers import IdentityProviders
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.security import AccessClaims, AccessTokens, ActorLookup, PasswordHasher
from application.ports.system import Clock, IdGenerator
from application.ports.throttle import SignInThrottle
from domain.errors import InvalidGrant, InvalidInput
from domain.passwords import MAX_LENGTH as MAX_PASSWORD_LENGTH
from domain.sign_in import RefreshToken, SignInSession
from domain.users import User
from domain.values import Email

WRONG_CREDENTIALS = "The e-mail or password is wrong."
NOT_REGISTERED = "No active user is registered with this e-mail; an admin must register you first."
BAD_REFRESH_TOKEN = "The refresh token is invalid, expired or revoked."


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    refresh_token_lifetime: timedelta = timedelta(days=14)
    # However often it is refreshed, a sign-in session ends after this.
    session_lifetime: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str


def hash_refresh_token(token: str) -> str:
    # Refresh tokens carry 256 random bits: a fast hash is enough, no salt or stretching needed.
    return hashlib.sha256(token.encode()).hexdigest()


class SignInTokens:
    """Starts sign-in sessions and hands out token pairs; shared by every grant."""

    def __init__(self, tokens: AccessTokens, ids: IdGenerator, clock: Clock, policy: SessionPolicy) -> None:
        self._tokens = tokens
        self._ids = ids
        self._clock = clock
        self._policy = policy

    async def start_session(self, uow: UnitOfWork, user: User) -> TokenPair:
        now = self._clock.now()
        session = SignInSession(
            id=self._ids.new_id(),
            user_id=user.id,
            created_at=now,
            expires_at=now + self._policy.session_lifetime,
        )
        await uow.sign_in_sessions.add(session)
        return await self.issue(uow, session)

    async def issue(self, uow: UnitOfWork, session: SignInSession) -> TokenPair:
        now = self._clock.now()
        refresh_token = self._ids.new_secret()
        await uow.sign_in_sessions.add_refresh_token(
            RefreshToken(
                token_hash=hash_refresh_token(refresh_token),
                session_id=session.id,
                issued_at=now,
                expires_at=min(now + self._policy.refresh_token_lifetime, session.expires_at),
            )
        )
        access = self._tokens.issue(AccessClaims(user_id=session.user_id, session_id=session.id), now)
        return TokenPair(access.token, access.expires_in, refresh_token)


class SignInWithPassword:
    """The password grant: a registered, active user with the right password gets a new session.

    Wrong password, unknown user and deleted user get the same answer in about the same time, and
    repeated failures are throttled per account and client address.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        sign_in: SignInTokens,
        throttle: SignInThrottle,
        policy: ThrottlePolicy,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._sign_in = sign_in
        self._throttle = throttle
        self._policy = policy
        self._clock = clock

    async def execute(self, email: str, password: str, client: str = "unknown") -> TokenPair:
        rules = self._policy.rules(email.strip().casefold()[:320], client)
        await self._throttle.check(rules, self._clock.now())
        try:
            pair = await self._sign_in_checked(email, password)
        except InvalidGrant:
            await self._throttle.record_failure(rules, self._clock.now())
            raise
        await self._throttle.forget([rules[0].key])
        return pair

    async def _sign_in_checked(self, email: str, password: str) -> TokenPair:
        if len(password) > MAX_PASSWORD_LENGTH:
            # Never hash an absurd input; no account can have such a password anyway.
            raise InvalidGrant(WRONG_CREDENTIALS)
        user = await self._find_user(email)
        # Hash outside any transaction: it takes a fifth of a second and needs no database connection.
        if user is None or user.password_hash is None:
            await self._hasher.verify_nothing(password)
            raise InvalidGrant(WRONG_CREDENTIALS)
        if not await self._hasher.verify(user.password_hash, password):
            raise InvalidGrant(WRONG_CREDENTIALS)
        new_hash = await self._hasher.hash(password) if self._hasher.needs_rehash(user.password_hash) else None
        async with self._uow() as uow:
            current = await uow.users.get(user.id)
            if current is None:
                raise InvalidGrant(WRONG_CREDENTIALS)
            if new_hash is not None and current.password_hash == user.password_hash:
                current.password_hash = new_hash
                await uow.users.update(current)
            pair = await self._sign_in.start_session(uow, current)
            await uow.commit()
        return pair

    async def _find_user(self, email: str) -> User | None:
        try:
            key = Email(email).key
        except InvalidInput:
            return None
        async with self._uow.for_reading() as uow:
            return await uow.users.get_by_email(key)


class SignInWithIdToken:
    """RFC 8693 token exchange: an ID token from a configured OpenID Connect provider, for a user whom
    an admin registered with the same e-mail, starts a session. It never creates users."""

    def __init__(self, uow: UnitOfWorkFactory, providers: IdentityProviders, sign_in: SignInTokens) -> None:
        self._uow = uow
        self._providers = providers
        self._sign_in = sign_in

    async def execute(self, id_token: str) -> TokenPair:
        identity = await self._providers.verify(id_token)
        try:
            email_key = Email(identity.email).key
        except InvalidInput as error:
            raise InvalidGrant(NOT_REGISTERED) from error
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email_key)
            if user is None:
                raise InvalidGrant(NOT_REGISTERED)
            pair = await self._sign_in.start_session(uow, user)
            await uow.commit()
        return pair


class RefreshSignIn:
    """The refresh_token grant. Tokens rotate; a token presented twice ends its whole session,
    because one of the two presenters must have stolen it."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, sign_in: SignInTokens, actors: ActorLookup) -> None:
        self._uow = uow
        self._clock = clock
        self._sign_in = sign_in
        self._actors = actors

    async def execute(self, refresh_token: str) -> TokenPair:
        now = self._clock.now()
        async with self._uow() as uow:
            token = await uow.sign_in_sessions.find_refresh_token(hash_refresh_token(refresh_token))
            if token is None:
                raise InvalidGrant(BAD_REFRESH_TOKEN)
            session = await uow.sign_in_sessions.get(token.session_id)
            if session is None or not session.is_active(now):
                raise InvalidGrant(BAD_REFRESH_TOKEN)
            if token.was_rotated:
                await uow.sign_in_sessions.revoke(session.id, now)
                await uow.commit()
                self._actors.forget_session(session.id)
                raise InvalidGrant(BAD_REFRESH_TOKEN)
            if now >= token.expires_at or await uow.users.get(session.user_id) is None:
                raise InvalidGrant(BAD_REFRESH_TOKEN)
            await uow.sign_in_sessions.mark_rotated(token.token_hash, now)
            pair = await self._sign_in.issue(uow, session)
            await uow.commit()
        return pair


class RevokeSignIn:
    """RFC 7009 revocation: the session behind a refresh token ends. Unknown tokens are ignored."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actors: ActorLookup) -> None:
        self._uow = uow
        self._clock = clock
        self._actors = actors

    async def execute(self, refresh_token: str) -> None:
        async with self._uow() as uow:
            token = await uow.sign_in_sessions.find_refresh_token(hash_refresh_token(refresh_token))
            if token is None:
                return
            await uow.sign_in_sessions.revoke(token.session_id, self._clock.now())
            await uow.commit()
        self._actors.forget_session(token.session_id)
