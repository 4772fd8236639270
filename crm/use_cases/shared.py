"""What every part of the CRM is built on: the settings, the adapters, the clock and ids, password hashes, access
tokens, and Idempotency-Key."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.security.access_tokens import JwtAccessTokens
from adapters.security.answer_seal import AesGcmAnswerSeal
from adapters.security.passwords import Argon2PasswordHasher, HashingCost
from adapters.system.clock import SystemClock
from adapters.system.ids import RandomIds
from application.idempotency import IdempotentRequests, SweepIdempotencyRecords
from crm.settings import Settings
from crm.signing_keys import signing_keys


class Shared(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    adapters = providers.DependenciesContainer()

    clock = providers.Singleton(SystemClock)

    ids = providers.Singleton(RandomIds)

    password_hasher = providers.Singleton(
        Argon2PasswordHasher,
        cost=providers.Factory(
            HashingCost,
            time_cost=settings.provided.password_time_cost,
            memory_kib=settings.provided.password_memory_kib,
            parallelism=settings.provided.password_parallelism,
        ),
    )

    access_tokens = providers.Singleton(
        JwtAccessTokens,
        keys=providers.Factory(signing_keys, settings),
        issuer=settings.provided.token_issuer,
        audience=settings.provided.token_audience,
        lifetime=settings.provided.access_token_lifetime,
        clock=clock,
    )

    # Idempotency-Key on create requests.
    idempotent_requests = providers.Singleton(
        IdempotentRequests,
        records=adapters.idempotency_records,
        clock=clock,
        seal=providers.Singleton(
            AesGcmAnswerSeal, providers.Factory(lambda settings: settings.secret_key.encode(), settings)
        ),
    )

    sweep_idempotency_records = providers.Singleton(
        SweepIdempotencyRecords, records=adapters.idempotency_records, clock=clock
    )
